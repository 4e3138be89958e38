import {
  deepStrictEqual,
  equal,
  notDeepStrictEqual,
  ok,
  rejects,
  throws,
} from "node:assert/strict";
import { readResults, runExperiment } from "../src/harness/experiment.ts";
import {
  type CellResult,
  type ExperimentModel,
  prepareCell,
  runCell,
} from "../src/harness/experiment_cell.ts";
import {
  type ExperimentConfig,
  type ExperimentData,
  resolveExperimentConfig,
} from "../src/harness/experiment_config.ts";
import { cellKey, enumerateGrid, type ExperimentCell } from "../src/harness/experiment_grid.ts";
import { storeExperimentData } from "../src/harness/experiment_inputs.ts";
import { openDatasetStore, readWindow } from "../src/data/store.ts";
import { augmentedIdentityDenoiser } from "../src/assim/gaussian.ts";
import { readText, tempDir, tinyStore } from "./experiment_helpers.ts";

const clock = (): number => 0;
const quiet = { progress: false as const, now: clock };
const config = { steps: 4, corrections: 2 };

async function setup(): Promise<{ data: ExperimentData; models: Record<string, ExperimentModel> }> {
  const data = storeExperimentData(await tinyStore());
  const m = (): ExperimentModel => ({ denoiser: augmentedIdentityDenoiser() });
  return {
    data,
    models: { sda: m(), "soad-arctan3x": m(), "soad-sin3x": m(), "soad-full": m() },
  };
}

const cell = (over: Partial<ExperimentCell> = {}): ExperimentCell => ({
  setting: "I",
  ops: ["arctan3x"],
  mask: "p0.25",
  interval: 2,
  seed: 3,
  method: "soad",
  window: 0,
  variant: "base",
  ...over,
});

/**
 * A sampler option at the spec's `spec` stays out of the resolved configuration (the results'
 * identity) and gives the same cell as leaving it out; `other` is kept and changes the cell; 0 is
 * refused. Returns the SOAD model and the cell run with the plain `config`.
 */
async function reachesSamplerOnlyOffSpec(
  data: ExperimentData,
  models: Record<string, ExperimentModel>,
  key: "tau" | "sigmaX",
  spec: number,
  other: number,
): Promise<{ m: ExperimentModel; a: CellResult }> {
  equal(key in resolveExperimentConfig(config), false);
  equal(key in resolveExperimentConfig({ ...config, [key]: spec }), false);
  equal(resolveExperimentConfig({ ...config, [key]: other })[key], other);
  throws(() => resolveExperimentConfig({ [key]: 0 }), new RegExp(`${key} must be finite and > 0`));
  const m = models["soad-arctan3x"];
  const a = await runCell(cell(), data, m, config, clock);
  const b = await runCell(cell(), data, m, { ...config, [key]: spec }, clock);
  const c = await runCell(cell(), data, m, { ...config, [key]: other }, clock);
  deepStrictEqual(b.rmseFrames, a.rmseFrames);
  notDeepStrictEqual(c.rmseFrames, a.rmseFrames);
  return { m, a };
}

/**
 * A results file made with `config` resumes with `same` (the same identity) and is refused with
 * `other`.
 */
async function resumesOnlyWith(
  data: ExperimentData,
  models: Record<string, ExperimentModel>,
  same: ExperimentConfig,
  other: ExperimentConfig,
): Promise<void> {
  const out = tempDir();
  const cells = [cell()];
  await runExperiment({ cells, data, models, config, out, ...quiet });
  const again = await runExperiment({
    cells,
    data,
    models,
    config: same,
    out,
    resume: true,
    ...quiet,
  });
  equal(again.skipped, 1);
  await rejects(
    runExperiment({ cells, data, models, config: other, out, resume: true, ...quiet }),
    /cannot resume .* configuration/,
  );
}

