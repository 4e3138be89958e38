// `deno task assimilate` end to end on the tiny store with random-weight checkpoints: it prints
// per-frame RMSE, writes results.json and the PNG, and refuses a checkpoint of another operator set.
import assert from "node:assert/strict";
import { runTask } from "./task_helpers.ts";
import { tempDir, tinyCheckpoint, tinyStore } from "./experiment_helpers.ts";

const run = (...args: string[]) => runTask("assimilate.ts", ...args);

Deno.test("assimilate task: SOAD and SDA on a tiny store write results.json and a PNG", async () => {
  const data = await tinyStore();
  const dir = tempDir("soad_assim_task_");
  const soad = tinyCheckpoint(dir, "sin3x", 4);
  const sda = tinyCheckpoint(dir, "sda", 2);
  const out = `${dir}/out`;
  const r = await run(
    ...["--checkpoint", soad, "--sda-checkpoint", sda, "--data", data, "--op", "sin3x"],
    ...["--stride", "4", "--interval", "2", "--steps", "3", "--corrections", "1", "--out", out],
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /soad: RMSE per frame( [\d.]+){9}/);
  assert.match(r.out, /sda: RMSE per frame( [\d.]+){9}/);
  const res = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  assert.equal(res.soad.rmse.length, 9);
  assert.ok(res.soad.rmse.every((v: number) => Number.isFinite(v) && v > 0));
  assert.ok((await Deno.stat(`${out}/assimilate.png`)).size > 0);
});

Deno.test("assimilate task: a checkpoint of another operator set is refused before sampling", async () => {
  const data = await tinyStore();
  const dir = tempDir("soad_assim_task_");
  const sda = tinyCheckpoint(dir, "sda", 2);
  const r = await run("--checkpoint", sda, "--data", data, "--op", "sin3x", "--steps", "3");
  assert.equal(r.code, 1);
  assert.match(r.err, /another operator set|channels/);
});
