// Invariants of the QG solver that hold whatever the reference: inversion round trip, energy
// budget signs, the mean mode, translation equivariance, and clear errors on bad input.
import assert from "node:assert/strict";
import { QGModel } from "../src/qg/model.ts";
import { icModes, icNoise } from "../src/qg/initial.ts";
import { createRealFFT2 } from "../src/fft/create.ts";
import { parseNpy } from "../src/io/npy.ts";
import { BlowUpError, InvalidArgumentError } from "../src/errors.ts";

const FIX = new URL("./fixtures/qg/", import.meta.url);
const turb64 = parseNpy(await Deno.readFile(new URL("turb64_q.npy", FIX))).data as Float64Array;
const turbIC = turb64.slice(0, 2 * 64 * 64);

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function roll(q: Float64Array, n: number, dy: number, dx: number): Float64Array {
  const out = new Float64Array(q.length);
  for (let layer = 0; layer < 2; layer++) {
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        out[layer * n * n + ((j + dy) % n) * n + ((i + dx) % n)] = q[layer * n * n + j * n + i];
      }
    }
  }
  return out;
}

Deno.test("qg inversion round trip: q = ∇²ψ + F(ψ' − ψ) recovers q minus its mean", () => {
  const n = 32;
  const m = new QGModel({ nx: n });
  const q = icModes(n);
  for (let i = 0; i < q.length; i++) q[i] += 3e-6 * Math.sin(0.37 * i); // a broadband part
  m.setQ(q);
  const fft = createRealFFT2(n, n, { backend: "ts" });
  const S = n * (n / 2 + 1) * 2;
  const ph = new Float64Array(2 * S);
  fft.rfft2(m.psi, ph, 2);
  const { F1, F2 } = m.derived;
  const qh = new Float64Array(2 * S);
  for (let i = 0; i < S / 2; i++) {
    const k2 = m.grid.kappa2[i];
    for (const c of [0, 1]) {
      const p1 = ph[2 * i + c], p2 = ph[S + 2 * i + c];
      qh[2 * i + c] = -k2 * p1 + F1 * (p2 - p1);
      qh[S + 2 * i + c] = -k2 * p2 + F2 * (p1 - p2);
    }
  }
  const back = new Float64Array(q.length);
  fft.irfft2(qh, back, 2);
  const anomaly = q.slice();
  for (const layer of [0, 1]) {
    const block = anomaly.subarray(layer * n * n, (layer + 1) * n * n);
    const mean = block.reduce((s, v) => s + v, 0) / block.length;
    for (let i = 0; i < block.length; i++) block[i] -= mean;
  }
  assert.ok(maxDiff(back, anomaly) / maxAbs(anomaly) < 1e-12);
});

Deno.test("qg energy budget signs in equilibrated turbulence (turb64)", () => {
  const m = new QGModel({ nx: 64, dt: 3600 });
  m.setQ(turbIC);
  const d0 = m.diagnostics();
  assert.ok(d0.ape_generation > 0, "the background shear generates APE");
  assert.ok(d0.drag_dissipation > 0, "bottom drag removes energy");
  // over one day, dE/dt can exceed neither G − D (the filter only removes energy) by more
  // than the time-stepping error, nor drop below G − D minus a filter loss of ~50 % of G.
  let g = 0, dd = 0;
  const e0 = d0.energy;
  for (let s = 0; s < 24; s++) {
    const d = m.diagnostics();
    g += d.ape_generation / 24;
    dd += d.drag_dissipation / 24;
    m.step();
  }
  const rate = (m.diagnostics().energy - e0) / 86400;
  assert.ok(rate < g - dd + 0.1 * g, `dE/dt ${rate} vs G − D ${g - dd}`);
  assert.ok(rate > g - dd - 0.5 * g, `dE/dt ${rate} vs G − D ${g - dd}`);
});

Deno.test("qg without shear or drag only loses energy, through the filter", () => {
  const m = new QGModel({ nx: 64, dt: 3600, U1: 0, U2: 0, rek: 0 });
  m.setQ(turbIC);
  const e0 = m.diagnostics().energy;
  m.step(48);
  const e1 = m.diagnostics().energy;
  assert.ok(e1 <= e0, `energy grew: ${e0} → ${e1}`);
  assert.ok((e0 - e1) / e0 < 0.02, `energy dropped by ${(e0 - e1) / e0}`);
  const mInviscid = new QGModel({ nx: 64, dt: 3600, U1: 0, U2: 0, rek: 5.787e-7 });
  mInviscid.setQ(turbIC);
  mInviscid.step(48);
  assert.ok(mInviscid.diagnostics().energy < e1, "drag removes more energy than the filter alone");
});

