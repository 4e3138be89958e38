import assert from "node:assert/strict";
import { AdamW, linearDecay } from "../src/train/adamw.ts";

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

Deno.test("AdamW: two steps against a hand computation (PyTorch semantics)", () => {
  // p=1, lr=0.1, wd=0.01, g=0.5 then -0.25, betas 0.9/0.999, eps 1e-8:
  // step 1: p ← 1·(1−0.001) = 0.999; m = 0.05; v = 0.00025; bias corrections 0.1, 0.001;
  //   p ← 0.999 − (0.1/0.1)·0.05/(√0.00025/√0.001 + 1e-8) = 0.899000002
  // step 2: p ← 0.899000002·0.999; m = 0.02; v = 0.00031225; corrections 0.19, 0.001999;
  //   p = 0.8714672987 (float64 reference)
  const opt = new AdamW(2, { lr: 0.1, weightDecay: 0.01 });
  const p = new Float32Array([1, 2]);
  opt.step(p, new Float32Array([0.5, 0]), 0.1);
  close(p[0], 0.899000002, 1e-7, "p after step 1");
  close(opt.m[0], 0.05, 1e-8, "m");
  close(opt.v[0], 0.00025, 1e-10, "v");
  // zero gradient: only the decay acts (m = v = 0 → no Adam move)
  close(p[1], 2 * 0.999, 1e-7, "decay only");
  opt.step(p, new Float32Array([-0.25, 0]), 0.1);
  close(p[0], 0.8714672987058462, 1e-7, "p after step 2");
  close(opt.m[0], 0.02, 1e-8, "m after step 2");
  close(opt.v[0], 0.00031225, 1e-10, "v after step 2");
  assert.equal(opt.steps, 2);
});

Deno.test("AdamW: load restores the state; bad options and sizes are rejected", () => {
  const a = new AdamW(3, { lr: 1e-3, weightDecay: 0 });
  const b = new AdamW(3, { lr: 1e-3, weightDecay: 0 });
  const pa = new Float32Array([1, 2, 3]), pb = pa.slice();
  a.step(pa, new Float32Array([1, -1, 0.5]), 1e-3);
  b.load(a.m, a.v, a.steps);
  pb.set(pa);
  a.step(pa, new Float32Array([0.1, 0.2, 0.3]), 1e-3);
  b.step(pb, new Float32Array([0.1, 0.2, 0.3]), 1e-3);
  assert.deepEqual(pa, pb);
  assert.throws(() => new AdamW(2, { lr: -1, weightDecay: 0 }), /lr must be/);
  assert.throws(() => new AdamW(2, { lr: 1, weightDecay: 0, beta1: 1 }), /betas/);
  assert.throws(() => a.step(new Float32Array(2), new Float32Array(3), 1), /expected 3/);
  assert.throws(() => b.load(new Float32Array(2), new Float32Array(3), 0), /expected 3/);
});

Deno.test("linearDecay: 1 − k/total, floored at 0", () => {
  assert.equal(linearDecay(0, 10), 1);
  assert.equal(linearDecay(5, 10), 0.5);
  assert.equal(linearDecay(12, 10), 0);
  assert.throws(() => linearDecay(0, 0), /total/);
});
