// Large batches run in chunks of whole windows: the results equal one pass and the fixture.
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { InvalidArgumentError } from "../src/errors.ts";

const DIR = new URL("./fixtures/unet/", import.meta.url);

function maxRel(a: Float32Array, b: Float32Array): number {
  let e = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return e / Math.max(1, m);
}

Deno.test("unet: one window per chunk gives the same ε̂, VJP and parameter gradients as one pass", async () => {
  await selectBackend({ prefer: "wasm", quiet: true });
  const weights = readSafetensors(await Deno.readFile(new URL("small.weights.safetensors", DIR)));
  const io = readSafetensors(await Deno.readFile(new URL("small.io.safetensors", DIR)));
  const config = { channels: 4, widths: [4, 8, 16], blocks: [2, 2, 2], kernel: 5, frames: 9 };
  const whole = await createUNet(config, { weights });
  const chunked = await createUNet(config, { weights, chunkFramePixels: 9 * 16 * 16 });
  const shape = io.get("z")!.shape as WindowShape;
  assert.equal(shape[0], 2);
  const [z, t, w] = ["z", "t", "w"].map((k) => io.get(k)!.data);
  const a = await whole.denoiseVjp(z, shape, t, w);
  const b = await chunked.denoiseVjp(z, shape, t, w);
  assert.ok(maxRel(b.eps, a.eps) < 1e-6, "eps");
  assert.ok(maxRel(b.grad, a.grad) < 1e-6, "grad");
  assert.ok(maxRel(b.eps, io.get("eps")!.data) < 1e-4, "eps vs fixture");
  assert.ok(maxRel(b.grad, io.get("g")!.data) < 1e-4, "grad vs fixture");
  assert.ok(maxRel(await chunked.denoise(z, shape, t), a.eps) < 1e-6, "denoise");
  // parameter gradients add over the chunks (the fixture's are of the whole batch)
  const p = await chunked.denoiseParamVjp(z, shape, t, w);
  assert.ok(maxRel(p.eps, a.eps) < 1e-6, "param-vjp eps");
  for (const [k, g] of p.grads) {
    assert.ok(maxRel(g.data, io.get(`grad.${k}`)!.data) < 1e-3, `chunked grad.${k}`);
  }
  // a scalar t is broadcast to every chunk
  const t1 = new Float32Array([t[0]]);
  const c = await chunked.denoise(z, shape, t1);
  const d = await whole.denoise(z, shape, t1);
  assert.ok(maxRel(c, d) < 1e-6, "broadcast t");
  whole.dispose();
  chunked.dispose();
  await assert.rejects(createUNet(config, { weights, chunkFramePixels: 0 }), InvalidArgumentError);
});
