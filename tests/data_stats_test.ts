// Flow statistics of dataset stores (src/data/stats.ts, tasks/data_stats.ts): the KE spectrum
// against the QG model's own (pyqg-exact) spectrum, a single Fourier mode's peak and centroid,
// phase-jump fractions of fields with closed-form answers, and the CLI on a tiny store.
import assert from "node:assert/strict";
import { FlowStats } from "../src/data/stats.ts";
import { resolveParams } from "../src/qg/params.ts";
import { QGModel } from "../src/qg/model.ts";
import { icNoise } from "../src/qg/initial.ts";
import { DATA_PRESETS, dataSplit } from "../src/data/config.ts";
import { generateDataset } from "../src/data/generate.ts";
import { tempStore } from "./data_helpers.ts";
import { runTask } from "./task_helpers.ts";

const n = 16;
const params = resolveParams({ nx: n, L: 250e3 });

/** A window `[frames][2][n][n]` from per-frame, per-layer functions of (y, x). */
function window(fs: ((y: number, x: number) => number)[][]): Float32Array {
  const w = new Float32Array(fs.length * 2 * n * n);
  fs.forEach((layers, f) =>
    layers.forEach((g, l) => {
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) w[((f * 2 + l) * n + y) * n + x] = g(y, x);
      }
    })
  );
  return w;
}

Deno.test("data stats: the upper-layer KE spectrum of a snapshot is the QG model's keSpectrum", () => {
  const q = icNoise(n, n, 3).map((v) => v * 1e3); // a rough field, any amplitude
  const model = new QGModel(params);
  model.setQ(Float32Array.from(q));
  const ref = model.keSpectrum();
  const s = new FlowStats(params, [1e-5, 1e-6]);
  s.addWindow(Float32Array.from(q), 1);
  const r = s.result();
  assert.equal(r.kr.length, ref.kr.length);
  for (let i = 0; i < r.kr.length; i++) {
    assert.ok(Math.abs(r.kr[i] - ref.kr[i]) <= 1e-12 * ref.kr[i]);
    assert.ok(
      Math.abs(r.keSpectrum[i] - ref.spectrum[0][i]) <= 1e-9 * ref.spectrum[0][i] + 1e-300,
      `bin ${i}: ${r.keSpectrum[i]} vs ${ref.spectrum[0][i]}`,
    );
  }
});

Deno.test("data stats: a single Fourier mode puts all energy, the peak and the centroid in its bin", () => {
  const m = 3, dk = (2 * Math.PI) / params.L;
  const mode = (_y: number, x: number) => 2e-5 * Math.cos((2 * Math.PI * m * x) / n);
  const s = new FlowStats(params, [1e-5, 1e-6]);
  // two snapshots of the same mode: a time mean of one spectrum
  s.addWindow(window([[mode, () => 0], [mode, () => 0]]), 2);
  const r = s.result();
  const dkr = Math.SQRT2 * dk, bin = Math.floor((m * dk) / dkr); // κ = 3Δk lies in bin 2
  assert.equal(bin, 2);
  const top = r.keSpectrum[bin]; // elsewhere only float32 round-off of the stored mode
  r.keSpectrum.forEach((e, i) => assert.ok(i === bin || e < 1e-9 * top, `bin ${i}: ${e}`));
  assert.equal(r.peak, r.kr[bin]);
  assert.ok(Math.abs(r.centroid - r.kr[bin]) < 1e-8 * r.kr[bin]);
  assert.equal(r.frames, 2);
  // RMS of A cos over whole periods: A / √2; the calm lower layer: 0
  assert.ok(Math.abs(r.rms[0] - 2e-5 / Math.SQRT2) < 1e-12);
  assert.equal(r.rms[1], 0);
});

