// deno task gpu-check's timing cases (U-Net forward, VJP, training step, ORT WebGPU EP forward,
// SOAD sampler step) run on a tiny grid with the software adapter forced (--time-software): slow
// on llvmpipe (minutes), hence here. Skipped without a WebGPU adapter.
import { ok } from "node:assert/strict";
import { gpuCheckMain } from "../../tasks/gpu_check.ts";

const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
if (!adapter) console.log("gpu_check_timings_test: skipped, no WebGPU adapter");

Deno.test({
  name: "gpu-check: the timing cases run (tiny grid, software adapter forced)",
  ignore: !adapter,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = Deno.makeTempDirSync({ prefix: "soad_gpu_check_t_" });
    const out = `${dir}/gpu-check.json`;
    const r = (await gpuCheckMain([
      "--out",
      out,
      "--quiet",
      "--time-software",
      "--grids",
      "16",
      "--batches",
      "1",
      "--repeats",
      "1",
    ]))!;
    const what = r.timings!.map((t) => t.what);
    for (
      const w of [
        "forward",
        "forward + VJP",
        "training step (forward + parameter gradients)",
        "ORT WebGPU EP forward",
        "SOAD sampler step (Π evaluation)",
      ]
    ) {
      ok(what.includes(w), `${w} timed`);
    }
    ok(r.timings!.every((t) => t.grid === 16 && t.seconds > 0));
    Deno.removeSync(dir, { recursive: true });
  },
});
