/**
 * `deno task gpu-check [--out gpu-check.json] [--force]` — one command that says what the
 * WebGPU path does on this machine: the adapter (name, vendor, fallback or not, limits), WebGPU
 * parity with wasm on the U-Net fixture (ε̂, VJP, parameter gradients), and on a hardware adapter
 * the timings of forward, forward + VJP and a training step at 64² and 256² with the paper's
 * widths (batch 1 and 8), the ORT WebGPU EP forward and one SOAD sampler step (a Π evaluation).
 * On a software (fallback) adapter it runs the parity part only, on the fixture's first window,
 * and says so. Writes `gpu-check.json`; exits non-zero when WebGPU is missing or parity fails.
 * @module
 */

import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { defaultThreads, selectBackend } from "../src/backend/select.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { initUNetWeights, paperUNetConfig, type UNetConfig } from "../src/diffusion/unet_config.ts";
import { writeJsonAtomic } from "../src/io/atomic.ts";
import { prepareOutputFile } from "../src/io/output_dir.ts";
import { type NamedTensor, readSafetensors } from "../src/io/safetensors.ts";
import { createOrtDenoiser } from "../src/onnx/engine.ts";
import { exportOnnx } from "../src/onnx/export.ts";
import { planObservations } from "../src/assim/plan.ts";
import { soadNoise } from "../src/assim/soad.ts";
import { augmentedLayout } from "../src/obs/layout.ts";
import { randomMask } from "../src/obs/mask.ts";
import { observe } from "../src/obs/observe.ts";
import { arctan3x } from "../src/obs/pointwise.ts";
import { Rng } from "../src/rng.ts";

const HELP = `deno task gpu-check [--out gpu-check.json] [--force]

Reports the WebGPU adapter, checks WebGPU against wasm on the U-Net fixture (eps, VJP, parameter
gradients) and, on a hardware adapter, times the U-Net (64² and 256², paper widths, batch 1 and 8),
the ORT WebGPU EP forward and a SOAD sampler step. On a software adapter: parity only, small.
  --out FILE        report (default gpu-check.json)
  --force           replace an existing report
  --grids 64,256    --batches 1,8    --repeats 3     timing cases (hardware adapter only)
  --fixture DIR     U-Net fixture folder (default tests/fixtures/unet of this checkout)
  --time-software   run the timings on a software adapter too (tests; use small --grids)
  --quiet
`;

/** One parity comparison: the largest |webgpu − wasm| over max(1, the largest |wasm|). */
export interface ParityEntry {
  /** Scaled error. */
  error: number;
  /** Tolerance it must stay under. */
  tolerance: number;
  /** error ≤ tolerance. */
  ok: boolean;
}

/** The content of `gpu-check.json`. */
export interface GpuCheckReport {
  /** `soad-gpu-check/1`. */
  format: string;
  /** `full` (hardware adapter), `parity-only` (software adapter) or `no-webgpu`. */
  mode: "full" | "parity-only" | "no-webgpu";
  /** What was run and why, in words. */
  note: string;
  /** Deno and V8 versions, OS. */
  runtime: Record<string, string>;
  /** The adapter (null without one). */
  adapter: {
    description: string;
    vendor: string;
    architecture: string;
    device: string;
    fallback: boolean;
    limits: Record<string, number>;
    features: string[];
  } | null;
  /** Why WebGPU is unavailable (no-webgpu). */
  error?: string;
  /** Parity with wasm on the fixture; windows = fixture windows run. */
  parity?: { windows: number; entries: Record<string, ParityEntry>; ok: boolean };
  /** Median seconds per case (full mode). */
  timings?: { what: string; grid: number; batch: number; seconds: number }[];
}

function scaledError(a: Float32Array, ref: Float32Array): number {
  let err = 0, mag = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Number.isFinite(a[i]) ? Math.abs(a[i] - ref[i]) : Infinity);
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return err / Math.max(1, mag);
}

