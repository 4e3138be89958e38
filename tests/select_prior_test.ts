// Checkpoint selection by ensemble scores on the valid split (deno task select-prior): a tiny
// prior trained on the tiny store against a deliberately broken copy of it, the same draws for
// every candidate, refusal of candidates that do not match, and the test split never read.
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { IntegrityError, InvalidArgumentError } from "../src/errors.ts";
import { storeExperimentData } from "../src/harness/experiment_inputs.ts";
import { readResults } from "../src/harness/experiment.ts";
import { rankByCrps, selectPrior } from "../src/harness/select_prior.ts";
import {
  readSafetensors,
  readSafetensorsMetadata,
  writeSafetensors,
} from "../src/io/safetensors.ts";
import { StoreSource } from "../src/train/store_source.ts";
import { train } from "../src/train/trainer.ts";
import { runCandidates } from "../tasks/select_prior.ts";
import { tempDir, tinyCheckpoint, tinyStore } from "./experiment_helpers.ts";
import { runTask } from "./task_helpers.ts";

await selectBackend({ prefer: "wasm", quiet: true, threads: 1 });

const dir = tempDir("soad_select_");
const unet = { channels: 4, widths: [4, 8], blocks: 1, kernel: 3, frames: 9 };
/** Small sampler settings: 2 cells (1 valid window × 2 seeds), K = 4, M = 1, S = 3. */
const small = { seeds: [0, 1], samples: 3, steps: 4, tMax: 0.85, corrections: 1 };

let fixture: Promise<{ data: string; run: string; good: string; bad: string }> | undefined;
/** The tiny store with its test window deleted, a tiny trained run, and a broken copy of its best. */
function setup(): Promise<{ data: string; run: string; good: string; bad: string }> {
  fixture ??= (async () => {
    const data = `${dir}/tiny-no-test.zarr`;
    await new Deno.Command("cp", { args: ["-r", await tinyStore(), data] }).output();
    assert.deepEqual(storeExperimentData(data, undefined, "test").count, 1);
    // the test split of this copy (window 9) is gone: any read of it fails (checked below)
    await Deno.remove(`${data}/q/9.0.0.0.0`);
    const run = `${dir}/run`;
    await train({
      out: run,
      source: StoreSource.open(data),
      config: {
        model: "arctan3x",
        unet,
        frames: 9,
        batchSize: 2,
        steps: 30,
        lr: 3e-3,
        validEvery: 10,
        validSamples: 2,
        ema: 0.9,
        keepEvery: 15,
      },
      workers: 0,
      progress: false,
    });
    const good = `${run}/best.safetensors`;
    // deliberately bad: the same network with +2 on every predicted noise value
    const bytes = await Deno.readFile(good);
    const w = readSafetensors(bytes);
    w.get("up.1.conv.bias")!.data.forEach((v, i, a) => a[i] = v + 2);
    const bad = `${dir}/bad.safetensors`;
    await Deno.writeFile(bad, writeSafetensors(w, readSafetensorsMetadata(bytes)));
    return { data, run, good, bad };
  })();
  return fixture;
}

/** A copy of `path` with its metadata changed by `edit`. */
async function withMeta(
  path: string,
  name: string,
  edit: (m: Record<string, string>) => void,
): Promise<string> {
  const bytes = await Deno.readFile(path);
  const m = { ...readSafetensorsMetadata(bytes) };
  edit(m);
  const out = `${dir}/${name}.safetensors`;
  await Deno.writeFile(out, writeSafetensors(readSafetensors(bytes), m));
  return out;
}

Deno.test("rankByCrps: lowest CRPS first, then ensemble-mean RMSE, then order; missing last", () => {
  const s = (crps: number | null, rmse: number) => ({ crps, rmseEnsembleMean: rmse });
  assert.deepEqual(rankByCrps([s(0.3, 1), s(0.1, 9), s(null, 0), s(0.1, 2), s(0.1, 2)]), [
    4,
    3,
    5,
    1,
    2,
  ]);
});

