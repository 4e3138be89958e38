// Slow (deno task test:slow): the kill -9 harness of issue 18. generate, train and experiment
// are each SIGKILLed at >= 20 random moments (seeded, so a failure can be replayed: the seed
// and every delay are printed) and resumed each time; the finished outputs must equal an
// uninterrupted run's byte for byte (wall-clock fields aside), with no stray temporary files.
import assert from "node:assert/strict";
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

/**
 * Kills the task at `KILLS` random moments after each (re)start, resuming each time, then lets
 * it finish. Delays are uniform between half the task's start-up time and the start-up time
 * plus 1/30 of the uninterrupted run's work, so that the kills land everywhere (during
 * start-up, mid-write, between steps) and 20 of them leave work to do. `next()` gives the
 * arguments of each restart. Returns the delays of the kills that landed.
 */
async function killAndResume(
  script: string,
  next: () => string[],
  rng: Rng,
  startupMs: number,
  workMs: number,
): Promise<number[]> {
  const landed: number[] = [];
  const lo = startupMs / 2, hi = startupMs + workMs / 30;
  for (let attempt = 0; landed.length < KILLS && attempt < 4 * KILLS; attempt++) {
    const delay = Math.round(lo + rng.uniform() * (hi - lo));
    const r = await runOnce(script, next(), delay);
    if (r.killed) landed.push(delay);
    else return landed; // it finished before the kill: nothing left to interrupt
  }
  await runOnce(script, next(), null);
  return landed;
}

/** Wall milliseconds of `--help` (start-up) and of one uninterrupted run (start-up + work). */
async function timings(script: string, args: string[]): Promise<[number, number]> {
  let t = performance.now();
  await runOnce(script, ["--help"], null);
  const startup = performance.now() - t;
  t = performance.now();
  await runOnce(script, args, null);
  return [startup, Math.max(0, performance.now() - t - startup)];
}

function strayTemporaries(dir: string): string[] {
  return [...readTree(dir).keys()].filter((k) => /(^|\/)\..+\.[0-9a-z]+\.tmp$/.test(k));
}

Deno.test("kill -9 harness: generate resumed after 20 random kills = one run", async () => {
  const rng = new Rng(SEED);
  const flags = ["--preset", "tiny", "--windows", "400", "--workers", "2", "--quiet"];
  const ref = `${root}/gen-ref.zarr`, out = `${root}/gen.zarr`;
  const [startup, work] = await timings(task("generate.ts"), [...flags, "--out", ref]);
  const landed = await killAndResume(
    task("generate.ts"),
    () => [...flags, "--out", out, "--resume"],
    rng,
    startup,
    work,
  );
  console.log(`generate (seed ${SEED}): ${landed.length} kills at ${landed.join(", ")} ms`);
  assert.ok(landed.length >= KILLS, `only ${landed.length} kills landed before the run ended`);
  assert.deepEqual(treeDiff(readTree(ref), readTree(out)), []);
});

Deno.test("kill -9 harness: train resumed after 20 random kills = one run", async () => {
  const rng = new Rng(SEED + 1);
  const flags = [
    ...["--synthetic", "16", "--model", "sda", "--widths", "4,8", "--blocks", "1"],
    ...["--kernel", "3", "--frames", "3", "--steps", "600", "--batch", "2"],
    ...["--ckpt-every", "3", "--valid-every", "7", "--workers", "0", "--quiet"],
  ];
  const ref = `${root}/train-ref`, out = `${root}/train`;
  const [startup, work] = await timings(task("train.ts"), [...flags, "--out", ref]);
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
  const landed = await killAndResume(task("train.ts"), next, rng, startup, work);
  console.log(`train (seed ${SEED + 1}): ${landed.length} kills at ${landed.join(", ")} ms`);
  assert.ok(landed.length >= KILLS, `only ${landed.length} kills landed before the run ended`);
  for (const f of ["model.safetensors", "checkpoint.safetensors", "best.safetensors"]) {
    const [a, b] = [Deno.readFileSync(`${ref}/${f}`), Deno.readFileSync(`${out}/${f}`)];
    assert.ok(a.length === b.length && a.every((v, i) => v === b[i]), `${f} differs`);
  }
  // the log without its wall-clock column
  const noTime = (p: string) =>
    Deno.readTextFileSync(p).trim().split("\n").map((l) => l.split(",").slice(0, 6).join(","));
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
  const [startup, work] = await timings(task("experiment.ts"), [...flags, "--out", ref]);
  const landed = await killAndResume(
    task("experiment.ts"),
    () => [...flags, "--out", out, "--resume"],
    rng,
    startup,
    work,
  );
  console.log(`experiment (seed ${SEED + 2}): ${landed.length} kills at ${landed.join(", ")} ms`);
  assert.ok(landed.length >= KILLS, `only ${landed.length} kills landed before the run ended`);
  type Cell = { key: string; seconds?: number };
  const cells = (p: string) =>
    (JSON.parse(Deno.readTextFileSync(`${p}/results.json`)).cells as Cell[])
      .map((c) => ({ ...c, seconds: 0 }));
  assert.deepEqual(cells(out), cells(ref));
  assert.deepEqual(strayTemporaries(out), []);
});
