// The VJP export (exportOnnxVjp): eps and g of the PyTorch fixture on ORT-wasm (1 thread, in a
// child process) within the fixture tolerance, g = tfjs-wasm's VJP within 2e-5 relative;
// check_model when python3-onnx is installed; the engine refuses vjpModel with > 1 thread.
import assert from "node:assert/strict";
import { SoadError } from "../src/errors.ts";
import { initUNetWeights, type UNetConfig } from "../src/diffusion/unet_config.ts";
import { createOrtDenoiser } from "../src/onnx/engine.ts";
import { exportOnnx } from "../src/onnx/export.ts";
import { exportOnnxVjp } from "../src/onnx/export_vjp.ts";
import { decodeModel, type GraphProto } from "../src/onnx/graph.ts";

const SMALL: UNetConfig = { channels: 4, widths: [4, 8, 16], blocks: 2, kernel: 5, frames: 9 };

Deno.test("onnx vjp: fixture eps and g on ORT-wasm (slice, wrap), = tfjs-wasm VJP", async () => {
  const script = new URL("./onnx_vjp_parity.ts", import.meta.url).pathname;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    signal: AbortSignal.timeout(300_000), // never let a stuck ORT worker hang the suite
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  assert.ok(r.success, d.decode(r.stderr));
  const scores = JSON.parse(d.decode(r.stdout).trim().split("\n").pop()!) as Record<
    string,
    number
  >;
  assert.equal(Object.keys(scores).length, 6);
  for (const [k, v] of Object.entries(scores)) assert.ok(v <= 1, `${k}: ${v}× the tolerance`);
});

Deno.test({
  name: "onnx vjp: graph inputs/outputs; the engine refuses vjpModel on > 1 wasm thread",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const weights = initUNetWeights(SMALL, 0);
    const vjpModel = await exportOnnxVjp({ config: SMALL, weights });
    const g = decodeModel(vjpModel).graph as GraphProto;
    assert.deepEqual(g.input!.map((i) => i.name), ["z", "t", "w"]);
    assert.deepEqual(g.output!.map((o) => o.name), ["eps", "grad"]);
    assert.ok(g.node!.some((n) => n.opType === "ConvTranspose"));
    if (navigator.hardwareConcurrency > 1) {
      await assert.rejects(
        createOrtDenoiser(await exportOnnx({ config: SMALL, weights }), {
          provider: "wasm",
          numThreads: 2,
          quiet: true,
          vjpModel,
        }),
        (e: Error) => e instanceof SoadError && /1 thread/.test(e.message),
      );
    }
  },
});
