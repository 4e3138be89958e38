// The learning-rate schedule reaches the optimiser: AdamW stepped with an lr other than the one it
// was built with against a hand value, and a short training run replayed from its recorded
// per-sample gradients through an independent AdamW with lr·(1 − k/K).
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { AdamW } from "../src/train/adamw.ts";
import { type GradEngine, LocalEngine } from "../src/train/engine.ts";
import type { SampleGradient, SampleTask } from "../src/train/sample_step.ts";
import { SyntheticSource } from "../src/train/source.ts";
import { train } from "../src/train/trainer.ts";

await selectBackend({ prefer: "wasm", quiet: true });

/** PyTorch's AdamW step written out again, independently of src/train/adamw.ts. */
function referenceStep(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  k: number,
  lr: number,
  wd: number,
): void {
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  for (let i = 0; i < p.length; i++) {
    const decayed = Math.fround(p[i] * (1 - lr * wd));
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    const mHat = m[i] / (1 - b1 ** k), vHat = v[i] / (1 - b2 ** k);
    p[i] = decayed - lr * mHat / (Math.sqrt(vHat) + eps);
  }
}

Deno.test("AdamW built with lr 0.1 and stepped with lr 0.05 uses 0.05 (hand value)", () => {
  // p = 1, wd = 0.01, g = 0.5: p ← 1·(1 − 0.05·0.01) = 0.9995; m = 0.05, v = 0.00025;
  // m̂ = 0.5, v̂ = 0.25 → p ← 0.9995 − 0.05·0.5/(0.5 + 1e-8) = 0.9495 (0.9 with lr = 0.1)
  const opt = new AdamW(1, { lr: 0.1, weightDecay: 0.01 });
  const p = new Float32Array([1]);
  opt.step(p, new Float32Array([0.5]), 0.05);
  assert.ok(Math.abs(p[0] - 0.9495) < 1e-7, `p = ${p[0]}, expected 0.9495`);
  // second step with lr 0.02, g = −0.25, against the independent reference
  opt.step(p, new Float32Array([-0.25]), 0.02);
  const q = new Float32Array([1]), m = new Float32Array(1), v = new Float32Array(1);
  referenceStep(q, new Float32Array([0.5]), m, v, 1, 0.05, 0.01);
  referenceStep(q, new Float32Array([-0.25]), m, v, 2, 0.02, 0.01);
  assert.ok(Math.abs(p[0] - q[0]) < 1e-7, `p = ${p[0]}, reference ${q[0]}`);
  assert.ok(Math.abs(p[0] - 0.9495) > 1e-3, "the second step moved p");
});

/** Wraps an engine and records what the trainer asked of it. */
class RecordingEngine implements GradEngine {
  readonly workers = 0;
  readonly params: Float32Array[] = [];
  readonly batches: { tasks: SampleTask[]; res: SampleGradient[] }[] = [];
  constructor(readonly inner: LocalEngine) {}
  setParams(flat: Float32Array): Promise<void> {
    this.params.push(flat.slice());
    return this.inner.setParams(flat);
  }
  async gradients(tasks: SampleTask[]): Promise<SampleGradient[]> {
    const res = await this.inner.gradients(tasks);
    this.batches.push({ tasks, res: res.map((r) => ({ loss: r.loss, grad: r.grad.slice() })) });
    return res;
  }
  losses(tasks: SampleTask[]): Promise<number[]> {
    return this.inner.losses(tasks);
  }
  numTensors(): Promise<number[]> {
    return this.inner.numTensors();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

Deno.test("training = its recorded gradients replayed through AdamW with lr·(1 − k/K)", async () => {
  const unet = { channels: 4, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 };
  const source = new SyntheticSource({ height: 8, width: 8, length: 5 });
  const K = 6, lr = 3e-3, wd = 0.05, B = 3;
  const geometry = { model: "sin3x" as const, frames: 3, height: 8, width: 8 };
  const engine = new RecordingEngine(await LocalEngine.create(unet, geometry));
  const out = await Deno.makeTempDir({ prefix: "soad_sched_" });
  try {
    const r = await train({
      out,
      source,
      engine,
      workers: 0,
      progress: false,
      config: {
        model: "sin3x",
        unet,
        frames: 3,
        batchSize: B,
        steps: K,
        lr,
        weightDecay: wd,
        checkpointEvery: K,
        validEvery: K,
        validSamples: 2,
      },
    });
    assert.equal(engine.batches.length, K);
    const p = engine.params[0].slice();
    const m = new Float32Array(p.length), v = new Float32Array(p.length);
    for (let k = 0; k < K; k++) {
      const { res } = engine.batches[k];
      assert.equal(res.length, B);
      // the mean gradient, summed in float64 in sample order
      const acc = new Float64Array(p.length);
      for (const x of res) for (let i = 0; i < p.length; i++) acc[i] += x.grad[i];
      const g = Float32Array.from(acc, (a) => a / B);
      let sq = 0;
      for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
      const rec = r.records[k];
      const lrk = lr * (1 - k / K);
      assert.ok(
        Math.abs(rec.lr - lrk) < 1e-15,
        `step ${k}: recorded lr ${rec.lr}, expected ${lrk}`,
      );
      assert.ok(Math.abs(rec.gradNorm / Math.sqrt(sq) - 1) < 1e-9, `step ${k}: gradient norm`);
      const meanLoss = res.reduce((a, x) => a + x.loss, 0) / B;
      assert.ok(Math.abs(rec.loss - meanLoss) < 1e-12, `step ${k}: loss`);
      referenceStep(p, g, m, v, k + 1, lrk, wd);
      // the trainer handed the updated parameters to the engine
      let d = 0;
      for (let i = 0; i < p.length; i++) d = Math.max(d, Math.abs(engine.params[k + 1][i] - p[i]));
      assert.ok(d < 1e-6, `step ${k}: parameters differ from the replay by ${d}`);
    }
    let d = 0;
    for (let i = 0; i < p.length; i++) d = Math.max(d, Math.abs(r.params[i] - p[i]));
    assert.ok(d < 1e-6, `final parameters differ from the replay by ${d}`);
  } finally {
    await engine.close();
    await Deno.remove(out, { recursive: true });
  }
});
