// Slow (deno task test:slow): the kill -9 harness of issue 18. generate, train, experiment and
// cycle are each SIGKILLed at >= 20 random moments (seeded, so a failure can be replayed: the seed
// and every delay are printed) and resumed each time; the finished outputs must equal an
// uninterrupted run's byte for byte (wall-clock fields aside), with no stray temporary files.
import assert from "node:assert/strict";
import { resolveParams } from "../../src/qg/params.ts";
import { simulateTruth } from "../../src/harness/truth.ts";
import { writeNpy } from "../../src/io/npy.ts";
import { Rng } from "../../src/rng.ts";
import { readTree, treeDiff } from "../data_helpers.ts";
import { tinyCheckpoint } from "../experiment_helpers.ts";

const KILLS = 20;
const SEED = Number(Deno.env.get("SOAD_KILL_SEED") ?? 18);
const root = await Deno.makeTempDir({ prefix: "soad_kill_" });
const task = (name: string) => new URL(`../../tasks/${name}`, import.meta.url).pathname;

interface Run {
  code: number | null;
  killed: boolean;
}

/** Starts `deno run` of a task; kills it with SIGKILL after `delayMs` unless it ends first. */
async function runOnce(script: string, args: string[], delayMs: number | null): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", script, ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let killed = false;
  const timer = delayMs === null ? undefined : setTimeout(() => {
    try {
      child.kill("SIGKILL");
      killed = true;
    } catch {
      // already finished
    }
  }, delayMs);
  const [status, err] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  if (!killed && !status.success) throw new Error(`${script} ${args.join(" ")} failed:\n${err}`);
  return { code: status.code, killed: killed && !status.success };
}

/** Units of work done so far in an output (windows, steps, cells), from its files. */
type Progress = () => number;

/**
 * Kills the task at `KILLS` random moments after each (re)start, resuming each time, then lets
 * it finish. Delays are uniform between half the time the task takes to produce its first unit
 * of work and that time plus 1/30 of the rest of the uninterrupted run, so that the kills land
 * everywhere (during start-up, mid-write, between units) and 20 of them leave work to do.
 * `next()` gives the arguments of each restart. Returns the delays of the kills that landed and
 * how many of them came after progress had been made since the previous kill.
 */
async function killAndResume(
  script: string,
  next: () => string[],
  rng: Rng,
  [firstMs, restMs]: [number, number],
  progress: Progress,
): Promise<{ landed: number[]; advanced: number }> {
  const landed: number[] = [];
  let advanced = 0, before = progress();
  const lo = firstMs / 2, hi = firstMs + restMs / 30;
  for (let attempt = 0; landed.length < KILLS && attempt < 4 * KILLS; attempt++) {
    const delay = Math.round(lo + rng.uniform() * (hi - lo));
    const r = await runOnce(script, next(), delay);
    if (!r.killed) return { landed, advanced }; // finished before the kill
    landed.push(delay);
    const now = progress();
    if (now > before) advanced++;
    before = now;
  }
  await runOnce(script, next(), null);
  return { landed, advanced };
}

/**
 * Runs the task once uninterrupted, watching its output: milliseconds until its first unit of
 * work appears, and the rest of the run.
 */
async function timings(
  script: string,
  args: string[],
  progress: Progress,
): Promise<[number, number]> {
  const t0 = performance.now();
  let first = -1;
  const poll = setInterval(() => {
    if (first < 0 && progress() > 0) first = performance.now() - t0;
  }, 10);
  await runOnce(script, args, null);
  clearInterval(poll);
  const total = performance.now() - t0;
  if (first < 0) first = total;
  return [first, Math.max(0, total - first)];
}

function countFiles(dir: string, re: RegExp): number {
  try {
    return [...Deno.readDirSync(dir)].filter((e) => re.test(e.name)).length;
  } catch {
    return 0;
  }
}