Deno.test("experiment: a cell's draws depend on seed and window, not on method or setting", async () => {
  const { data } = await setup();
  const a = prepareCell(cell(), data, config);
  const b = prepareCell(cell({ method: "sda", setting: "II" }), data, config);
  equal(a.start, b.start);
  deepStrictEqual(a.observations[0].values, b.observations[0].values);
  deepStrictEqual(a.observations[0].mask.indices, b.observations[0].mask.indices);
  equal(a.observations[0].mask.indices.length, Math.floor(0.25 * 256));
  deepStrictEqual(a.observations[0].frames, [0, 2, 4, 6, 8]);
  ok(a.background && !b.background, "background only in setting I for SOAD");
  const c = prepareCell(cell({ seed: 4 }), data, config);
  notDeepStrictEqual(c.observations[0].mask.indices, a.observations[0].mask.indices);
  const s = prepareCell(cell({ mask: "s4", ops: ["arctan3x", "sin3x"], setting: "III" }), data);
  equal(s.observations.length, 2);
  equal(s.observations[0].mask, s.observations[1].mask, "a stride mask is shared");
  // the unknown background: a 1-day forecast of the previous day, close to frame 0 but not equal
  const u = prepareCell(cell({ variant: "unknown-bg" }), data, { ...config, forecastSteps: 20 });
  const R = 256;
  let d = 0, n = 0;
  for (let i = 0; i < 2 * R; i++) {
    d += (u.background![i] - u.truth[i]) ** 2;
    n += u.truth[i] ** 2;
  }
  ok(d > 0 && d < n, `forecast error ${d.toFixed(2)} vs truth energy ${n.toFixed(2)}`);
});

Deno.test("experiment: SDA's setting-II cell repeats its setting-I cell (why the grid skips it)", async () => {
  const { data, models } = await setup();
  const [a, b] = await Promise.all(
    (["I", "II"] as const).map((setting) =>
      runCell(cell({ method: "sda", setting }), data, models.sda, config, clock)
    ),
  );
  deepStrictEqual(a.rmseFrames, b.rmseFrames);
  equal(a.rmse, b.rmse);
  // while SOAD uses it
  const s = await Promise.all(
    (["I", "II"] as const).map((setting) =>
      runCell(cell({ setting }), data, models["soad-arctan3x"], config, clock)
    ),
  );
  notDeepStrictEqual(s[0].rmseFrames, s[1].rmseFrames);
});

Deno.test("experiment: runCell is deterministic; S > 1 adds spread-skill and CRPS", async () => {
  const { data, models } = await setup();
  const a = await runCell(cell(), data, models["soad-arctan3x"], config, clock);
  const b = await runCell(cell(), data, models["soad-arctan3x"], config, clock);
  deepStrictEqual(a, b);
  equal(a.rmseFrames.length, 9);
  equal(a.stepRmse!.length, 4);
  ok(Number.isFinite(a.rmse) && a.rmse > 0);
  // the cell's RMSE is the mean of its per-frame RMSEs (both rounded to 6 decimals)
  const frameAvg = a.rmseFrames.reduce((s, v) => s + v, 0) / a.rmseFrames.length;
  ok(Math.abs(a.rmse - frameAvg) <= 2e-6, `${a.rmse} vs ${frameAvg}`);
  equal(a.spreadSkill, undefined);
  const e = await runCell(cell({ method: "sda" }), data, models.sda, { ...config, samples: 3 });
  ok(e.spreadSkill! > 0 && e.crps! > 0 && e.rmseMembers! > 0, JSON.stringify(e));
  equal(e.completed, 3);
  const f = await runCell(cell({ variant: "no-fdc" }), data, models["soad-arctan3x"], config);
  notDeepStrictEqual(f.rmseFrames, a.rmseFrames);
});

Deno.test("experiment: tau reaches the sampler; the spec's 0.25 stays out of the results' identity", async () => {
  const { data, models } = await setup();
  await reachesSamplerOnlyOffSpec(data, models, "tau", 0.25, 1);
  // a results file made with the spec's tau resumes with it, not with another tau
  await resumesOnlyWith(data, models, { ...config, tau: 0.25 }, { ...config, tau: 1 });
});

