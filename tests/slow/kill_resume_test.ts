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
 * Kills the task at `KILLS` random moments in [minMs, maxMs) after each (re)start, resuming
 * each time, then lets it finish. Returns the delays of the kills that landed.
 */
async function killAndResume(
  script: string,
  first: string[],
  resume: string[],
  rng: Rng,
  minMs: number,
  maxMs: number,
): Promise<number[]> {
  const landed: number[] = [];
  let started = false;
  for (let attempt = 0; landed.length < KILLS && attempt < 4 * KILLS; attempt++) {
    const delay = Math.round(minMs + rng.uniform() * (maxMs - minMs));
    const r = await runOnce(script, started ? resume : first, delay);
    started = true;
    if (r.killed) landed.push(delay);
    else return landed; // it finished before the kill: nothing left to interrupt
  }
  await runOnce(script, resume, null);
  return landed;
}

function strayTemporaries(dir: string): string[] {
  return [...readTree(dir).keys()].filter((k) => /(^|\/)\..+\.[0-9a-z]+\.tmp$/.test(k));
}

Deno.test("kill -9 harness: generate resumed after 20 random kills = one run", async () => {
  const rng = new Rng(SEED);
  const flags = ["--preset", "tiny", "--windows", "60", "--workers", "2", "--quiet"];
  const ref = `${root}/gen-ref.zarr`, out = `${root}/gen.zarr`;
  const t0 = performance.now();
  await runOnce(task("generate.ts"), [...flags, "--out", ref], null);
  const wall = performance.now() - t0;
  const landed = await killAndResume(
    task("generate.ts"),
    [...flags, "--out", out],
    [...flags, "--out", out, "--resume"],
    rng,
    300,
    Math.max(600, wall * 0.5),
  );
  console.log(`generate (seed ${SEED}): ${landed.length} kills at ${landed.join(", ")} ms`);
  assert.ok(landed.length >= KILLS, `only ${landed.length} kills landed before the run ended`);
  assert.deepEqual(treeDiff(readTree(ref), readTree(out)), []);
});

Deno.test("kill -9 harness: train resumed after 20 random kills = one run", async () => {
  const rng = new Rng(SEED + 1);
  const flags = [
    ...["--synthetic", "16", "--model", "sda", "--widths", "4,8", "--blocks", "1"],
    ...["--kernel", "3", "--frames", "3", "--steps", "400", "--batch", "2"],
    ...["--ckpt-every", "3", "--valid-every", "7", "--workers", "0", "--quiet"],
  ];
  const ref = `${root}/train-ref`, out = `${root}/train`;
  const t0 = performance.now();
  await runOnce(task("train.ts"), [...flags, "--out", ref], null);
  const wall = performance.now() - t0;
  const landed = await killAndResume(
    task("train.ts"),
    [...flags, "--out", out],
    ["--synthetic", "16", "--resume", "--workers", "0", "--quiet", "--out", out],
    rng,
    500,
    Math.max(1000, wall * 0.4),
  );
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
    ...["--seeds", "0,1,2,3,4,5,6,7", "--methods", "sda", "--settings", "I"],
    ...["--steps", "4", "--corrections", "1", "--sda", sda, "--quiet", "--no-figures"],
  ];
  const ref = `${root}/exp-ref`, out = `${root}/exp`;
  const t0 = performance.now();
  await runOnce(task("experiment.ts"), [...flags, "--out", ref], null);
  const wall = performance.now() - t0;
  const landed = await killAndResume(
    task("experiment.ts"),
    [...flags, "--out", out],
    [...flags, "--out", out, "--resume"],
    rng,
    500,
    Math.max(1000, wall * 0.4),
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
