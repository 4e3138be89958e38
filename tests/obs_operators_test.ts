import assert from "node:assert/strict";
import {
  elementwiseOperator,
  linearOperator,
  type ObservationOperator,
} from "../src/obs/operator.ts";
import { arctan3x, sin3x } from "../src/obs/pointwise.ts";
import { vor2vel, VOR2VEL_SCALES } from "../src/obs/vor2vel.ts";
import { augmentedLayout, augmentState, customLayout } from "../src/obs/layout.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { Rng } from "../src/rng.ts";

const F1 = 1 / (15000 ** 2 * 1.25), F2 = 0.25 * F1;

Deno.test("obs: vor2vel on single Fourier modes matches the closed form (spec §7)", () => {
  for (const n of [16, 64, 256]) {
    const R = n * n, dx = 1e6 / n;
    // q1 = cos(k x), q2 = 0, k = 2π·3/L
    const k = (2 * Math.PI * 3) / 1e6, D = k * k * (k * k + F1 + F2);
    const q = new Float64Array(2 * R);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) q[j * n + i] = Math.cos(k * i * dx);
    const uv = vor2vel.apply(q, 1, n, n);
    let err = 0, mag = 0;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const s = Math.sin(k * i * dx), p = j * n + i;
        const ref = [0, 0, (k * (k * k + F2)) / D * s / 1.1e4, (k * F2) / D * s / 1.6e4];
        for (let c = 0; c < 4; c++) {
          err = Math.max(err, Math.abs(uv[c * R + p] - ref[c]));
          mag = Math.max(mag, Math.abs(ref[c]));
        }
      }
    }
    assert.ok(err < 1e-9 * mag, `x-mode n=${n}: err ${err} vs ${mag}`);
    // q1 = cos(l y): u1 = −l(l²+F2)/D sin(l y)/1.2e4, u2 = −l F2/D sin(l y)/1.6e4, v = 0
    const l = (2 * Math.PI * 2) / 1e6, Dl = l * l * (l * l + F1 + F2);
    q.fill(0);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) q[j * n + i] = Math.cos(l * j * dx);
    const uv2 = vor2vel.apply(q, 1, n, n);
    err = 0, mag = 0;
    for (let j = 0; j < n; j++) {
      const s = Math.sin(l * j * dx);
      const ref = [-(l * (l * l + F2)) / Dl * s / 1.2e4, -(l * F2) / Dl * s / 1.6e4, 0, 0];
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < 4; c++) {
          err = Math.max(err, Math.abs(uv2[c * R + j * n + i] - ref[c]));
          mag = Math.max(mag, Math.abs(ref[c]));
        }
      }
    }
    assert.ok(err < 1e-9 * mag, `y-mode n=${n}: err ${err}`);
  }
  // constant q → zero velocity
  const uv = vor2vel.apply(new Float64Array(2 * 256).fill(2.5), 1, 16, 16);
  assert.ok(uv.every((v) => Math.abs(v) < 1e-12));
  assert.deepEqual(VOR2VEL_SCALES, [1.2e4, 1.6e4, 1.1e4, 1.6e4]);
});

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function checkVjp(op: ObservationOperator, frames: number, n: number, seed: number): void {
  const rng = new Rng(seed);
  const nin = frames * op.inChannels * n * n, nout = frames * op.outChannels * n * n;
  const x = Float64Array.from({ length: nin }, () => rng.normal());
  const v = Float64Array.from({ length: nin }, () => rng.normal());
  const w = Float64Array.from({ length: nout }, () => rng.normal());
  const h = 1e-5;
  const xp = x.map((xi, i) => xi + h * v[i]), xm = x.map((xi, i) => xi - h * v[i]);
  const fp = op.apply(xp, frames, n, n), fm = op.apply(xm, frames, n, n);
  const fd = dot(w, fp.map((a, i) => (a - fm[i]) / (2 * h)));
  const an = dot(op.vjp!(x, w, frames, n, n), v);
  assert.ok(Math.abs(fd - an) <= 1e-6 * Math.max(1, Math.abs(an)), `${op.name}: fd ${fd} vs ${an}`);
}

Deno.test("obs: operator VJPs agree with finite differences (arctan3x, sin3x, vor2vel, user)", () => {
  checkVjp(arctan3x, 2, 8, 1);
  checkVjp(sin3x, 2, 8, 2);
  checkVjp(vor2vel, 2, 16, 3);
  checkVjp(vor2vel, 1, 8, 4);
  const cube = elementwiseOperator({ name: "cube", f: (v) => v ** 3, df: (v) => 3 * v * v });
  checkVjp(cube, 1, 4, 5);
  const sum = linearOperator({
    name: "sum",
    outChannels: 1,
    apply: (x) => x.subarray(0, x.length / 2).map((v, i) => v + x[i + x.length / 2]),
    adjoint: (w) => Float64Array.from([...w, ...w]),
  });
  checkVjp(sum, 3, 4, 6);
});

Deno.test("obs: element-wise operators, amplitude and errors", () => {
  assert.ok(Math.abs(sin3x.apply([0.5, 0], 1, 1, 1)[0] - 1.5 * Math.sin(1.5)) < 1e-15);
  assert.ok(Math.abs(arctan3x.apply([0.5, 0], 1, 1, 1)[0] - Math.atan(1.5)) < 1e-15);
  assert.throws(() => sin3x.apply([1, 2, 3], 1, 1, 1), InvalidArgumentError);
  assert.throws(
    () => vor2vel.apply(new Float64Array(2 * 12 * 12), 1, 12, 12),
    InvalidArgumentError,
  );
  const noAdj = linearOperator({ name: "id", outChannels: 2, apply: (x) => x });
  assert.equal(noAdj.vjp, undefined);
});

Deno.test("obs: augmented layouts (sda 2, arctan3x/sin3x 4, vor2vel 6, full 10) and z0", () => {
  assert.equal(augmentedLayout("sda").channels, 2);
  assert.equal(augmentedLayout("arctan3x").channels, 4);
  assert.equal(augmentedLayout("sin3x").channels, 4);
  assert.equal(augmentedLayout("vor2vel").channels, 6);
  const full = augmentedLayout("full");
  assert.equal(full.channels, 10);
  assert.deepEqual(full.entries.map((e) => [e.operator.name, e.channels]), [
    ["arctan3x", [2, 3]],
    ["sin3x", [4, 5]],
    ["vor2vel", [6, 7, 8, 9]],
  ]);
  assert.throws(() => customLayout([sin3x, sin3x]), InvalidArgumentError);
  const n = 16, R = n * n, rng = new Rng(0);
  const x = Float32Array.from({ length: 2 * 2 * R }, () => rng.normal());
  const z = augmentState(x, 2, n, n, full);
  assert.equal(z.length, 2 * 10 * R);
  assert.equal(z[10 * R + 5], x[2 * R + 5]); // frame 1, q1
  assert.ok(Math.abs(z[10 * R + 4 * R + 5] - 1.5 * Math.sin(3 * x[2 * R + 5])) < 1e-6); // sin1
  const uv = vor2vel.apply(x.subarray(0, 2 * R), 1, n, n);
  assert.ok(Math.abs(z[8 * R + 7] - uv[2 * R + 7]) < 1e-6); // v1 of frame 0
});