Deno.test("experiment: sigmaX and clipScale reach SOAD's likelihood, not SDA's; the spec's 1 stays out of the results' identity", async () => {
  const { data, models } = await setup();
  const { m, a } = await reachesSamplerOnlyOffSpec(data, models, "sigmaX", 1, 0.03);
  // SDA's cells run as before (its likelihood has gamma, not sigmaX)
  const sda = cell({ method: "sda" });
  const s1 = await runCell(sda, data, models.sda, config, clock);
  const s2 = await runCell(sda, data, models.sda, { ...config, sigmaX: 0.03 }, clock);
  deepStrictEqual(s2.rmseFrames, s1.rmseFrames);
  // the clip scale κ: the same rules
  equal("clipScale" in resolveExperimentConfig({ ...config, clipScale: 1 }), false);
  equal(resolveExperimentConfig({ ...config, clipScale: 2 }).clipScale, 2);
  throws(() => resolveExperimentConfig({ clipScale: -1 }), /clipScale must be finite and > 0/);
  const k = await runCell(cell(), data, m, { ...config, clipScale: 2 }, clock);
  notDeepStrictEqual(k.rmseFrames, a.rmseFrames);
  const s3 = await runCell(sda, data, models.sda, { ...config, clipScale: 2 }, clock);
  deepStrictEqual(s3.rmseFrames, s1.rmseFrames);
  // SDA's own clip scale reaches its cells only
  equal(resolveExperimentConfig({ ...config, sdaClipScale: 2 }).sdaClipScale, 2);
  equal("sdaClipScale" in resolveExperimentConfig({ ...config, sdaClipScale: 1 }), false);
  const s4 = await runCell(sda, data, models.sda, { ...config, sdaClipScale: 1e-3 }, clock);
  notDeepStrictEqual(s4.rmseFrames, s1.rmseFrames);
  const k4 = await runCell(cell(), data, m, { ...config, sdaClipScale: 1e-3 }, clock);
  deepStrictEqual(k4.rmseFrames, a.rmseFrames);
  // a results file made with the spec's sigmaX resumes with it, not with another
  await resumesOnlyWith(data, models, { ...config, sigmaX: 1 }, { ...config, sigmaX: 0.03 });
});

Deno.test("experiment: sparse settings run the cells whose mask is below their threshold, for their method only; they are part of the identity", async () => {
  const { data, models } = await setup();
  const m = models["soad-arctan3x"];
  const sparse = { below: 0.125, steps: 2, clipScale: 2 };
  const withSparse = { ...config, sparse };
  // stride 4 (1/16 of the grid) without a background: the sparse K and κ, as if given for the cell
  const s4 = cell({ mask: "s4", setting: "II" });
  const a = await runCell(s4, data, m, withSparse, clock);
  const b = await runCell(s4, data, m, { ...config, steps: 2, clipScale: 2 }, clock);
  deepStrictEqual(a.rmseFrames, b.rmseFrames);
  equal(a.sparseSampler, true);
  notDeepStrictEqual(a.rmseFrames, (await runCell(s4, data, m, config, clock)).rmseFrames);
  // p = 0.25 is not below 0.125, and setting I has a background (all of frame 0 observed): the
  // run's own settings
  for (const dense of [cell({ setting: "II" }), cell({ mask: "s4" })]) {
    const r = await runCell(dense, data, m, withSparse, clock);
    deepStrictEqual(r.rmseFrames, (await runCell(dense, data, m, config, clock)).rmseFrames);
    equal("sparseSampler" in r, false);
  }
  // SDA's cells take sdaSparse, not SOAD's settings
  const sda = cell({ method: "sda", mask: "s4" });
  const d = await runCell(sda, data, models.sda, config, clock);
  deepStrictEqual(
    (await runCell(sda, data, models.sda, withSparse, clock)).rmseFrames,
    d.rmseFrames,
  );
  const ds = await runCell(sda, data, models.sda, { ...config, sdaSparse: sparse }, clock);
  deepStrictEqual(
    ds.rmseFrames,
    (await runCell(sda, data, models.sda, { ...config, steps: 2, sdaClipScale: 2 }, clock))
      .rmseFrames,
  );
  // the identity: absent stays absent (old results resume); another setting is refused
  await resumesOnlyWith(data, models, config, withSparse);
});