Deno.test("select-prior: the broken candidate ranks last, whatever the order; same draws for all", async () => {
  const f = await setup();
  const run = (candidates: string[], out: string) =>
    selectPrior({ candidates, data: f.data, out, progress: false, now: () => 0, ...small });
  const a = await run([f.bad, f.good], `${dir}/sel-a`);
  assert.equal(a.data.split, "valid");
  assert.equal(a.data.windows, 1);
  assert.equal(a.grid.cells, 2);
  assert.deepEqual(a.grid.ops, ["arctan3x"]);
  const [bad, good] = a.candidates;
  assert.ok(good.crps! < bad.crps!, `CRPS good ${good.crps} vs bad ${bad.crps}`);
  assert.ok(good.rmseEnsembleMean < bad.rmseEnsembleMean);
  assert.equal(good.rank, 1);
  assert.equal(bad.rank, 2);
  assert.equal(a.chosen.path, f.good);
  assert.equal(good.weights, "ema"); // best.safetensors of an EMA run
  // the members' own RMSE is never below the RMSE of their mean (convexity)
  for (const c of a.candidates) assert.ok(c.rmseSingle! >= c.rmseEnsembleMean - 1e-6);
  // the order given does not change the choice or the scores
  const b = await run([f.good, f.bad], `${dir}/sel-b`);
  assert.equal(b.chosen.path, f.good);
  assert.deepEqual(b.candidates.map((c) => c.crps), [good.crps, bad.crps]);
  // every candidate saw the same chunks, observations and noise: identical baselines per cell
  const cellsOf = async (sha: string) =>
    (await readResults(`${dir}/sel-a/candidates/${sha.slice(0, 12)}`))!.cells;
  const [cb, cg] = [await cellsOf(bad.sha256), await cellsOf(good.sha256)];
  assert.deepEqual(cb.map((c) => c.key), cg.map((c) => c.key));
  assert.deepEqual(
    cb.map((c) => [c.start, c.pointwise, c.climatology]),
    cg.map((c) => [
      c.start,
      c.pointwise,
      c.climatology,
    ]),
  );
  assert.ok(cg.every((c) => c.window === 0 && c.crps !== undefined));
  const written = JSON.parse(await Deno.readTextFile(`${dir}/sel-a/selection.json`));
  assert.equal(written.chosen.sha256, good.sha256);
  const csv = (await Deno.readTextFile(`${dir}/sel-a/selection.csv`)).trim().split("\n");
  assert.equal(csv.length, 3);
  assert.ok(csv[2].startsWith(`1,"${f.good}"`), csv[2]);
});

Deno.test("select-prior reads only the valid split: the store's test window is deleted", async () => {
  const f = await setup();
  assert.throws(() => storeExperimentData(f.data, undefined, "test"), IntegrityError);
  // (the selection above ran on this very store; a valid window reads fine)
  assert.equal(storeExperimentData(f.data, undefined, "valid").window(0).length, 10 * 2 * 256);
});

