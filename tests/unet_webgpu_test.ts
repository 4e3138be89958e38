import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend/select.ts";
import { SoadError } from "../src/errors.ts";
import { type NamedTensor, readSafetensors } from "../src/io/safetensors.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { createUNet } from "../src/diffusion/unet.ts";

// Parity of the U-Net on WebGPU with the fixture. On machines whose only adapter is a software
// one (llvmpipe) it is forced with allowSoftwareGpu; it is slow there, so only the first window
// of the fixture is run (windows are independent: only the temporal blocks mix frames).

const DIR = new URL("./fixtures/unet/", import.meta.url);
const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
const skipReason = !gpu
  ? "navigator.gpu is missing"
  : !adapter
  ? "navigator.gpu.requestAdapter() gave no adapter"
  : "";
if (skipReason) console.log(`unet_webgpu_test: skipped, ${skipReason}`);

/** First window of a [B, ...] fixture tensor. */
function first(t: NamedTensor): Float32Array {
  return t.data.subarray(0, t.data.length / t.shape[0]);
}

function close(name: string, a: Float32Array, ref: Float32Array, tol = 1e-4): void {
  let err = 0;
  let mag = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Number.isFinite(a[i]) ? Math.abs(a[i] - ref[i]) : Infinity);
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  const s = err / (tol * Math.max(1, mag));
  assert.ok(s <= 1, `${name}: error is ${s.toFixed(3)}× the tolerance`);
}

Deno.test({
  name: "backend: a software WebGPU adapter is refused unless allowed",
  ignore: Boolean(skipReason),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const fallback = Boolean((adapter!.info as { isFallbackAdapter?: boolean }).isFallbackAdapter);
    if (fallback) {
      await assert.rejects(selectBackend({ prefer: "webgpu", quiet: true }), SoadError);
      const auto = await selectBackend({ quiet: true });
      assert.equal(auto.name, "wasm", "auto-selection avoids the software adapter");
      assert.match(auto.reason, /software fallback adapter/);
    }
    const info = await selectBackend({ prefer: "webgpu", allowSoftwareGpu: true, quiet: true });
    assert.equal(info.name, "webgpu");
    assert.equal(tf.getBackend(), "webgpu");
    assert.equal(info.isFallbackAdapter, fallback);
  },
});

Deno.test({
  name: "unet: small fixture parity on webgpu (first window: eps and VJP)",
  ignore: Boolean(skipReason),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const info = await selectBackend({ prefer: "webgpu", allowSoftwareGpu: true, quiet: true });
    assert.equal(tf.getBackend(), "webgpu");
    console.log(`  adapter: ${info.adapter} (fallback: ${info.isFallbackAdapter})`);
    const weights = readSafetensors(await Deno.readFile(new URL("small.weights.safetensors", DIR)));
    const io = readSafetensors(await Deno.readFile(new URL("small.io.safetensors", DIR)));
    const net = await createUNet(
      { channels: 4, widths: [4, 8, 16], blocks: [2, 2, 2], kernel: 5, frames: 9 },
      { weights },
    );
    try {
      const [, L, C, H, W] = io.get("z")!.shape;
      const shape: WindowShape = [1, L, C, H, W];
      const z = first(io.get("z")!);
      const w = first(io.get("w")!);
      const t = io.get("t")!.data.subarray(0, 1);
      const eps = await net.denoise(z, shape, t); // also fills the adjoint-filter cache
      close("eps", eps, first(io.get("eps")!));
      const before = tf.memory().numTensors;
      const vjp = await net.denoiseVjp(z, shape, t, w);
      close("vjp eps", vjp.eps, first(io.get("eps")!));
      close("g", vjp.grad, first(io.get("g")!));
      assert.equal(tf.memory().numTensors, before, "no tensor leak");
    } finally {
      net.dispose();
    }
  },
});

Deno.test({
  name: "unet: parameter gradients on webgpu = wasm (first window of the small fixture)",
  ignore: Boolean(skipReason),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // the training path on a GPU: ∂⟨w, ε̂⟩/∂θ by tf.variableGrads on the webgpu backend against
    // the wasm backend (itself held to PyTorch's grad.* in unet_fixture_test.ts)
    const weights = readSafetensors(await Deno.readFile(new URL("small.weights.safetensors", DIR)));
    const io = readSafetensors(await Deno.readFile(new URL("small.io.safetensors", DIR)));
    const config = { channels: 4, widths: [4, 8, 16], blocks: [2, 2, 2], kernel: 5, frames: 9 };
    const [, L, C, H, W] = io.get("z")!.shape;
    const shape: WindowShape = [1, L, C, H, W];
    const z = first(io.get("z")!), w = first(io.get("w")!);
    const t = io.get("t")!.data.subarray(0, 1);
    const run = async (prefer: "wasm" | "webgpu") => {
      await selectBackend({ prefer, allowSoftwareGpu: true, quiet: true });
      assert.equal(tf.getBackend(), prefer);
      const net = await createUNet(config, { weights });
      try {
        return await net.denoiseParamVjp(z, shape, t, w);
      } finally {
        net.dispose();
      }
    };
    const ref = await run("wasm");
    const gpuRes = await run("webgpu");
    close("param-vjp eps", gpuRes.eps, ref.eps);
    assert.equal(gpuRes.grads.size, weights.size);
    // the tolerance (1e-3 of max(1, |g|)) is a small fraction of the gradients compared
    let big = 0;
    for (const g of ref.grads.values()) for (const v of g.data) big = Math.max(big, Math.abs(v));
    console.log(`  max |∂/∂θ| ${big.toPrecision(3)}`);
    assert.ok(big > 0.05, `gradients too small for the tolerance: max ${big}`);
    for (const [k, g] of ref.grads) {
      assert.deepEqual(gpuRes.grads.get(k)!.shape, g.shape, k);
      close(`grad.${k}`, gpuRes.grads.get(k)!.data, g.data, 1e-3);
    }
  },
});
