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

Deno.test("assimilate task: a prior of another operator is refused before sampling, naming both", async () => {
  const data = await tinyStore();
  const dir = tempDir("soad_assim_task_");
  const atan = tinyCheckpoint(dir, "arctan3x", 4);
  const r = await run("--prior", atan, "--data", data, "--op", "sin3x", "--out", `${dir}/o`);
  assert.equal(r.code, 1);
  assert.match(r.err, /operator "sin3x" but the prior was trained for operators arctan3x/);
  assert.match(r.err, /--allow-mismatch/);
  // refused before the output folder is made
  assert.equal(await Deno.stat(`${dir}/o`).then(() => true, () => false), false);
});

Deno.test("assimilate task: the shipped 64² prior on the 16² tiny store is refused naming both grids", async () => {
  const data = await tinyStore();
  const dir = tempDir("soad_assim_task_");
  const r = await run("--prior", "arctan3x", "--data", data, "--out", `${dir}/o`);
  assert.equal(r.code, 1);
  assert.match(r.err, /16x16 grid, the prior was trained on 64x64/);
  assert.match(r.err, /configuration "tiny", the prior was trained on "demo"/);
});

Deno.test("assimilate task: defaults — first test window, the prior's operator and sampler; --save; --out and --samples checked", async () => {
  const data = await tinyStore();
  const dir = tempDir("soad_assim_task_");
  const atan = tinyCheckpoint(dir, "arctan3x", 4);
  const out = `${dir}/out`;
  const r = await run(
    ...["--prior", atan, "--data", data, "--steps", "2", "--corrections", "0", "--save"],
    ...["--out", out],
  );
  assert.equal(r.code, 0, r.err);
  const split = JSON.parse(await Deno.readTextFile(`${data}/.zattrs`)).split;
  assert.match(r.out, new RegExp(`window ${split.test[0]} \\(test split\\)`));
  assert.match(
    r.out,
    /arctan3x, ratio 0\.25, interval 2, setting I; K = 2, t-max 1 \(prior's default\)/,
  );
  assert.match(r.out, /frame\s+observed\s+soad\s+climatology/);
  const res = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  assert.equal(res.climatology.rmse.length, 9);
  const z = JSON.parse(await Deno.readTextFile(`${out}/soad.zarr/.zmetadata`)).metadata;
  assert.deepEqual(z["q_ensemble/.zattrs"]._ARRAY_DIMENSIONS, [
    "member",
    "time",
    "layer",
    "y",
    "x",
  ]);
  assert.equal(z["x/.zattrs"].units, "m");
  const again = await run("--prior", atan, "--data", data, "--steps", "1", "--out", out);
  assert.equal(again.code, 1);
  assert.match(again.err, /already exists and is not empty/);
  const many = await run(
    "--prior",
    atan,
    "--data",
    data,
    "--samples",
    "100000",
    "--out",
    `${dir}/m`,
  );
  assert.equal(many.code, 1);
  assert.match(many.err, /--samples expects an integer in \[1, 64\]/);
});
