// ORT's WebGPU provider (software adapter forced; preferredLayout NCHW) gives the same ε̂ as
// ORT-wasm: a tiny network, to keep the shader compilation short. Ignored (with the reason
// printed) without a WebGPU adapter.
import assert from "node:assert/strict";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { initUNetWeights, type UNetConfig } from "../src/diffusion/unet_config.ts";
import { createOrtDenoiser } from "../src/onnx/engine.ts";
import { exportOnnx } from "../src/onnx/export.ts";
import { Rng } from "../src/rng.ts";

const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
const skipReason = !gpu
  ? "navigator.gpu is missing"
  : !adapter
  ? "navigator.gpu.requestAdapter() gave no adapter"
  : "";
if (skipReason) console.log(`onnx_webgpu_test: ignored, ${skipReason}`);

Deno.test({
  name: "onnx webgpu: ORT WebGPU EP (software adapter, NCHW) = ORT-wasm within 1e-5",
  ignore: Boolean(skipReason),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const config: UNetConfig = { channels: 2, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 };
    const bytes = await exportOnnx({ config, weights: initUNetWeights(config, 4) });
    const shape: WindowShape = [2, 3, 2, 8, 8];
    const rng = new Rng(2);
    const z = new Float32Array(768).map(() => rng.normal());
    const t = new Float32Array([0.2, 0.7]);
    const cpu = await createOrtDenoiser(bytes, { provider: "wasm", quiet: true });
    const ref = await cpu.denoise(z, shape, t);
    await cpu.dispose();
    const gpu = await createOrtDenoiser(bytes, {
      provider: "webgpu",
      allowSoftwareGpu: true,
      quiet: true,
    });
    try {
      assert.equal(gpu.provider, "webgpu");
      const eps = await gpu.denoise(z, shape, t);
      let err = 0, mag = 0;
      for (let i = 0; i < ref.length; i++) {
        err = Math.max(err, Math.abs(eps[i] - ref[i]));
        mag = Math.max(mag, Math.abs(ref[i]));
      }
      assert.ok(err <= 1e-5 * Math.max(1, mag), `max error ${err} (max |ref| ${mag})`);
    } finally {
      await gpu.dispose();
    }
  },
});