Deno.test("select-prior refuses candidates that do not match, before sampling", async () => {
  const f = await setup();
  const refused = async (candidates: string[], re: RegExp, extra = {}) => {
    const out = `${dir}/refused-${crypto.randomUUID()}`;
    await assert.rejects(
      selectPrior({ candidates, data: f.data, out, progress: false, ...small, ...extra }),
      (e: Error) => e instanceof InvalidArgumentError && re.test(e.message),
    );
    await assert.rejects(Deno.stat(`${out}/selection.json`));
  };
  const sda = tinyCheckpoint(dir, "sda", 2);
  await refused([f.good, sda], /candidates do not match: .*trained for model "arctan3x", .* "sda"/);
  const grid = await withMeta(f.good, "grid32", (m) => {
    const p = JSON.parse(m.soad_prior);
    p.trainedFor.grid = [32, 32];
    m.soad_prior = JSON.stringify(p);
  });
  await refused([f.good, grid], /candidates do not match: .* has grid \[16,16\], .* \[32,32\]/);
  await refused([grid], /trained on a 32x32 grid, the data are 16x16/);
  const norm = await withMeta(f.good, "norm", (m) => {
    const n = JSON.parse(m.normalisation);
    n.std = n.std.map((s: number) => 2 * s);
    m.normalisation = JSON.stringify(n);
  });
  await refused([f.good, norm], /different normalisations .*--allow-mismatch/);
  // the same physics from another store (std 0.05 % apart): scored, with a note, as by the
  // demo, experiment and cycle tasks (checkNormalisationsMatch)
  const near = await withMeta(f.good, "near", (m) => {
    const n = JSON.parse(m.normalisation);
    n.std = n.std.map((s: number) => 1.0005 * s);
    m.normalisation = JSON.stringify(n);
  });
  const nearRun = await selectPrior({
    candidates: [f.good, near],
    data: f.data,
    out: `${dir}/near`,
    progress: false,
    ...small,
    seeds: [0],
  });
  assert.equal(nearRun.warnings.length, 1);
  assert.match(nearRun.warnings[0], /normalisations 0\.050 % apart \(within 1 %\)/);
  const k = await withMeta(f.good, "k16", (m) => {
    const p = JSON.parse(m.soad_prior);
    p.sampler.steps = 16;
    m.soad_prior = JSON.stringify(p);
  });
  await refused([f.good, k], /different K .*pass --steps/, { steps: undefined });
  // τ likewise: a candidate whose metadata names another τ is scored with the same one or refused
  const tau = await withMeta(f.good, "tau", (m) => {
    const p = JSON.parse(m.soad_prior);
    p.sampler.tau = 0.5;
    m.soad_prior = JSON.stringify(p);
  });
  await refused([f.good, tau], /different tau \(.*: 0\.25, .*: 0\.5\); pass --tau/);
  const both = await selectPrior({
    candidates: [tau],
    data: f.data,
    out: `${dir}/tau`,
    progress: false,
    ...small,
    seeds: [0],
  });
  assert.equal(both.config.tau, 0.5, "the metadata's tau reaches the sampler");
  const given = await selectPrior({
    candidates: [f.good, tau],
    data: f.data,
    out: `${dir}/tau-given`,
    progress: false,
    ...small,
    seeds: [0],
    tau: 0.25,
  });
  assert.equal(given.config.tau, undefined, "the spec's tau stays out of the identity");
  await refused([f.good, `${f.run}/checkpoint.safetensors`], /is a training checkpoint/);
  await refused([f.good], /samples must be an integer >= 2/, { samples: 1 });
  await refused([f.good], /windows must be an integer in \[1, 1\]/, { windows: 2 });
  // allowed through with --allow-mismatch, said in the result
  const r = await selectPrior({
    candidates: [f.good, norm],
    data: f.data,
    out: `${dir}/mismatch-allowed`,
    allowMismatch: true,
    progress: false,
    ...small,
    seeds: [0],
  });
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /different normalisations/);
});

