// deno task gpu-check on this machine's adapter: here a software (fallback) one, so the parity
// part only (first fixture window) and a report that says so (the timing cases on a software
// adapter take minutes: tests/slow/gpu_check_timings_test.ts). Without any WebGPU adapter the
// report says that instead.
import { equal, ok, rejects } from "node:assert/strict";
import { OutputExistsError } from "../src/io/output_dir.ts";
import { gpuCheckMain } from "../tasks/gpu_check.ts";
import { tempDir } from "./experiment_helpers.ts";

const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
const fallback = Boolean(
  (adapter?.info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter,
);
if (!adapter) console.log("gpu_check_test: no WebGPU adapter; checking the no-webgpu report only");
if (adapter && !fallback) {
  console.log("gpu_check_test: hardware adapter; the software path is not run");
}

Deno.test({
  name: "gpu-check: a software adapter gets parity only, small, and the report says so",
  ignore: !adapter || !fallback,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const out = `${tempDir("soad_gpu_check_")}/gpu-check.json`;
    const r = (await gpuCheckMain(["--out", out, "--quiet"]))!;
    equal(r.mode, "parity-only");
    ok(
      /software \(fallback\) adapter: parity .* first window only; no timings/.test(r.note),
      r.note,
    );
    equal(r.adapter!.fallback, true);
    ok(r.adapter!.limits.maxBufferSize > 0 && r.adapter!.limits.maxComputeWorkgroupSizeX > 0);
    equal(r.parity!.windows, 1);
    ok(r.parity!.ok, JSON.stringify(r.parity));
    for (
      const k of ["eps", "vjp", "parameter gradients (worst tensor)", "wasm eps vs PyTorch fixture"]
    ) {
      ok(r.parity!.entries[k].error < r.parity!.entries[k].tolerance, k);
    }
    equal(r.timings, undefined);
    const saved = JSON.parse(Deno.readTextFileSync(out));
    equal(saved.format, "soad-gpu-check/1");
    equal(saved.mode, "parity-only");
    // the report is not overwritten without --force
    await rejects(gpuCheckMain(["--out", out, "--quiet"]), OutputExistsError);
  },
});

Deno.test({
  name: "gpu-check: without a WebGPU adapter the report says so",
  ignore: adapter !== null,
  fn: async () => {
    const out = `${tempDir("soad_gpu_check_n_")}/gpu-check.json`;
    const r = (await gpuCheckMain(["--out", out, "--quiet"]))!;
    equal(r.mode, "no-webgpu");
    ok(r.error);
  },
});