/** The fixture's network outputs on the current backend: ε̂, VJP and parameter gradients. */
async function fixtureOutputs(
  weights: Map<string, NamedTensor>,
  io: Map<string, NamedTensor>,
  windows: number,
): Promise<Map<string, Float32Array>> {
  const net = await createUNet(
    { channels: 4, widths: [4, 8, 16], blocks: [2, 2, 2], kernel: 5, frames: 9 },
    { weights },
  );
  try {
    const [B, L, C, H, W] = io.get("z")!.shape;
    const n = Math.min(windows, B);
    const per = L * C * H * W;
    const shape: WindowShape = [n, L, C, H, W];
    const z = io.get("z")!.data.subarray(0, n * per);
    const w = io.get("w")!.data.subarray(0, n * per);
    const t = io.get("t")!.data.subarray(0, n);
    const out = new Map<string, Float32Array>();
    out.set("eps", await net.denoise(z, shape, t));
    out.set("vjp", (await net.denoiseVjp(z, shape, t, w)).grad);
    const pg = await net.denoiseParamVjp(z, shape, t, w);
    for (const [k, g] of pg.grads) out.set(`grad.${k}`, g.data);
    return out;
  } finally {
    net.dispose();
  }
}

/** Median of `repeats` timed runs after one warm-up, in seconds. */
async function timeIt(f: () => Promise<unknown>, repeats: number): Promise<number> {
  await f();
  const ts: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await f();
    ts.push((performance.now() - t0) / 1000);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

/** The timing cases on the current (webgpu) backend. */
async function timings(
  grids: number[],
  batches: number[],
  repeats: number,
  allowSoftwareGpu: boolean,
  log: (s: string) => void,
): Promise<GpuCheckReport["timings"]> {
  const out: NonNullable<GpuCheckReport["timings"]> = [];
  const C = 4, L = 9;
  const cfg: UNetConfig = paperUNetConfig(C);
  const net = await createUNet(cfg, { seed: 1 });
  const onnx = await exportOnnx({ config: cfg, weights: initUNetWeights(cfg, 1) });
  const ort = await createOrtDenoiser(onnx, { provider: "webgpu", quiet: true, allowSoftwareGpu });
  const push = (what: string, grid: number, batch: number, seconds: number): void => {
    out.push({ what, grid, batch, seconds });
    log(`${what}, ${grid}², batch ${batch}: ${seconds.toFixed(4)} s`);
  };
  try {
    for (const n of grids) {
      for (const B of batches) {
        const rng = new Rng(n * 10 + B);
        const shape: WindowShape = [B, L, C, n, n];
        const z = new Float32Array(B * L * C * n * n).map(() => rng.normal());
        const w = new Float32Array(z.length).map(() => rng.normal());
        const t = new Float32Array(B).fill(0.5);
        push("forward", n, B, await timeIt(() => net.denoise(z, shape, t), repeats));
        push("forward + VJP", n, B, await timeIt(() => net.denoiseVjp(z, shape, t, w), repeats));
        push(
          "training step (forward + parameter gradients)",
          n,
          B,
          await timeIt(() => net.denoiseParamVjp(z, shape, t, w), repeats),
        );
        push("ORT WebGPU EP forward", n, B, await timeIt(() => ort.denoise(z, shape, t), repeats));
      }
      const rng = new Rng(n);
      const x = new Float32Array(L * 2 * n * n).map(() => rng.normal());
      const obs = observe(x, L, n, n, {
        operator: arctan3x,
        mask: randomMask(n, n, 0.25, rng),
        interval: 1,
        rng,
      });
      const layout = augmentedLayout("arctan3x");
      const planned = planObservations([obs], layout, {
        frames: L,
        channels: C,
        height: n,
        width: n,
      });
      const pi = soadNoise(net, planned);
      const z = new Float32Array(L * C * n * n).map(() => rng.normal());
      push(
        "SOAD sampler step (Π evaluation)",
        n,
        1,
        await timeIt(() => pi.evaluate(z, [1, L, C, n, n], 0.5), repeats),
      );
    }
  } finally {
    net.dispose();
    await ort.dispose();
  }
  return out;
}

/**
 * Runs the check with command-line `args` (what `deno task gpu-check` does); returns the report.
 *
 * @example
 * ```ts ignore
 * import { gpuCheckMain } from "./gpu_check.ts";
 * const r = await gpuCheckMain(["--out", "/tmp/gpu-check.json", "--force"]);
 * console.log(r?.mode);
 * ```
 */
export async function gpuCheckMain(args: string[]): Promise<GpuCheckReport | undefined> {
  const { values: a } = parseArgs({
    args,
    options: {
      out: { type: "string", default: "gpu-check.json" },
      force: { type: "boolean", default: false },
      grids: { type: "string", default: "64,256" },
      batches: { type: "string", default: "1,8" },
      repeats: { type: "string", default: "3" },
      fixture: { type: "string" },
      "time-software": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (a.help) {
    console.log(HELP);
    return undefined;
  }
  const log = (s: string): void => {
    if (!a.quiet) console.error(`gpu-check: ${s}`);
  };
  await prepareOutputFile(a.out!, { force: a.force });
  const report: GpuCheckReport = {
    format: "soad-gpu-check/1",
    mode: "no-webgpu",
    note: "",
    runtime: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      os: `${Deno.build.os} ${Deno.build.arch}`,
    },
    adapter: null,
  };
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  let adapter: GPUAdapter | null = null;
  try {
    adapter = gpu ? await gpu.requestAdapter({ powerPreference: "high-performance" }) : null;
  } catch (e) {
    report.error = `requestAdapter failed: ${(e as Error).message}`;
  }
  if (!adapter) {
    report.error ??= gpu
      ? "navigator.gpu.requestAdapter() gave no adapter"
      : "navigator.gpu is missing";
    report.note = `no WebGPU: ${report.error}; nothing to check (the wasm backend is used)`;
    log(report.note);
    await writeJsonAtomic(a.out!, report);
    return report;
  }
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const fallback = Boolean(
    info?.isFallbackAdapter ??
      (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter,
  );
  const limits: Record<string, number> = {};
  for (const k in adapter.limits) {
    const v = (adapter.limits as unknown as Record<string, unknown>)[k];
    if (typeof v === "number") limits[k] = v;
  }
  report.adapter = {
    description: info?.description ?? "",
    vendor: info?.vendor ?? "",
    architecture: info?.architecture ?? "",
    device: info?.device ?? "",
    fallback,
    limits,
    features: [...adapter.features].map(String).sort(),
  };
  report.mode = fallback ? "parity-only" : "full";
  report.note = fallback
    ? "software (fallback) adapter: parity with wasm on the fixture's first window only; no " +
      "timings (a software adapter is slower than wasm and says nothing about a GPU)"
    : "hardware adapter: parity on the whole fixture, then timings";
  log(
    `adapter ${JSON.stringify(report.adapter.description || report.adapter.vendor)}, ` +
      `fallback ${fallback}: ${report.note}`,
  );

  const dir = a.fixture ?? new URL("../tests/fixtures/unet", import.meta.url).pathname;
  const weights = readSafetensors(await Deno.readFile(`${dir}/small.weights.safetensors`));
  const io = readSafetensors(await Deno.readFile(`${dir}/small.io.safetensors`));
  const windows = fallback ? 1 : io.get("z")!.shape[0];
  await selectBackend({ prefer: "wasm", quiet: true, threads: defaultThreads() });
  const ref = await fixtureOutputs(weights, io, windows);
  await selectBackend({ prefer: "webgpu", allowSoftwareGpu: true, quiet: true });
  const got = await fixtureOutputs(weights, io, windows);
  const entries: Record<string, ParityEntry> = {};
  const add = (name: string, error: number, tolerance: number): void => {
    entries[name] = { error, tolerance, ok: error <= tolerance };
  };
  add("eps", scaledError(got.get("eps")!, ref.get("eps")!), 1e-4);
  add("vjp", scaledError(got.get("vjp")!, ref.get("vjp")!), 1e-4);
  let worst = 0;
  for (const [k, r] of ref) {
    if (k.startsWith("grad.")) worst = Math.max(worst, scaledError(got.get(k)!, r));
  }
  add("parameter gradients (worst tensor)", worst, 1e-3);
  // and wasm against the PyTorch fixture itself, on the same windows
  const per = ref.get("eps")!.length;
  add(
    "wasm eps vs PyTorch fixture",
    scaledError(ref.get("eps")!, io.get("eps")!.data.subarray(0, per)),
    1e-4,
  );
  report.parity = { windows, entries, ok: Object.values(entries).every((e) => e.ok) };
  for (const [k, e] of Object.entries(entries)) {
    log(
      `parity ${k}: ${e.error.toExponential(2)} (tolerance ${e.tolerance}) ${
        e.ok ? "ok" : "FAILED"
      }`,
    );
  }
  if (!fallback || a["time-software"]) {
    const nums = (s: string): number[] => s.split(",").map(Number);
    report.timings = await timings(
      nums(a.grids!),
      nums(a.batches!),
      Number(a.repeats),
      fallback,
      log,
    );
  }
  await writeJsonAtomic(a.out!, report);
  log(`wrote ${a.out}`);
  tf.disposeVariables();
  return report;
}

if (import.meta.main) {
  try {
    const r = await gpuCheckMain(Deno.args);
    if (r && (r.mode === "no-webgpu" || !r.parity?.ok)) Deno.exit(1);
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
