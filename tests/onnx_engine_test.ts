// Parity of the ONNX export run by onnxruntime-web (wasm) with the PyTorch fixture and with the
// tfjs U-Net on wasm. Tolerances: fixture README (max|a − ref| ≤ 1e-4·max(1, max|ref|)); ORT vs
// tfjs: 2e-5·max(1, max|tfjs|) (measured 8e-7 relative). The VJP export: onnx_vjp_test.ts.
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { SoadError } from "../src/errors.ts";
import { type NamedTensor, readSafetensors } from "../src/io/safetensors.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { initUNetWeights, type UNetConfig } from "../src/diffusion/unet_config.ts";
import { exportOnnx } from "../src/onnx/export.ts";
import { createOrtDenoiser } from "../src/onnx/engine.ts";
import { Rng } from "../src/rng.ts";

const DIR = new URL("./fixtures/unet/", import.meta.url);
const SMALL: UNetConfig = { channels: 4, widths: [4, 8, 16], blocks: 2, kernel: 5, frames: 9 };
// ORT starts wasm worker threads that outlive a test case
const opts = { sanitizeOps: false, sanitizeResources: false };

/** max|a − ref| / (tol · max(1, max|ref|)): must be ≤ 1. */
function score(a: Float32Array, ref: Float32Array, tol: number): number {
  assert.equal(a.length, ref.length);
  let err = 0, mag = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(a[i])) return Infinity;
    err = Math.max(err, Math.abs(a[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return err / (tol * Math.max(1, mag));
}

async function fixture(): Promise<{ w: Map<string, NamedTensor>; io: Map<string, NamedTensor> }> {
  return {
    w: readSafetensors(await Deno.readFile(new URL("small.weights.safetensors", DIR))),
    io: readSafetensors(await Deno.readFile(new URL("small.io.safetensors", DIR))),
  };
}

Deno.test({
  name: "onnx engine: small fixture eps on ORT-wasm (slice and wrap padding) and = tfjs-wasm",
  ...opts,
  fn: async () => {
    const { w, io } = await fixture();
    const z = io.get("z")!, t = io.get("t")!.data, ref = io.get("eps")!.data;
    const shape = z.shape as WindowShape;
    await selectBackend({ prefer: "wasm", quiet: true });
    const unet = await createUNet(SMALL, { weights: w });
    const tfEps = await unet.denoise(z.data, shape, t);
    unet.dispose();
    for (const circularPad of ["slice", "wrap"] as const) {
      const bytes = await exportOnnx({ config: SMALL, weights: w }, { circularPad });
      const ortNet = await createOrtDenoiser(bytes, { provider: "wasm", quiet: true });
      try {
        assert.equal(ortNet.provider, "wasm");
        assert.equal(ortNet.numThreads, navigator.hardwareConcurrency);
        const eps = await ortNet.denoise(z.data, shape, t);
        const s = score(eps, ref, 1e-4);
        assert.ok(s <= 1, `${circularPad}: eps error is ${s.toFixed(3)}× the fixture tolerance`);
        const p = score(eps, tfEps, 2e-5);
        assert.ok(p <= 1, `${circularPad}: ORT vs tfjs error is ${p.toFixed(3)}× 2e-5`);
        // dynamic batch: window 1 alone, with a scalar t, equals row 1 of the batch of 2
        const per = eps.length / 2;
        const one = await ortNet.denoise(
          z.data.slice(per),
          [1, ...shape.slice(1)] as WindowShape,
          new Float32Array([t[1]]),
        );
        assert.ok(score(one, eps.slice(per), 1e-6) <= 1, "B = 1 differs from the batch row");
      } finally {
        await ortNet.dispose();
      }
    }
  },
});

Deno.test({
  name: "onnx engine: other grid and frame count (L = 5, 32×16) agree with tfjs-wasm",
  ...opts,
  fn: async () => {
    const config: UNetConfig = { channels: 2, widths: [4, 8], blocks: 1, kernel: 5, frames: 5 };
    const weights = initUNetWeights(config, 3);
    const shape: WindowShape = [3, 5, 2, 32, 16];
    const rng = new Rng(1);
    const z = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => 2 * rng.uniform() - 1);
    const t = new Float32Array([0.1, 0.5, 0.9]);
    await selectBackend({ prefer: "wasm", quiet: true });
    const unet = await createUNet(config, { weights });
    const ref = await unet.denoise(z, shape, t);
    unet.dispose();
    const ortNet = await createOrtDenoiser(await exportOnnx({ config, weights }), {
      provider: "wasm",
      quiet: true,
    });
    try {
      const s = score(await ortNet.denoise(z, shape, t), ref, 2e-5);
      assert.ok(s <= 1, `ORT vs tfjs error is ${s.toFixed(3)}× 2e-5`);
    } finally {
      await ortNet.dispose();
    }
  },
});

Deno.test({
  name: "onnx engine: forward only, typed errors for VJP and bad inputs",
  ...opts,
  fn: async () => {
    const config: UNetConfig = { channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 };
    const ortNet = await createOrtDenoiser(
      await exportOnnx({ config, weights: initUNetWeights(config, 0) }),
      { provider: "wasm", quiet: true },
    );
    try {
      const shape: WindowShape = [1, 3, 2, 4, 4];
      const z = new Float32Array(96);
      await assert.rejects(
        ortNet.denoiseVjp(z, shape, new Float32Array([0.5]), z),
        (e: Error) => e instanceof SoadError && /forward-only/.test(e.message),
      );
      await assert.rejects(
        ortNet.denoise(z, [1, 3, 2, 4, 5], new Float32Array([0.5])),
        /Float32Array of 120 values/,
      );
      await assert.rejects(
        ortNet.denoise(new Float32Array(144), [1, 3, 3, 4, 4], new Float32Array([0.5])),
        /onnxruntime rejected/,
      );
      await assert.rejects(
        ortNet.denoise(z, shape, new Float32Array([0.1, 0.2])),
        /length B = 1 or 1/,
      );
    } finally {
      await ortNet.dispose();
    }
  },
});
