// `deno task demo` end to end with the shipped priors and truth window (short sampler runs).
import assert from "node:assert/strict";
import { runTask } from "./task_helpers.ts";
import { encodeNpy, readNpy } from "../src/io/npy.ts";
import { withPriorMetadata } from "../src/diffusion/prior_info.ts";

const run = (...args: string[]) => runTask("demo.ts", ...args);

Deno.test("demo task: SOAD, SDA and climatology table, PNG and results.json", async () => {
  const out = await Deno.makeTempDir({ prefix: "soad_demo_" });
  // K = 16 (not the default 64) keeps it short; frame 0 is already pinned by the background there
  const r = await run("--steps", "16", "--corrections", "1", "--out", out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /frame\s+observed\s+SOAD\s+SDA\s+climatology\s+pointwise/);
  for (let f = 0; f < 9; f++) {
    assert.match(r.out, new RegExp(`\\n${f}\\s+(yes|-)\\s+[\\d.]+\\s+[\\d.]+\\s+[\\d.]+`));
  }
  const res = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  for (const m of ["SOAD", "SDA", "climatology", "pointwise"]) {
    assert.equal(res.rmse[m].length, 9);
    assert.ok(res.rmse[m].every((v: number) => Number.isFinite(v) && v > 0), m);
  }
  // climatology is the training mean: RMSE ≈ 1 in normalised units
  assert.ok(res.rmse.climatology.every((v: number) => v > 0.8 && v < 1.2));
  // the pointwise baseline: observed frames beat climatology, unobserved frames 1, 3, … (not the
  // background's frame 0) are climatology
  for (let f = 0; f < 9; f++) {
    const [p, c] = [res.rmse.pointwise[f], res.rmse.climatology[f]];
    assert.ok(f % 2 === 0 ? p < c - 0.1 : Math.abs(p - c) < 1e-9, `frame ${f}: ${p} vs ${c}`);
  }
  // both learned priors beat climatology on every frame (K = 16: SOAD 0.18–0.61, SDA ≈ 0.75,
  // climatology 0.97)
  for (let f = 0; f < 9; f++) {
    const c = res.rmse.climatology[f];
    assert.ok(res.rmse.SOAD[f] < c - 0.2, `frame ${f}: SOAD ${res.rmse.SOAD[f]} vs ${c}`);
    assert.ok(res.rmse.SDA[f] < c - 0.1, `frame ${f}: SDA ${res.rmse.SDA[f]} vs ${c}`);
  }
  // setting I: the background (σb = 0.1) pins frame 0 through SOAD's FDC: its error is of the
  // order of σb (0.18 at K = 16, 0.20 at K = 64; the background alone, "pointwise", 0.094) and
  // the smallest of the window
  const s0 = res.rmse.SOAD[0];
  assert.ok(s0 < 2.5 * 0.1, `SOAD frame 0 RMSE ${s0}, expected near σb = 0.1`);
  assert.ok(
    res.rmse.SOAD.every((v: number) => v >= s0),
    `frame 0 is not the best: ${res.rmse.SOAD}`,
  );
  assert.ok((await Deno.stat(`${out}/demo.png`)).size > 10_000);
});

Deno.test("demo task: bad flags exit 1 with a message", async () => {
  for (
    const [args, msg] of [
      [["--op", "cos"], /unknown operator "cos"; registered: arctan3x, sin3x, vor2vel/],
      [["--ratio", "2"], /--ratio expects a number in/],
      [["--ratio", "0.5", "--stride", "2"], /--ratio or --stride, not both/],
      [["--setting", "IV"], /--setting must be I or II/],
      [["--steps", "x"], /--steps expects an integer/],
    ] as [string[], RegExp][]
  ) {
    const r = await run(...args);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.err, msg);
  }
});