function checkpointStep(dir: string): number {
  try {
    const log = Deno.readTextFileSync(`${dir}/log.csv`).trim().split("\n");
    Deno.statSync(`${dir}/checkpoint.safetensors`);
    return log.length - 1;
  } catch {
    return 0;
  }
}

function cellCount(dir: string): number {
  try {
    return JSON.parse(Deno.readTextFileSync(`${dir}/results.json`)).cells.length;
  } catch {
    return 0;
  }
}

function report(what: string, seed: number, r: { landed: number[]; advanced: number }): void {
  console.log(
    `${what} (seed ${seed}): ${r.landed.length} kills, ${r.advanced} after progress, at ` +
      `${r.landed.join(", ")} ms`,
  );
  assert.ok(r.landed.length >= KILLS, `only ${r.landed.length} kills landed before the run ended`);
  // a kill between two units of work persists nothing new; at least a quarter must follow
  // saved progress, so that the kills are spread over the run rather than all in start-up
  assert.ok(r.advanced >= KILLS / 4, `only ${r.advanced} kills came after some progress`);
}

function strayTemporaries(dir: string): string[] {
  return [...readTree(dir).keys()].filter((k) => /(^|\/)\..+\.[0-9a-z]+\.tmp$/.test(k));
}

Deno.test("kill -9 harness: generate resumed after 20 random kills = one run", async () => {
  const rng = new Rng(SEED);
  const flags = ["--preset", "tiny", "--windows", "400", "--workers", "2", "--quiet"];
  const ref = `${root}/gen-ref.zarr`, out = `${root}/gen.zarr`;
  const done = (d: string) => () => countFiles(`${d}/done`, /^\d+$/);
  const t = await timings(task("generate.ts"), [...flags, "--out", ref], done(ref));
  const r = await killAndResume(
    task("generate.ts"),
    () => [...flags, "--out", out, "--resume"],
    rng,
    t,
    done(out),
  );
  report("generate", SEED, r);
  assert.deepEqual(treeDiff(readTree(ref), readTree(out)), []);
});

Deno.test("kill -9 harness: train (with EMA and snapshots) resumed after 20 random kills = one run", async () => {
  const rng = new Rng(SEED + 1);
  const flags = [
    ...["--synthetic", "16", "--model", "sda", "--widths", "4,8", "--blocks", "1"],
    ...["--kernel", "3", "--frames", "3", "--steps", "600", "--batch", "2"],
    ...["--ckpt-every", "3", "--valid-every", "7", "--workers", "0", "--quiet"],
    ...["--ema", "0.99", "--keep-every", "50"], // the EMA is part of the state resumed (issue 19)
  ];
  const ref = `${root}/train-ref`, out = `${root}/train`;
  const t = await timings(task("train.ts"), [...flags, "--out", ref], () => checkpointStep(ref));
  // killed before its first checkpoint, a run starts again (--force: it may have left a
  // best.safetensors, which a new run does not replace silently)
  const next = () => {
    try {
      Deno.statSync(`${out}/checkpoint.safetensors`);
      return ["--synthetic", "16", "--resume", "--workers", "0", "--quiet", "--out", out];
    } catch {
      return [...flags, "--out", out, "--force"];
    }
  };
  const r = await killAndResume(task("train.ts"), next, rng, t, () => checkpointStep(out));
  report("train", SEED + 1, r);
  const snapshots = [...Deno.readDirSync(ref)].map((e) => e.name).filter((n) =>
    n.startsWith("step-")
  );
  assert.equal(snapshots.length, 12);
  for (
    const f of [
      "model.safetensors",
      "model-ema.safetensors",
      "checkpoint.safetensors",
      "best.safetensors",
      ...snapshots,
    ]
  ) {
    const [a, b] = [Deno.readFileSync(`${ref}/${f}`), Deno.readFileSync(`${out}/${f}`)];
    assert.ok(a.length === b.length && a.every((v, i) => v === b[i]), `${f} differs`);
  }
  // the log without its wall-clock column
  const noTime = (p: string) =>
    Deno.readTextFileSync(p).trim().split("\n").map((l) => {
      const f = l.split(",");
      return [...f.slice(0, 6), ...f.slice(7)].join(",");
    });
  assert.deepEqual(noTime(`${out}/log.csv`), noTime(`${ref}/log.csv`));
  assert.deepEqual(strayTemporaries(out), []);
});