Deno.test("experiment: refresh reaches the sampler; the spec's stale corrector stays out of the identity", async () => {
  const { data, models } = await setup();
  equal("refresh" in resolveExperimentConfig(config), false);
  equal("refresh" in resolveExperimentConfig({ ...config, refresh: false }), false);
  equal(resolveExperimentConfig({ ...config, refresh: true }).refresh, true);
  throws(
    () => resolveExperimentConfig({ refresh: "yes" as unknown as boolean }),
    /refresh must be a boolean/,
  );
  const m = models["soad-arctan3x"];
  const a = await runCell(cell(), data, m, config, clock);
  const b = await runCell(cell(), data, m, { ...config, refresh: false }, clock);
  const c = await runCell(cell(), data, m, { ...config, refresh: true }, clock);
  deepStrictEqual(b.rmseFrames, a.rmseFrames);
  notDeepStrictEqual(c.rmseFrames, a.rmseFrames);
  // a results file of the spec's corrector does not resume as a refreshed one
  const out = tempDir();
  const cells = [cell()];
  await runExperiment({ cells, data, models, config, out, ...quiet });
  await rejects(
    runExperiment({
      cells,
      data,
      models,
      config: { ...config, refresh: true },
      out,
      resume: true,
      ...quiet,
    }),
    /cannot resume .* configuration/,
  );
});

Deno.test("experiment: backgroundLikelihood reaches setting I's SOAD cells only; off stays out of the identity", async () => {
  const { data, models } = await setup();
  equal("backgroundLikelihood" in resolveExperimentConfig(config), false);
  equal(
    "backgroundLikelihood" in resolveExperimentConfig({ ...config, backgroundLikelihood: false }),
    false,
  );
  equal(
    resolveExperimentConfig({ ...config, backgroundLikelihood: true }).backgroundLikelihood,
    true,
  );
  throws(
    () => resolveExperimentConfig({ backgroundLikelihood: 1 as unknown as boolean }),
    /backgroundLikelihood must be a boolean/,
  );
  const on = { ...config, backgroundLikelihood: true };
  const m = models["soad-arctan3x"];
  const a = await runCell(cell(), data, m, config, clock);
  const c = await runCell(cell(), data, m, on, clock);
  notDeepStrictEqual(c.rmseFrames, a.rmseFrames);
  // setting II has no background and SDA never uses one: the option changes nothing there
  for (const over of [{ setting: "II" as const }, { method: "sda" as const }]) {
    const mm = over.method === "sda" ? models.sda : m;
    deepStrictEqual(
      (await runCell(cell(over), data, mm, on, clock)).rmseFrames,
      (await runCell(cell(over), data, mm, config, clock)).rmseFrames,
    );
  }
  const out = tempDir();
  await runExperiment({ cells: [cell()], data, models, config, out, ...quiet });
  await rejects(
    runExperiment({ cells: [cell()], data, models, config: on, out, resume: true, ...quiet }),
    /cannot resume .* configuration/,
  );
});