Deno.test("deno task select-prior --run: a run's snapshots and a candidate; table, files, resume", async () => {
  const f = await setup();
  assert.deepEqual(runCandidates(f.run).map((p) => p.slice(f.run.length + 1)), [
    "best.safetensors",
    "step-15.safetensors",
    "step-30.safetensors",
    "model-ema.safetensors",
    "model.safetensors",
  ]);
  const out = `${dir}/cli`;
  const args = [
    ...["--data", f.data, "--run", f.run, "--candidate", f.bad, "--out", out],
    ...["--seeds", "0", "--samples", "2", "--steps", "2", "--t-max", "0.85"],
    ...["--corrections", "0", "--threads", "1", "--quiet"],
  ];
  const r = await runTask("select_prior.ts", ...args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /valid split, 1 window\(s\); arctan3x priors, setting I/);
  assert.match(r.out, /rank +candidate +step +CRPS +ens-mean RMSE +single RMSE/);
  assert.match(r.out, /chosen \(lowest CRPS\): /);
  const sel = JSON.parse(await Deno.readTextFile(`${out}/selection.json`));
  // the table lists the candidates best first (not in the order given): rank 1, 2, 3, …
  const lines = r.out.split("\n");
  const head = lines.findIndex((l) => /^rank +candidate/.test(l));
  const ranks = lines.slice(head + 1, head + 1 + sel.candidates.length).map((l) =>
    Number(l.split(/ +/)[0])
  );
  assert.deepEqual(ranks, sel.candidates.map((_: unknown, i: number) => i + 1));
  assert.match(lines[head + sel.candidates.length], new RegExp(` ${f.bad} `));
  // files with the same bytes (step-30 and model-ema: the final EMA) are scored once
  const digest = async (p: string) =>
    [...new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(p)))].join();
  const unique = new Set(await Promise.all([...runCandidates(f.run), f.bad].map(digest)));
  assert.ok(unique.size <= 5);
  assert.equal(sel.candidates.length, unique.size);
  assert.equal(sel.candidates.at(-1).path, f.bad);
  assert.notEqual(sel.chosen.path, f.bad);
  // a second run into the same folder is refused; --resume reuses the finished cells
  const again = await runTask("select_prior.ts", ...args);
  assert.equal(again.code, 1);
  assert.match(again.err, /already exists and is not empty .*--force/);
  const resumed = await runTask("select_prior.ts", ...args, "--resume");
  assert.equal(resumed.code, 0, resumed.err);
  const sel2 = JSON.parse(await Deno.readTextFile(`${out}/selection.json`));
  assert.deepEqual(sel2.candidates, sel.candidates);
  const none = await runTask("select_prior.ts", "--data", f.data, "--out", `${dir}/none`);
  assert.equal(none.code, 1);
  assert.match(none.err, /give candidates: --run DIR and\/or --candidate F/);
});

Deno.test("select-prior: sigma-x, the clip scale and the sparse settings of the candidates' metadata reach their method's cells", async () => {
  const f = await setup();
  const guided = await withMeta(f.good, "guided", (m) => {
    const p = JSON.parse(m.soad_prior);
    p.sampler.sigmaX = 0.03;
    p.sampler.clipScale = 8;
    m.soad_prior = JSON.stringify(p);
  });
  const run = (candidates: string[], name: string, extra = {}) =>
    selectPrior({
      candidates,
      data: f.data,
      out: `${dir}/${name}`,
      progress: false,
      ...small,
      seeds: [0],
      ...extra,
    });
  const soad = await run([guided], "guided");
  assert.equal(soad.config.sigmaX, 0.03);
  assert.equal(soad.config.clipScale, 8);
  assert.equal(soad.config.sdaClipScale, undefined);
  // an SDA candidate's clip scale reaches the SDA cells (as sdaClipScale), not SOAD's setting
  const good = JSON.parse(readSafetensorsMetadata(await Deno.readFile(f.good)).soad_prior);
  const bare = await Deno.readFile(tinyCheckpoint(dir, "sda", 2));
  const sdaPath = `${dir}/sda-k8.safetensors`;
  await Deno.writeFile(
    sdaPath,
    writeSafetensors(readSafetensors(bare), {
      model: "sda",
      soad_prior: JSON.stringify({
        ...good,
        trainedFor: { ...good.trainedFor, method: "sda", model: "sda", operators: [], channels: 2 },
        sampler: { tMax: 0.85, steps: 4, clipScale: 8 },
      }),
    }),
  );
  const sda = await run([sdaPath], "sda-k8");
  assert.equal(sda.config.sdaClipScale, 8);
  assert.equal(sda.config.clipScale, undefined);
  // the candidates' sparse-observation settings reach the cells too (SOAD's as sparse), less what
  // a given value fixes
  const sparse = await withMeta(f.good, "sparse", (m) => {
    const p = JSON.parse(m.soad_prior);
    p.sampler.sparse = { below: 0.5, steps: 2, clipScale: 2 };
    m.soad_prior = JSON.stringify(p);
  });
  // (the runs here give steps)
  const sp = await run([sparse], "sparse");
  assert.deepEqual(sp.config.sparse, { below: 0.5, clipScale: 2 });
  const sp2 = await run([sparse], "sparse2", { clipScale: 3 });
  assert.equal(sp2.config.sparse, undefined);
});