Deno.test("kill -9 harness: experiment resumed after 20 random kills = one run", async () => {
  const rng = new Rng(SEED + 2);
  const data = `${root}/exp.zarr`;
  await runOnce(task("generate.ts"), ["--preset", "tiny", "--out", data, "--quiet"], null);
  const sda = tinyCheckpoint(root, "sda", 2);
  const flags = [
    ...["--data", data, "--ops", "arctan3x", "--masks", "s4,s2", "--intervals", "4,1"],
    ...["--seeds", Array.from({ length: 40 }, (_, i) => i).join(","), "--methods", "sda"],
    "--settings",
    "I",
    ...["--steps", "4", "--corrections", "1", "--sda", sda, "--quiet", "--no-figures"],
  ];
  const ref = `${root}/exp-ref`, out = `${root}/exp`;
  const t = await timings(task("experiment.ts"), [...flags, "--out", ref], () => cellCount(ref));
  const r = await killAndResume(
    task("experiment.ts"),
    () => [...flags, "--out", out, "--resume"],
    rng,
    t,
    () => cellCount(out),
  );
  report("experiment", SEED + 2, r);
  type Cell = { key: string; seconds?: number };
  const cells = (p: string) =>
    (JSON.parse(Deno.readTextFileSync(`${p}/results.json`)).cells as Cell[])
      .map((c) => ({ ...c, seconds: 0 }));
  assert.deepEqual(cells(out), cells(ref));
  assert.deepEqual(strayTemporaries(out), []);
});

Deno.test("kill -9 harness: cycle resumed after 20 random kills = one run", async () => {
  const rng = new Rng(SEED + 3);
  const qg = resolveParams({ nx: 32, dt: 7200 });
  const t = simulateTruth(48, 1, { qg, pool: 2, warmupDays: 60 });
  const truth = `${root}/T.npy`;
  await writeNpy(truth, t.q, [t.frames, 2, t.height, t.width]);
  await Deno.writeTextFile(`${root}/T.json`, JSON.stringify({ qg_params: qg, pool: 2 }));
  const flags = [
    ...["--truth", truth, "--methods", "letkf,free,climatology", "--op", "arctan3x"],
    ...["--stride", "2", "--members", "8", "--warmup-days", "60", "--workers", "0"],
  ];
  const ref = `${root}/cyc-ref`, out = `${root}/cyc`;
  const days = (d: string) => () => countFiles(`${d}/state/letkf`, /^day_\d+\.f32$/);
  const t0 = await timings(task("cycle.ts"), [...flags, "--out", ref], days(ref));
  // the first start makes the folder; every restart resumes it
  const next = () => {
    try {
      Deno.statSync(out);
      return [...flags, "--out", out, "--resume"];
    } catch {
      return [...flags, "--out", out];
    }
  };
  const r = await killAndResume(task("cycle.ts"), next, rng, t0, days(out));
  report("cycle", SEED + 3, r);
  const a = readTree(ref), b = readTree(out);
  const strip = (m: Map<string, Uint8Array>) => {
    const c = new Map(m);
    c.delete("summary.json");
    c.delete("summary.md");
    for (const k of [...c.keys()]) if (k.endsWith("/seconds.json")) c.delete(k); // wall clock
    return c;
  };
  assert.deepEqual(treeDiff(strip(a), strip(b)), []);
  const noSeconds = (m: Map<string, Uint8Array>) =>
    JSON.stringify(
      JSON.parse(new TextDecoder().decode(m.get("summary.json")!)),
      (k, v) => (k === "seconds" ? 0 : v),
    );
  assert.equal(noSeconds(b), noSeconds(a));
  assert.deepEqual(strayTemporaries(out), []);
});