Deno.test("experiment: interrupted + resumed run writes the same files as one run", async () => {
  const { data, models } = await setup();
  const cells = enumerateGrid({
    ops: ["arctan3x", "sin3x"],
    masks: ["p0.25", "s4"],
    intervals: [1, 4],
    seeds: [0, 1],
    settings: ["I", "II", "III"],
    variants: ["base", "noise-laplace"],
  });
  // variants × (setting I: 2 ops × 2 methods; II: 2 ops, SOAD only; III: 1 set × 2 methods)
  equal(cells.length, 2 * (32 + 16 + 16));
  const sub = cells.filter((_, i) => i % 5 === 0); // keep the test short
  const one = tempDir();
  const r1 = await runExperiment({ cells: sub, data, models, config, out: one, ...quiet });
  equal(r1.ran, sub.length);
  const two = tempDir();
  const part = await runExperiment({
    cells: sub,
    data,
    models,
    config,
    out: two,
    limit: 5,
    ...quiet,
  });
  equal(part.ran, 5);
  equal(part.remaining, sub.length - 5);
  equal((await readResults(two))!.cells.length, 5);
  await rejects(
    runExperiment({ cells: sub, data, models, config, out: two, ...quiet }),
    /results\.json exists; pass resume/,
  );
  await rejects(
    runExperiment({
      cells: sub,
      data,
      models,
      config: { steps: 8 },
      out: two,
      resume: true,
      ...quiet,
    }),
    /cannot resume .* configuration/,
  );
  await rejects(
    runExperiment({
      cells: sub,
      data,
      models,
      config,
      out: two,
      resume: true,
      inputs: { x: 1 },
      ...quiet,
    }),
    /cannot resume .* inputs/,
  );
  const rest = await runExperiment({
    cells: sub,
    data,
    models,
    config,
    out: two,
    resume: true,
    ...quiet,
  });
  equal(rest.skipped, 5);
  equal(rest.ran, sub.length - 5);
  const files = ["results.json", "results.csv", "summary.md"];
  deepStrictEqual(readText(two, files), readText(one, files));
  // CSV and JSON shape
  const csv = Deno.readTextFileSync(`${one}/results.csv`).trimEnd().split("\n");
  equal(csv.length, sub.length + 1);
  const head = csv[0].split(",");
  // identity, frames, members/spread/crps, 2 baselines, amplitude/correlation, completed/seconds
  equal(head.length, 12 + 9 + 9);
  ok(csv.slice(1).every((l) => l.split(",").length === head.length));
  const json = (await readResults(one))!;
  equal(json.stepT.length, 4);
  deepStrictEqual(json.cells.map((c) => c.key), sub.map(cellKey));
  ok(
    r1.files.some((f) => f.includes("/heatmaps/")) &&
      r1.files.some((f) => f.includes("/stepwise/")),
  );
});

Deno.test("experiment: bad input fails before any cell runs", async () => {
  const { data, models } = await setup();
  const out = tempDir();
  const vor = enumerateGrid({
    ops: ["vor2vel"],
    masks: ["p1"],
    intervals: [1],
    seeds: [0],
    settings: ["II"],
  });
  await rejects(
    runExperiment({ cells: vor, data, models, config, out, ...quiet }),
    /no model for soad-vor2vel/,
  );
  const far = [cell({ window: 5 })];
  await rejects(
    runExperiment({ cells: far, data, models, config, out, ...quiet }),
    /test window 5 is out of range/,
  );
  await rejects(
    runCell(cell(), data, { denoiser: augmentedIdentityDenoiser(), channels: 2 }, config),
    /has 2 channels; arctan3x needs 4/,
  );
  equal(await readResults(out), undefined);
});

Deno.test("experiment: the valid split reads the store's validation windows, normalised", async () => {
  const path = await tinyStore();
  const store = openDatasetStore(path);
  const norm = { offset: [0, 0], std: [2e-6, 5e-7] };
  for (const split of ["test", "valid"] as const) {
    const data = storeExperimentData(path, norm, split);
    const [w0, w1] = store.attrs.split[split];
    equal(data.count, w1 - w0);
    const raw = readWindow(store, w0 + data.count - 1);
    const x = data.window(data.count - 1);
    const R = data.height * data.width;
    for (const k of [0, R + 5, x.length - 1]) {
      const c = Math.floor(k / R) % 2;
      ok(Math.abs(x[k] - raw[k] / norm.std[c]) <= 1e-6 * Math.abs(x[k]) + 1e-12, `${split} ${k}`);
    }
    throws(() => data.window(data.count), new RegExp(`${split} window`));
  }
  notDeepStrictEqual(
    storeExperimentData(path, norm, "valid").window(0),
    storeExperimentData(path, norm, "test").window(0),
  );
  throws(() => storeExperimentData(path, norm, "train" as "test"), /test or valid/);
});
