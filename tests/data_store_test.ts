// Dataset store on the tiny preset: shapes, attributes, split, statistics, determinism, bad input.
import assert from "node:assert/strict";
import * as zarr from "zarrita";
import { InvalidArgumentError, SoadError } from "../src/errors.ts";
import { DATA_PRESETS, dataSplit, resolveDataConfig } from "../src/data/config.ts";
import { dataPhysics } from "../src/data/physics.ts";
import { generateDataset } from "../src/data/generate.ts";
import { finalizeDataset } from "../src/data/finalize.ts";
import { averagePool } from "../src/data/pool.ts";
import { FsStore } from "../src/data/fs_store.ts";
import { openDatasetStore, prepareDatasetStore, readWindow } from "../src/data/store.ts";
import { readTree, tempStore, treeDiff } from "./data_helpers.ts";

const tiny = DATA_PRESETS.tiny;
const quiet = { progress: false as const };

Deno.test("data: tiny store has the documented shapes, arrays and attributes", async () => {
  const out = tempStore();
  const r = await generateDataset({ out, config: tiny, workers: 0, ...quiet });
  assert.equal(r.written, 10);
  assert.equal(r.finalized, true);
  const store = new FsStore(out);
  const q = await zarr.open.v2(new zarr.Location(store, "/q"), { kind: "array" });
  assert.deepEqual(q.shape, [10, 10, 2, 16, 16]);
  assert.deepEqual(q.chunks, [1, 10, 2, 16, 16]);
  assert.equal(q.dtype, "float32");
  const seed = await zarr.get(
    await zarr.open.v2(new zarr.Location(store, "/seed"), {
      kind: "array",
    }),
  );
  assert.deepEqual(Array.from(seed.data as Int32Array), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  const sd = await zarr.get(
    await zarr.open.v2(new zarr.Location(store, "/start_day"), {
      kind: "array",
    }),
  );
  assert.deepEqual(Array.from(sd.data as Int32Array), [20, 32, 44, 56, 68, 20, 32, 44, 56, 68]);
  const s = openDatasetStore(out);
  assert.equal(s.attrs.format, "soad-qg-windows/2");
  assert.match(s.attrs.code_version, /^soad \d+\.\d+\.\d+/);
  assert.deepEqual(s.attrs.config, tiny);
  assert.equal(s.attrs.qg_params.nx, 32);
  assert.equal(s.attrs.complete, true);
  assert.deepEqual(s.attrs.split, { train: [0, 8], valid: [8, 9], test: [9, 10] });
  const qa = JSON.parse(Deno.readTextFileSync(`${out}/q/.zattrs`));
  assert.deepEqual(qa._ARRAY_DIMENSIONS, ["window", "time", "layer", "y", "x"]);
  assert.ok(!readTree(out).has(".soad"), "checkpoints removed");
  // a chunk read back through zarrita equals the raw window
  const w3 = await zarr.get(q, [3, null, null, null, null]);
  assert.deepEqual(w3.data, readWindow(s, 3));
  assert.ok(readWindow(s, 3).every(Number.isFinite));

  // normalisation statistics recomputed from the data (float64, train windows only)
  for (let layer = 0; layer < 2; layer++) {
    let sum = 0, n = 0;
    const vals: number[] = [];
    for (let w = 0; w < 8; w++) {
      const d = readWindow(s, w);
      for (let t = 0; t < 10; t++) {
        for (let i = 0; i < 256; i++) vals.push(d[(t * 2 + layer) * 256 + i]);
      }
    }
    for (const v of vals) (sum += v), n++;
    const mean = sum / n;
    const std = Math.sqrt(vals.reduce((a, v) => a + (v - mean) ** 2, 0) / n);
    assert.ok(Math.abs(s.attrs.norm_mean![layer] - mean) <= 1e-12 * Math.abs(std) + 1e-30);
    assert.ok(Math.abs(s.attrs.norm_std![layer] / std - 1) < 1e-12);
  }
  // first snapshot of the first window = pooled state after the warm-up, in float32
  assert.ok(s.attrs.norm_std![0] > 0 && s.attrs.norm_std![1] > 0);
});

Deno.test("data: same config -> identical bytes (in-thread and with 2 workers)", async () => {
  const a = tempStore(), b = tempStore();
  await generateDataset({ out: a, config: tiny, workers: 0, ...quiet });
  await generateDataset({ out: b, config: tiny, workers: 2, ...quiet });
  assert.deepEqual(treeDiff(readTree(a), readTree(b)), []);
  // finalising again changes nothing
  finalizeDataset(openDatasetStore(a));
  assert.deepEqual(treeDiff(readTree(a), readTree(b)), []);
});

Deno.test("data: split, pooling and config validation", () => {
  assert.deepEqual(dataSplit(DATA_PRESETS.paper), {
    train: [0, 8000],
    valid: [8000, 9000],
    test: [9000, 10000],
  });
  const q = Float64Array.from({ length: 2 * 4 * 4 }, (_, i) => i);
  assert.deepEqual(Array.from(averagePool(q, 4, 4, 2)), [
    2.5,
    4.5,
    10.5,
    12.5,
    18.5,
    20.5,
    26.5,
    28.5,
  ]);
  assert.throws(() => resolveDataConfig("nope"), /unknown preset "nope"; expected one of paper/);
  for (
    const [k, v] of [
      ["seeds", 0],
      ["windowsPerSeed", -1],
      ["window", 0],
      ["gap", 0],
      [
        "pool",
        3,
      ],
      ["warmupDays", -5],
      ["seeds", 1.5],
    ] as const
  ) {
    assert.throws(() => resolveDataConfig("tiny", { [k]: v }), InvalidArgumentError, `${k}=${v}`);
  }
  assert.throws(() => resolveDataConfig("tiny", { window: 20 }), /window spans/);
  assert.throws(() => resolveDataConfig("tiny", { qg: { dt: 7000 } }), /divide a day/);
  const c = resolveDataConfig("paper", { seeds: 2, qg: { nx: 256 } });
  assert.equal(c.qg.ny, 256);
  assert.equal(c.qg.dt, 900);
});

Deno.test("data: bad input is a clear error and nothing is overwritten", async () => {
  const out = tempStore();
  await generateDataset({ out, config: tiny, workers: 0, ...quiet });
  const before = readTree(out);
  await assert.rejects(
    generateDataset({ out, config: tiny, workers: 0, ...quiet }),
    /already exists; pass --resume/,
  );
  await assert.rejects(
    generateDataset({ out, config: { ...tiny, gap: 13 }, resume: true, workers: 0, ...quiet }),
    /made with another configuration/,
  );
  await assert.rejects(
    generateDataset({ out, config: tiny, shard: { index: 2, count: 2 }, workers: 0, ...quiet }),
    /shard index must be < shard count/,
  );
  await assert.rejects(
    generateDataset({ out, config: { ...tiny, seeds: 0 }, resume: true, workers: 0, ...quiet }),
    /seeds must be an integer >= 1/,
  );
  assert.deepEqual(treeDiff(before, readTree(out)), []);
  // a non-store directory
  const other = tempStore("other");
  Deno.mkdirSync(other);
  Deno.writeTextFileSync(`${other}/keep.txt`, "mine");
  await assert.rejects(
    generateDataset({ out: other, config: tiny, resume: true, workers: 0, ...quiet }),
    /exists but is not a soad dataset store/,
  );
  assert.equal(Deno.readTextFileSync(`${other}/keep.txt`), "mine");
  // finalising an incomplete store names what is missing
  const inc = tempStore();
  await prepareDatasetStore(inc, tiny, { reuse: false });
  assert.throws(() => finalizeDataset(openDatasetStore(inc)), SoadError);
  assert.throws(() => finalizeDataset(openDatasetStore(inc)), /10 of 10 windows missing/);
});

Deno.test("data: paper preset starts correctly under a step limit", async () => {
  const out = tempStore();
  const r = await generateDataset({
    out,
    config: resolveDataConfig("paper", { seeds: 1 }),
    limitSteps: 3,
    workers: 0,
    ...quiet,
  });
  assert.equal(r.limited, true);
  assert.equal(r.finalized, false);
  assert.equal(r.written, 0);
  const s = openDatasetStore(out);
  assert.equal(s.attrs.complete, false);
  assert.deepEqual(JSON.parse(Deno.readTextFileSync(`${out}/q/.zarray`)).shape, [
    1000,
    32,
    2,
    256,
    256,
  ]);
});

Deno.test("data: demo-large has ≥ 2000 training windows of the demo's physics on trajectories the demo store lacks", () => {
  const big = resolveDataConfig("demo-large");
  const demo = DATA_PRESETS.demo;
  assert.deepEqual(big.qg, demo.qg);
  assert.equal(big.pool, demo.pool);
  assert.equal(big.warmupDays, demo.warmupDays);
  assert.equal(big.window, demo.window);
  const s = dataSplit(big);
  assert.ok(s.train[1] - s.train[0] >= 2000, `train windows ${s.train}`);
  assert.deepEqual([s.valid[1] - s.valid[0], s.test[1] - s.test[0]], [260, 260]);
  // seeds disjoint: the shipped demo window (from the demo store) is in no demo-large trajectory
  const seeds = (c: typeof demo) =>
    new Set(Array.from({ length: c.seeds }, (_, i) => c.seedOffset + i));
  const demoSeeds = seeds(demo);
  for (const x of seeds(big)) assert.ok(!demoSeeds.has(x), `seed ${x} is in the demo store too`);
  // valid and test come after every training window of the last seed: later in time, not shuffled
  const lastSeedStart = (big.seeds - 1) * big.windowsPerSeed;
  assert.ok(s.train[1] > lastSeedStart && s.valid[0] === s.train[1] && s.test[0] === s.valid[1]);
  assert.ok(big.gap >= big.window * big.every, "windows do not overlap");
});

Deno.test("data: fine has the paper's pixel per deformation radius: the demo's parameters in a 250 km box, on its own seeds", async () => {
  const fine = resolveDataConfig("fine");
  const demo = DATA_PRESETS.demo, paper = DATA_PRESETS.paper;
  const pixelsPerRd = (c: typeof demo) => c.qg.rd / (c.qg.L / (c.qg.nx / c.pool));
  assert.equal(pixelsPerRd(fine), pixelsPerRd(paper)); // 3.84: 3.9 km pixels, r_d = 15 km
  assert.ok(Math.abs(pixelsPerRd(demo) - 0.96) < 0.01); // the demo's 15.6 km pixel ≈ r_d
  // the demo's parameters but the box (and dt, for the 4x finer grid): other physics by
  // dataPhysics only in L and W
  assert.deepEqual(
    Object.keys(dataPhysics(fine)).filter((k) => dataPhysics(fine)[k] !== dataPhysics(demo)[k]),
    ["L", "W"],
  );
  const { L: _l, W: _w, dt, ...physics } = fine.qg;
  const { L: _dl, W: _dw, dt: demoDt, ...demoPhysics } = demo.qg;
  assert.deepEqual(physics, demoPhysics);
  // same CFL number as the demo's for the same velocities needs dt ∝ Δx: 4x finer, ≤ 1/2 the dt
  assert.ok(dt / (fine.qg.L / fine.qg.nx) <= (demoDt / (demo.qg.L / demo.qg.nx)) * 2);
  assert.deepEqual([fine.qg.nx, fine.pool, fine.window, fine.warmupDays], [128, 2, 16, 1095]);
  const s = dataSplit(fine);
  assert.equal(s.train[1] - s.train[0], 192); // as many training windows as the demo
  const seeds = (c: typeof demo) => Array.from({ length: c.seeds }, (_, i) => c.seedOffset + i);
  for (const x of seeds(fine)) {
    for (const other of [demo, DATA_PRESETS["demo-large"]]) {
      assert.ok(!seeds(other).includes(x), `seed ${x} is in the ${other.name} store too`);
    }
  }
  // a smoke run: the pipeline starts on it and lays out 64² windows
  const out = tempStore();
  const r = await generateDataset({
    out,
    config: resolveDataConfig("fine", { seeds: 1 }),
    limitSteps: 3,
    workers: 0,
    ...quiet,
  });
  assert.equal(r.limited, true);
  assert.deepEqual(JSON.parse(Deno.readTextFileSync(`${out}/q/.zarray`)).shape, [
    120,
    16,
    2,
    64,
    64,
  ]);
  assert.equal(openDatasetStore(out).attrs.qg_params.L, 250e3);
});