Deno.test("data stats: phase-jump fractions of a quarter-wavelength mode have closed forms", () => {
  // q = A sin(π x / 2) takes 0, A, 0, −A along x: every x-neighbour pair differs by A, every
  // y-neighbour pair by 0. With σ = 1, 3A > π ⇔ A > π/3 ≈ 1.047: all x-pairs jump (half of all
  // pairs) for A = 1.1 and none for A = 1.0.
  const sinX = (a: number) => (_y: number, x: number) => a * Math.sin((Math.PI * x) / 2);
  const sinY = (a: number) => (y: number, _x: number) => a * Math.sin((Math.PI * y) / 2);
  const s = new FlowStats(params, [1, 2]);
  s.addWindow(window([[sinX(1.1), sinY(2 * 1.0)]]), 1); // layer 2 in units of σ2 = 2: A = 1.0
  let r = s.result();
  assert.deepEqual(r.jumpNeighbour, [0.5, 0]);
  assert.deepEqual(r.jumpTime, [0, 0]); // one snapshot: no consecutive pair
  // a second day with the sign flipped: Δq = 2q, a jump where |q| = A (half the pixels) when
  // 6A > π — true for A = 1.0 (layer 1) and for layer 2's A = 0.5 only just not (3 < π)
  const t = new FlowStats(params, [1, 2]);
  t.addWindow(
    window([
      [sinX(1.0), sinY(2 * 0.5)],
      [sinX(-1.0), sinY(-2 * 0.5)],
    ]),
    2,
  );
  r = t.result();
  assert.deepEqual(r.jumpNeighbour, [0, 0]);
  assert.deepEqual(r.jumpTime, [0.5, 0]);
});

Deno.test("data stats: persistence RMSE of a field that grows by a constant each day", () => {
  // frame d = frame 0 + 0.3 d everywhere; σ = [1, 2]: errors 0.3 d and 0.15 d, RMSE over both
  // layers sqrt(((0.3 d)² + (0.15 d)²) / 2)
  const s = new FlowStats(params, [1, 2]);
  const base = (y: number, x: number) => Math.sin(x + 2 * y);
  const frame = (d: number) => [(y: number, x: number) => base(y, x) + 0.3 * d, () => 0.3 * d];
  s.addWindow(window([0, 1, 2, 3].map(frame)), 4);
  s.addWindow(window([0, 1].map(frame)), 2); // a shorter window adds to leads 0 and 1 only
  const p = s.result().persistence;
  assert.equal(p.length, 4);
  for (let d = 0; d < 4; d++) {
    const want = Math.sqrt(((0.3 * d) ** 2 + (0.15 * d) ** 2) / 2);
    assert.ok(Math.abs(p[d] - want) < 1e-6, `lead ${d}: ${p[d]} vs ${want}`);
  }
});

Deno.test("data stats: bad input is refused with what was expected", () => {
  assert.throws(() => new FlowStats(params, [0, 1]), /std must be two positive numbers/);
  const s = new FlowStats(params, [1, 1]);
  assert.throws(() => s.addWindow(new Float32Array(10), 1), /has 512 values, got 10/);
  assert.throws(() => s.result(), /no snapshot was added/);
});

Deno.test("data stats: the CLI measures a store's test split and plots the spectrum", async () => {
  const out = tempStore();
  await generateDataset({ out, config: DATA_PRESETS.tiny, workers: 0, progress: false });
  const dir = Deno.makeTempDirSync({ prefix: "soad_stats_" });
  const r = await runTask(
    "data_stats.ts",
    "--data",
    out,
    "--plot",
    `${dir}/ke.png`,
    "--json",
    `${dir}/s.json`,
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /\| store \| L \(km\)/);
  const [row] = JSON.parse(Deno.readTextFileSync(`${dir}/s.json`));
  const [t0, t1] = dataSplit(DATA_PRESETS.tiny).test;
  assert.equal(row.frames, (t1 - t0) * DATA_PRESETS.tiny.window);
  assert.ok(row.jumpNeighbour.every((v: number) => v >= 0 && v <= 1));
  assert.ok(row.rms[0] > 0 && row.centroid > 0);
  assert.ok(Deno.statSync(`${dir}/ke.png`).size > 1000);
  // an existing output is refused, a missing flag named
  const again = await runTask("data_stats.ts", "--data", out, "--json", `${dir}/s.json`);
  assert.equal(again.code, 2);
  assert.match(again.err, /--force/);
  const none = await runTask("data_stats.ts");
  assert.equal(none.code, 2);
  assert.match(none.err, /--data is required/);
});
