import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend/select.ts";
import { alpha, sigma } from "../src/diffusion/schedule.ts";
import { augmentedLayout, augmentState } from "../src/obs/layout.ts";
import { resolveTrainConfig } from "../src/train/config.ts";
import { LocalEngine } from "../src/train/engine.ts";
import { normals } from "../src/train/stream_rng.ts";
import { SyntheticSource } from "../src/train/source.ts";
import { averageGradients, stepTasks } from "../src/train/trainer.ts";
import { WorkerEngine } from "../src/train/worker_engine.ts";

await selectBackend({ prefer: "wasm", quiet: true });

const unet = { channels: 4, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 };
const config = resolveTrainConfig({ model: "arctan3x", steps: 10, batchSize: 4, frames: 3, unet });
const source = new SyntheticSource({ height: 8, width: 8, length: 5 });
const geometry = { model: "arctan3x" as const, frames: 3, height: 8, width: 8 };
const tasks = stepTasks(config, source, 0);

Deno.test("worker-averaged gradients equal main-thread ones exactly and the full-batch gradient", async () => {
  const local = await LocalEngine.create(unet, geometry);
  const params = await local.computer.getParams();
  const lres = await local.gradients(tasks);
  const lg = averageGradients(lres.map((r) => r.grad));

  // 2 workers, dynamic dispatch: per-sample results come back in task order → bit-identical
  const workers = await WorkerEngine.create(2, unet, geometry);
  try {
    await workers.setParams(params);
    const wres = await workers.gradients(tasks);
    assert.deepEqual(wres.map((r) => r.loss), lres.map((r) => r.loss));
    assert.deepEqual(averageGradients(wres.map((r) => r.grad)), lg);
  } finally {
    await workers.close();
  }

  // the gradient of the batch-mean loss computed in one batched pass (up to float rounding)
  const net = local.computer.net;
  const { frames: L, height: H, width: W } = geometry;
  const C = 4, n = L * C * H * W;
  const zt = new Float32Array(tasks.length * n), eps = new Float32Array(tasks.length * n);
  tasks.forEach((t, b) => {
    const z0 = augmentState(t.x, L, H, W, augmentedLayout("arctan3x"));
    const e = normals(t.noiseSeed, n);
    for (let i = 0; i < n; i++) zt[b * n + i] = alpha(t.t) * z0[i] + sigma(t.t) * e[i];
    eps.set(e, b * n);
  });
  const names = local.computer.layout.slots.map((s) => s.name);
  const vars = names.map((k) => net.variables.get(k)!);
  const { grads } = tf.tidy(() => {
    const shape = [tasks.length, L, C, H, W];
    const z = tf.tensor(zt, shape), e = tf.tensor(eps, shape);
    const t = tf.tensor1d(tasks.map((x) => x.t));
    return tf.variableGrads(
      () => tf.mean(tf.squaredDifference(net.forward(z, t, { paramGrads: true }), e)),
      vars,
    );
  });
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < names.length; i++) {
    const full = await grads[vars[i].name].data();
    const off = local.computer.layout.slots[i].offset;
    for (let j = 0; j < full.length; j++) {
      maxDiff = Math.max(maxDiff, Math.abs(full[j] - lg[off + j]));
      maxRef = Math.max(maxRef, Math.abs(full[j]));
    }
  }
  tf.dispose(Object.values(grads));
  assert.ok(maxDiff <= 1e-4 * maxRef, `full-batch vs averaged: ${maxDiff} (max |g| ${maxRef})`);
  await local.close();
});

Deno.test("tf.memory().numTensors is flat across training steps", async () => {
  const local = await LocalEngine.create(unet, geometry);
  const params = await local.computer.getParams();
  const counts: number[] = [];
  for (let s = 0; s < 4; s++) {
    await local.gradients(stepTasks(config, source, s));
    await local.losses(tasks.slice(0, 1));
    await local.setParams(params);
    counts.push((await local.numTensors())[0]);
  }
  // the first loss() builds the network's adjoint-filter cache; after that nothing may grow
  assert.deepEqual(counts.slice(1), [counts[1], counts[1], counts[1]], `counts ${counts}`);
  await local.close();
});
