import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend/select.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { type NamedTensor, readSafetensors } from "../src/io/safetensors.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { createUNet, type UNet } from "../src/diffusion/unet.ts";
import {
  initUNetWeights,
  paperUNetConfig,
  type UNetConfig,
  unetParamCount,
} from "../src/diffusion/unet_config.ts";

const DIR = new URL("./fixtures/unet/", import.meta.url);
const SMALL: UNetConfig = {
  channels: 4,
  widths: [4, 8, 16],
  blocks: [2, 2, 2],
  kernel: 5,
  frames: 9,
};

/** max|a − ref| / (tol · max(1, max|ref|)): must be ≤ 1. */
function score(a: Float32Array, ref: Float32Array, tol: number): number {
  assert.equal(a.length, ref.length);
  let err = 0;
  let mag = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(a[i])) return Infinity;
    err = Math.max(err, Math.abs(a[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return err / (tol * Math.max(1, mag));
}

function close(name: string, a: Float32Array, ref: NamedTensor | undefined, tol = 1e-4): void {
  assert.ok(ref, `fixture lacks ${name}`);
  const s = score(a, ref.data, tol);
  assert.ok(s <= 1, `${name}: error is ${s.toFixed(3)}× the tolerance`);
}

async function load(): Promise<
  { weights: Map<string, NamedTensor>; io: Map<string, NamedTensor> }
> {
  return {
    weights: readSafetensors(await Deno.readFile(new URL("small.weights.safetensors", DIR))),
    io: readSafetensors(await Deno.readFile(new URL("small.io.safetensors", DIR))),
  };
}

Deno.test("unet: parameter counts match the spec (3,721,056 + 801·C; small 192,108)", () => {
  for (const c of [2, 4, 6, 10]) {
    assert.equal(unetParamCount(paperUNetConfig(c)), 3_721_056 + 801 * c);
  }
  assert.equal(unetParamCount(paperUNetConfig(2)), 3_722_658);
  assert.equal(unetParamCount(paperUNetConfig(10)), 3_729_066);
  assert.equal(unetParamCount(SMALL), 192_108);
  assert.equal(unetParamCount({ ...SMALL, blocks: 2 }), 192_108);
});

Deno.test("unet: small fixture on wasm (stages, eps, VJP, parameter grads, no leaks)", async () => {
  const info = await selectBackend({ prefer: "wasm", quiet: true });
  assert.equal(info.name, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  const { weights, io } = await load();
  // start from random weights and run a VJP first, so that setWeights must refresh the cached
  // adjoint filters
  const net: UNet = await createUNet(SMALL, { seed: 5 });
  try {
    assert.equal(net.paramCount, 192_108);
    const z = io.get("z")!;
    const shape = z.shape as WindowShape;
    const t = io.get("t")!.data;
    const w = io.get("w")!.data;
    await net.denoiseVjp(z.data, shape, t, w);
    net.setWeights(weights);

    const stages = await net.stages(z.data, shape, t);
    assert.deepEqual([...stages.keys()].sort(), ["d0", "d1", "d2", "temb", "u1", "u2"]);
    for (const [k, v] of stages) {
      assert.deepEqual(v.shape, io.get(`stage.${k}`)!.shape, k);
      close(`stage.${k}`, v.data, io.get(`stage.${k}`));
    }

    const eps = await net.denoise(z.data, shape, t);
    close("eps", eps, io.get("eps"));
    const vjp = await net.denoiseVjp(z.data, shape, t, w);
    close("vjp eps", vjp.eps, io.get("eps"));
    close("g", vjp.grad, io.get("g"));

    const pg = await net.denoiseParamVjp(z.data, shape, t, w);
    close("param-vjp eps", pg.eps, io.get("eps"));
    assert.equal(pg.grads.size, weights.size);
    for (const [k, g] of pg.grads) close(`grad.${k}`, g.data, io.get(`grad.${k}`), 1e-3);

    // one t for both windows = the same t repeated
    const t1 = new Float32Array([0.3]);
    const a = await net.denoise(z.data, shape, t1);
    const b = await net.denoise(z.data, shape, new Float32Array([0.3, 0.3]));
    assert.deepEqual(a, b);

    // no tensor leaks across repeated calls
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      await net.denoise(z.data, shape, t);
      await net.denoiseVjp(z.data, shape, t, w);
      await net.stages(z.data, shape, t);
    }
    assert.equal(tf.memory().numTensors, before);

    // weights round trip (PyTorch layouts)
    const back = await net.getWeights();
    for (const [k, v] of weights) {
      assert.deepEqual(back.get(k)!.shape, v.shape, k);
      assert.deepEqual(back.get(k)!.data, v.data, k);
    }
  } finally {
    net.dispose();
  }
});

Deno.test("unet: seeded init, weight validation and input checks", async () => {
  await selectBackend({ prefer: "wasm", quiet: true });
  const cfg: UNetConfig = { channels: 2, widths: [4, 8], blocks: 1, kernel: 5, frames: 3 };
  const n0 = tf.memory().numTensors;
  const a = await createUNet(cfg, { seed: 3 });
  const b = await createUNet(cfg, { seed: 3 });
  try {
    const wa = await a.getWeights();
    const wb = await b.getWeights();
    const init = initUNetWeights(cfg, 3);
    for (const [k, v] of wa) {
      assert.deepEqual(v.data, wb.get(k)!.data, k);
      assert.deepEqual(v.data, init.get(k)!.data, k);
    }
    // PyTorch default init: |w| ≤ 1/√fan_in, LayerNorm scale 1 / shift 0
    const c1 = wa.get("down.0.rb.0.conv1.weight")!;
    const bound = 1 / Math.sqrt(4 * 25);
    assert.ok(c1.data.every((v) => Math.abs(v) <= bound));
    assert.ok(Math.max(...c1.data.map(Math.abs)) > 0.9 * bound);
    assert.ok(wa.get("up.1.norm.weight")!.data.every((v) => v === 1));
    assert.ok(wa.get("up.1.norm.bias")!.data.every((v) => v === 0));

    const shape: WindowShape = [1, 3, 2, 8, 8];
    const z = new Float32Array(384).map((_, i) => Math.sin(i));
    const e1 = await a.denoise(z, shape, new Float32Array([0.4]));
    assert.ok(e1.every(Number.isFinite));
    // setWeights changes the output; missing / unexpected / misshaped names are listed
    const changed = new Map(wa);
    changed.set("up.0.conv.bias", { shape: [2], data: new Float32Array([1, -1]) });
    a.setWeights(changed);
    const e2 = await a.denoise(z, shape, new Float32Array([0.4]));
    assert.ok(Math.abs(e2[0] - e1[0] - (1 - wa.get("up.0.conv.bias")!.data[0])) < 1e-5);

    const bad = new Map(wa);
    bad.delete("temb.fc1.bias");
    bad.set("down.9.conv.weight", { shape: [1], data: new Float32Array(1) });
    bad.set("down.0.conv.bias", { shape: [5], data: new Float32Array(5) });
    assert.throws(() => a.setWeights(bad), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError);
      const m = (e as Error).message;
      assert.match(m, /missing 1: temb\.fc1\.bias/);
      assert.match(m, /unexpected 1: down\.9\.conv\.weight/);
      assert.match(m, /down\.0\.conv\.bias: shape \[5\], expected \[4\]/);
      return true;
    });
    const t = new Float32Array([0.4]);
    await assert.rejects(a.denoise(z, [1, 3, 3, 8, 8], t), /channels/);
    await assert.rejects(a.denoise(z, [1, 3, 2, 8, 8], new Float32Array([0.1, 0.2])), /length B/);
    await assert.rejects(a.denoise(z.subarray(1), shape, t), /384 values/);
    await assert.rejects(a.denoise(new Float32Array(3 * 2 * 49), [1, 3, 2, 7, 7], t), /divisible/);
    await assert.rejects(a.denoise(new Float32Array(3 * 2 * 4), [1, 3, 2, 2, 2], t), /at least/);
    await assert.rejects(a.denoiseVjp(z, shape, t, new Float32Array(3)), /w must/);
    await assert.rejects(createUNet({ ...cfg, kernel: 4 }), /odd/);
  } finally {
    a.dispose();
    b.dispose();
  }
  assert.equal(tf.memory().numTensors, n0);
});