Deno.test("demo task: sampler defaults from the prior's metadata (t-max 0.85), --save Zarr, --out refused unless --force", async () => {
  const out = await Deno.makeTempDir({ prefix: "soad_demo_" });
  const r = await run(
    "--steps",
    "2",
    "--corrections",
    "0",
    "--no-sda",
    "--save",
    "--out",
    out,
    "--force",
  );
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /K = 2, M = 0, t from 0\.85 \(prior's default\) to 0, tau 0\.25 \(prior's default\)/,
  );
  const res = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  assert.deepEqual(res.sampler, {
    steps: { SOAD: 2 },
    tMax: { SOAD: 0.85 },
    corrections: 0,
    tau: { SOAD: 0.25 },
    // the shipped SOAD prior's metadata: the background likelihood (session 17), σx and κ (18)
    sigmaX: 0.03,
    clipScale: 8,
    backgroundLikelihood: true,
    // 25 % of the grid: the dense settings (the sparse ones start below 12.5 %, session 19)
    observedFraction: 0.25,
    sparseSampler: { SOAD: false },
  });
  assert.deepEqual(res.evaluations, { SOAD: 3 });
  // stride 4 without a background observes 6.25 %: the prior's sparse settings (K 64 unless
  // --steps, κ 2), said and recorded
  const sparseOut = await Deno.makeTempDir({ prefix: "soad_demo_" });
  const sp = await run(
    ...["--stride", "4", "--setting", "II", "--steps", "2", "--corrections", "0", "--no-sda"],
    ...["--out", sparseOut, "--force"],
  );
  assert.equal(sp.code, 0, sp.err);
  assert.match(sp.out, /clip scale 2 \(prior's default\)/);
  assert.match(
    sp.out,
    /sparse observations \(6\.25 % of the grid; SOAD's sparse settings below 12\.5 %\)/,
  );
  const spRes = JSON.parse(await Deno.readTextFile(`${sparseOut}/results.json`));
  assert.deepEqual(
    [spRes.sampler.clipScale, spRes.sampler.sigmaX, spRes.sampler.sparseSampler],
    [2, 0.03, { SOAD: true }],
  );
  const zattrs = JSON.parse(await Deno.readTextFile(`${out}/soad.zarr/q_mean/.zattrs`));
  assert.deepEqual(zattrs._ARRAY_DIMENSIONS, ["time", "layer", "y", "x"]);
  // --tau for every method, recorded
  const tau = await run(
    "--steps",
    "2",
    "--corrections",
    "1",
    "--tau",
    "0.5",
    "--out",
    out,
    "--force",
  );
  assert.equal(tau.code, 0, tau.err);
  assert.match(
    tau.out,
    /, tau 0\.5, sigma-x 0\.03 \(prior's default\), clip scale 8 \(prior's default\), SDA clip scale 4 \(prior's default\), background: FDC \+ likelihood; backend/,
  );
  const resTau = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  assert.deepEqual(resTau.sampler.tau, { SOAD: 0.5, SDA: 0.5 });
  assert.equal(resTau.sampler.sdaClipScale, 4); // the shipped SDA prior's (session 18)
  // the folder now holds files: refused without --force, before any work
  const again = await run("--steps", "2", "--no-sda", "--out", out);
  assert.equal(again.code, 1);
  assert.match(again.err, /already exists and is not empty.*--force/);
  await Deno.remove(out, { recursive: true });
});

Deno.test("demo task: SOAD and SDA each run with their own prior's K and t-max, a flag sets both", async () => {
  // priors whose metadata differ (K 2 and 3, t-max 0.85 and 0.7): the SDA baseline must not
  // silently run with the SOAD prior's sampler (as before session 16)
  const dir = await Deno.makeTempDir({ prefix: "soad_demo_k_" });
  const models = new URL("../models/", import.meta.url);
  const copy = async (name: string, sampler: { tMax: number; steps: number }) => {
    const file = `${dir}/${name}.safetensors`;
    const bytes = await Deno.readFile(new URL(`${name}-small/weights.safetensors`, models));
    await Deno.writeFile(file, withPriorMetadata(bytes, { sampler }, name));
    return file;
  };
  const soad = await copy("arctan3x", { tMax: 0.85, steps: 2 });
  const sda = await copy("sda", { tMax: 0.7, steps: 3 });
  const args = ["--prior", soad, "--sda-prior", sda, "--corrections", "0"];
  const r = await run(...args, "--out", `${dir}/a`);
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /K = SOAD 2, SDA 3 \(priors' defaults\), M = 0, t from SOAD 0\.85, SDA 0\.7 \(priors' defaults\) to 0/,
  );
  const res = JSON.parse(await Deno.readTextFile(`${dir}/a/results.json`));
  assert.deepEqual(res.sampler.steps, { SOAD: 2, SDA: 3 });
  assert.deepEqual(res.sampler.tMax, { SOAD: 0.85, SDA: 0.7 });
  // K + 1 network evaluations each (M = 0): the runs really used their own K
  assert.deepEqual(res.evaluations, { SOAD: 3, SDA: 4 });
  const f = await run(...args, "--steps", "1", "--t-max", "0.5", "--out", `${dir}/b`);
  assert.equal(f.code, 0, f.err);
  assert.match(f.out, /K = 1, M = 0, t from 0\.5 to 0/);
  const resF = JSON.parse(await Deno.readTextFile(`${dir}/b/results.json`));
  assert.deepEqual(resF.evaluations, { SOAD: 2, SDA: 2 });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("demo task: the background likelihood comes from the SOAD prior's metadata, a flag overrides it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "soad_demo_bgl_" });
  const bytes = await Deno.readFile(
    new URL("../models/arctan3x-small/weights.safetensors", import.meta.url),
  );
  const prior = `${dir}/arctan3x.safetensors`;
  const sampler = { tMax: 0.85, steps: 2, backgroundLikelihood: true };
  await Deno.writeFile(prior, withPriorMetadata(bytes, { sampler }, "arctan3x"));
  const args = ["--prior", prior, "--no-sda", "--corrections", "0"];
  const on = await run(...args, "--out", `${dir}/on`);
  assert.equal(on.code, 0, on.err);
  assert.match(on.out, /background: FDC \+ likelihood/);
  const off = await run(...args, "--background-likelihood", "off", "--out", `${dir}/off`);
  assert.equal(off.code, 0, off.err);
  assert.match(off.out, /background: FDC only/);
  const rOn = JSON.parse(await Deno.readTextFile(`${dir}/on/results.json`));
  const rOff = JSON.parse(await Deno.readTextFile(`${dir}/off/results.json`));
  assert.equal(rOn.sampler.backgroundLikelihood, true);
  assert.equal(rOff.sampler.backgroundLikelihood, false);
  // the same draws: only the likelihood differs, and it changes the analysis
  assert.notDeepEqual(rOn.rmse.SOAD, rOff.rmse.SOAD);
  assert.deepEqual(rOn.rmse.climatology, rOff.rmse.climatology);
  for (
    const bad of [["--setting", "II", "--background-likelihood", "on"], [
      "--background-likelihood",
      "yes",
    ]]
  ) {
    const r = await run(...args, ...bad, "--out", `${dir}/bad`);
    assert.equal(r.code, 1, bad.join(" "));
    assert.match(r.err, /--background-likelihood/);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("demo task: windows of the wrong layer count, dtype, grid or amplitude are refused before sampling", async () => {
  const dir = await Deno.makeTempDir({ prefix: "soad_demo_win_" });
  const win = await readNpy(new URL("../models/demo/window.npy", import.meta.url));
  const q = win.data as Float32Array;
  const write = async (name: string, data: Float32Array | Int32Array, shape: number[]) => {
    await Deno.writeFile(`${dir}/${name}`, encodeNpy(data, shape));
    return `${dir}/${name}`;
  };
  const threeLayers = await write("l3.npy", new Float32Array(9 * 3 * 64 * 64), [9, 3, 64, 64]);
  const ints = await write("i32.npy", new Int32Array(q.length), win.shape);
  // a 16x16 window: every 4th point of the demo window
  const small = new Float32Array(9 * 2 * 16 * 16);
  for (let k = 0; k < 18; k++) {
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) small[(k * 16 + y) * 16 + x] = q[(k * 64 + 4 * y) * 64 + 4 * x];
    }
  }
  const grid16 = await write("g16.npy", small, [9, 2, 16, 16]);
  const loud = await write("x10.npy", q.map((v) => 10 * v), win.shape);
  for (
    const [file, msg] of [
      [threeLayers, /shape \[9,3,64,64\], expected \[frames, 2 layers, n, n\]/],
      [ints, /dtype <i4, expected float32 or float64/],
      [grid16, /data are on a 16x16 grid, the prior was trained on 64x64.*--allow-mismatch/],
      [loud, /truth's RMS in the prior's units is 9\.\d+, the training data's 1\.00/],
    ] as [string, RegExp][]
  ) {
    const r = await run("--window", file, "--no-sda", "--steps", "1", "--out", `${dir}/out`);
    assert.equal(r.code, 1, file + r.err);
    assert.match(r.err, msg);
  }
  // --allow-mismatch runs the 64² prior on the 16² window anyway, with a warning
  const r = await run(
    "--window",
    grid16,
    "--no-sda",
    "--steps",
    "1",
    "--corrections",
    "0",
    "--allow-mismatch",
    "--out",
    `${dir}/ok`,
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning \(--allow-mismatch\): the data are on a 16x16 grid/);
  await Deno.remove(dir, { recursive: true });
});
