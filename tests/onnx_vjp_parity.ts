// Run by onnx_vjp_test.ts in its own process: ORT's wasm thread count is per process, and the
// VJP model needs 1 thread. Prints one JSON line of error scores (≤ 1 passes).
import { selectBackend } from "../src/backend/select.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import type { UNetConfig } from "../src/diffusion/unet_config.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import { createOrtDenoiser } from "../src/onnx/engine.ts";
import { exportOnnx } from "../src/onnx/export.ts";
import { exportOnnxVjp } from "../src/onnx/export_vjp.ts";

const DIR = new URL("./fixtures/unet/", import.meta.url);
const SMALL: UNetConfig = { channels: 4, widths: [4, 8, 16], blocks: 2, kernel: 5, frames: 9 };

/** max|a − ref| / (tol · max(1, max|ref|)). */
function score(a: Float32Array, ref: Float32Array, tol: number): number {
  let err = 0, mag = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(a[i])) return Infinity;
    err = Math.max(err, Math.abs(a[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return err / (tol * Math.max(1, mag));
}

const w = readSafetensors(await Deno.readFile(new URL("small.weights.safetensors", DIR)));
const io = readSafetensors(await Deno.readFile(new URL("small.io.safetensors", DIR)));
const z = io.get("z")!, t = io.get("t")!.data, cot = io.get("w")!.data;
const shape = z.shape as WindowShape;
await selectBackend({ prefer: "wasm", quiet: true });
const unet = await createUNet(SMALL, { weights: w });
const tf = await unet.denoiseVjp(z.data, shape, t, cot);
unet.dispose();
const out: Record<string, number> = {};
for (const circularPad of ["slice", "wrap"] as const) {
  const net = await createOrtDenoiser(await exportOnnx({ config: SMALL, weights: w }), {
    provider: "wasm",
    numThreads: 1,
    quiet: true,
    vjpModel: await exportOnnxVjp({ config: SMALL, weights: w }, { circularPad }),
  });
  const v = await net.denoiseVjp(z.data, shape, t, cot);
  out[`${circularPad}.eps`] = score(v.eps, io.get("eps")!.data, 1e-4);
  out[`${circularPad}.g`] = score(v.grad, io.get("g")!.data, 1e-4);
  out[`${circularPad}.g_vs_tfjs`] = score(v.grad, tf.grad, 2e-5);
  await net.dispose();
}
console.log(JSON.stringify(out));
