// Resume after a kill and shard equivalence, byte for byte, on the tiny preset.
import assert from "node:assert/strict";
import { resolveDataConfig } from "../src/data/config.ts";
import { generateDataset } from "../src/data/generate.ts";
import { finalizeDataset } from "../src/data/finalize.ts";
import { openDatasetStore } from "../src/data/store.ts";
import { readTree, tempStore, treeDiff } from "./data_helpers.ts";

const GENERATE = new URL("../tasks/generate.ts", import.meta.url).pathname;
const quiet = { progress: false as const };

function countDone(out: string): number {
  try {
    let n = 0;
    for (const e of Deno.readDirSync(`${out}/done`)) if (/^\d+$/.test(e.name)) n++;
    return n;
  } catch {
    return 0;
  }
}

/** Starts the generate task and SIGKILLs it once `atLeast` windows are done. */
async function runAndKill(args: string[], out: string, atLeast: number): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", GENERATE, ...args, "--out", out, "--quiet"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const t0 = Date.now();
  let killedAt = -1;
  while (Date.now() - t0 < 60_000) {
    const n = countDone(out);
    if (n >= atLeast) {
      child.kill("SIGKILL");
      killedAt = n;
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const status = await child.status;
  assert.ok(killedAt >= 0, "the run finished or stalled before it could be killed");
  assert.equal(status.success, false, "killed, not finished");
  return killedAt;
}

Deno.test("data: a killed run resumed with --resume gives a byte-identical store", async () => {
  // longer trajectories so that the kill lands mid-run
  const flags = ["--preset", "tiny", "--windows", "40", "--workers", "2"];
  const config = resolveDataConfig("tiny", { windowsPerSeed: 40 });
  const ref = tempStore();
  await generateDataset({ out: ref, config, workers: 0, ...quiet });

  const out = tempStore();
  const first = await runAndKill(flags, out, 5);
  const second = await runAndKill([...flags, "--resume"], out, first + 20);
  assert.ok(countDone(out) < 80, `killed mid-run (${first}, then ${second} of 80 windows)`);
  // a temporary file as a writer killed mid-write leaves it; finalisation removes it
  Deno.writeFileSync(`${out}/q/.0.0.0.0.0.k3j9x2a1b.tmp`, new Uint8Array(7));
  const r = await generateDataset({ out, config, resume: true, workers: 2, ...quiet });
  assert.equal(r.finalized, true);
  assert.ok(r.skipped >= second, `resumed, not restarted (${r.skipped} skipped)`);
  assert.deepEqual(treeDiff(readTree(ref), readTree(out)), []);
});

Deno.test("data: two shards + finalize = one run, byte for byte", async () => {
  const config = resolveDataConfig("tiny", { seeds: 3 });
  const ref = tempStore();
  await generateDataset({ out: ref, config, workers: 0, ...quiet });
  const out = tempStore();
  const r1 = await generateDataset({
    out,
    config,
    shard: { index: 1, count: 2 },
    workers: 0,
    ...quiet,
  });
  assert.deepEqual(r1.seeds, [1]);
  assert.equal(r1.finalized, false);
  assert.throws(() => finalizeDataset(openDatasetStore(out)), /10 of 15 windows missing/);
  const r0 = await generateDataset({
    out,
    config,
    shard: { index: 0, count: 2 },
    workers: 2,
    ...quiet,
  });
  assert.deepEqual(r0.seeds, [0, 2]);
  // a re-run of a finished shard recomputes nothing
  const again = await generateDataset({
    out,
    config,
    shard: { index: 1, count: 2 },
    workers: 0,
    ...quiet,
  });
  assert.equal(again.written, 0);
  finalizeDataset(openDatasetStore(out));
  assert.deepEqual(treeDiff(readTree(ref), readTree(out)), []);
});

Deno.test("data: CLI reports bad input with exit code 1 and writes nothing", async () => {
  const out = tempStore();
  for (
    const args of [
      ["--preset", "nope"],
      ["--preset", "tiny", "--seeds", "0"],
      ["--preset", "tiny", "--windows", "-2"],
      ["--preset", "tiny", "--shard", "3"],
    ]
  ) {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-check", GENERATE, ...args, "--out", out, "--quiet"],
    }).output();
    assert.equal(r.code, 1, args.join(" "));
    assert.match(new TextDecoder().decode(r.stderr), /^error: /);
  }
  assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
});