Deno.test("qg mean mode: carried unchanged, and invisible to the dynamics", () => {
  const n = 32;
  const q0 = icNoise(n);
  const m = new QGModel({ nx: n, dt: 7200 });
  m.setQ(q0);
  const meanOf = (q: Float64Array, layer: number) =>
    q.subarray(layer * n * n, (layer + 1) * n * n).reduce((s, v) => s + v, 0) / (n * n);
  const mean0 = [meanOf(q0, 0), meanOf(q0, 1)];
  assert.ok(mean0[0] > 1e-7, "the noise IC has a non-zero upper-layer mean");
  m.step(50);
  const q50 = m.q;
  assert.ok(Math.abs(meanOf(q50, 0) - mean0[0]) < 1e-12 * maxAbs(q0));
  assert.ok(Math.abs(meanOf(q50, 1) - mean0[1]) < 1e-12 * maxAbs(q0));
  // shifting each layer by a constant changes nothing but the mean
  const shifted = q0.slice();
  for (let i = 0; i < shifted.length; i++) shifted[i] += i < n * n ? 4e-6 : -2e-6;
  const m2 = new QGModel({ nx: n, dt: 7200 });
  m2.setQ(shifted);
  const ref = new QGModel({ nx: n, dt: 7200 });
  ref.setQ(q0);
  assert.ok(maxDiff(m2.psi, ref.psi) <= 1e-12 * maxAbs(ref.psi), "ψ ignores the mean");
  m2.step(50);
  const back = m2.q;
  for (let i = 0; i < back.length; i++) back[i] -= i < n * n ? 4e-6 : -2e-6;
  assert.ok(
    maxDiff(back, q50) / maxAbs(q50) < 1e-11,
    `rel diff ${maxDiff(back, q50) / maxAbs(q50)}`,
  );
});

Deno.test("qg step is equivariant under periodic translation", () => {
  const n = 64;
  const a = new QGModel({ nx: n, dt: 3600 });
  a.setQ(turbIC);
  a.step(10);
  const b = new QGModel({ nx: n, dt: 3600 });
  b.setQ(roll(turbIC, n, 5, 17));
  b.step(10);
  const want = roll(a.q, n, 5, 17);
  assert.ok(maxDiff(b.q, want) / maxAbs(want) < 1e-12);
});

Deno.test("qg rejects bad parameters and bad q with clear errors", () => {
  assert.throws(() => new QGModel({ nx: 100 }), InvalidArgumentError);
  assert.throws(() => new QGModel({ nx: 8 }), /power of two in 16\.\.1024/);
  assert.throws(() => new QGModel({ nx: 2048 }), InvalidArgumentError);
  assert.throws(() => new QGModel({ dt: Number.NaN }), /dt must be a finite number/);
  assert.throws(() => new QGModel({ rek: -1 }), /rek must be >= 0/);
  assert.throws(() => new QGModel({ rd: 0 }), /rd must be > 0/);
  assert.throws(() => new QGModel({ nz: 3 } as never), /unknown QG parameter "nz"/);
  const m = new QGModel({ nx: 16 });
  assert.throws(() => m.setQ(new Float64Array(10)), /2 layers of 16x16 = 512 values/);
  const bad = new Float64Array(512);
  bad[300] = Number.NaN;
  assert.throws(() => m.setQ(bad), /finite.*layer 1, y 2, x 12/);
  assert.throws(() => m.step(-1), InvalidArgumentError);
  assert.throws(() => m.step(1.5), InvalidArgumentError);
});

Deno.test("qg stops a blow-up with an error naming the step and the CFL number", () => {
  const m = new QGModel({ nx: 64, dt: 3600 * 40 });
  m.setQ(turbIC);
  let err: unknown;
  try {
    m.step(200);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof BlowUpError, `expected BlowUpError, got ${err}`);
  assert.match(err.message, /at step \d+ \(CFL [\d.e+]+/);
  assert.ok(err.step >= 1 && err.step <= 200);
  assert.throws(() => m.q.length && m.step(), BlowUpError, "a failed model refuses to go on");
  m.setQ(turbIC); // and a new state revives it
  assert.equal(m.steps, 0);
});

Deno.test("qg WASM and TypeScript engines give bit-identical states", () => {
  const a = new QGModel({ nx: 64, dt: 3600 }, { fft: "wasm" });
  const b = new QGModel({ nx: 64, dt: 3600 }, { fft: "ts" });
  assert.equal(a.kernels, "wasm");
  assert.equal(b.kernels, "ts");
  a.setQ(turbIC);
  b.setQ(turbIC);
  a.step(200);
  b.step(200);
  assert.deepEqual(a.qh, b.qh);
});
