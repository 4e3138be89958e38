/**
 * An onnxruntime-web engine for the denoiser: an ORT session on the bytes of
 * {@link exportOnnx} behind the {@link Denoiser} interface, forward only unless a VJP model
 * (`exportOnnxVjp`, experimental, 1 wasm thread) is given. Execution provider:
 * WebGPU (with `preferredLayout: "NCHW"`; ORT's default NHWC gives wrong results here) only on a
 * hardware adapter, else wasm with `numThreads` = the cores.
 *
 * Two ORT builds are used. In Deno the plain `onnxruntime-web` import resolves to ORT's Node
 * build: wasm only, and the one whose wasm threads work. WebGPU needs the `onnxruntime-web/webgpu`
 * build, whose threaded wasm fails in Deno; it is imported only when WebGPU is chosen, with one
 * wasm thread (its wasm side only runs shape ops). ORT reads the wasm thread count once per
 * process, when the first session is created; later requests cannot change it.
 * @module
 */

import * as ort from "onnxruntime-web";
import { InvalidArgumentError, SoadError } from "../errors.ts";
import type { Denoiser, DenoiseVjpResult, WindowShape } from "../diffusion/denoiser.ts";
import { ONNX_IO } from "./export.ts";
import { ONNX_VJP_IO } from "./export_vjp.ts";

/**
 * Execution providers of the engine.
 *
 * @example
 * ```ts
 * import type { OrtProvider } from "@soad/soad";
 * const p: OrtProvider = "wasm";
 * console.log(p); // "wasm"
 * ```
 */
export type OrtProvider = "wasm" | "webgpu";

/**
 * Options of {@link createOrtDenoiser}.
 *
 * @example
 * ```ts
 * import type { OrtDenoiserOptions } from "@soad/soad";
 * const o: OrtDenoiserOptions = { provider: "wasm", numThreads: 2, quiet: true };
 * console.log(o.numThreads); // 2
 * ```
 */
export interface OrtDenoiserOptions {
  /** `"auto"` (default): WebGPU on a hardware adapter, else wasm; or exactly this provider. */
  provider?: "auto" | OrtProvider;
  /** wasm threads (default `navigator.hardwareConcurrency`); fixed at the first session. */
  numThreads?: number;
  /** Accept a software (fallback) WebGPU adapter (tests only; slower than wasm). */
  allowSoftwareGpu?: boolean;
  /** Do not log the choice (default false). */
  quiet?: boolean;
  /**
   * ONNX bytes of `exportOnnxVjp` (same weights): enables `denoiseVjp`. Experimental: on wasm
   * only with 1 thread (the threaded build deadlocks intermittently on this graph in Deno).
   */
  vjpModel?: Uint8Array;
}

/**
 * The ORT denoiser. Call `dispose()` when done.
 *
 * @example
 * ```ts
 * import type { OrtDenoiser } from "@soad/soad";
 * const describe = (d: OrtDenoiser): string => `${d.provider} × ${d.numThreads}`;
 * console.log(typeof describe); // "function"
 * ```
 */
export interface OrtDenoiser extends Denoiser {
  /** The execution provider in use. */
  readonly provider: OrtProvider;
  /** wasm threads of this process (ORT's global setting; 1 for the WebGPU build). */
  readonly numThreads: number;
  /** Why this provider was chosen. */
  readonly reason: string;
  /** Whether `denoiseVjp` is available (created with `vjpModel`). */
  readonly hasVjp: boolean;
  /** Releases the session. */
  dispose(): Promise<void>;
}

let wasmThreads: number | undefined;
type Ort = typeof ort;
let webgpuOrt: Promise<Ort> | undefined;

/** The WebGPU build of ORT (loaded on first use, one wasm thread). */
function loadWebgpuOrt(): Promise<Ort> {
  webgpuOrt ??= (async () => {
    const m = await import("onnxruntime-web/webgpu");
    m.env.wasm.numThreads = 1;
    return m as unknown as Ort;
  })();
  return webgpuOrt;
}

/** Sets ORT's wasm thread count before the first session; returns the count in effect. */
function initThreads(requested: number): number {
  if (wasmThreads === undefined) {
    ort.env.wasm.numThreads = requested;
    wasmThreads = requested;
  }
  return wasmThreads;
}

interface Probe {
  adapter?: string;
  fallback?: boolean;
  error?: string;
}

async function probeGpu(): Promise<Probe> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) return { error: "navigator.gpu is not available" };
  try {
    const a = await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (!a) return { error: "requestAdapter() returned null" };
    const info = a.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const legacy = (a as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
    const desc = [info?.description, info?.vendor, info?.architecture, info?.device]
      .filter((s) => typeof s === "string" && s.length > 0).join(" / ");
    return {
      adapter: desc || "unknown adapter",
      fallback: Boolean(info?.isFallbackAdapter ?? legacy),
    };
  } catch (e) {
    return { error: `requesting a WebGPU adapter failed: ${(e as Error).message}` };
  }
}

class OrtDenoiserImpl implements OrtDenoiser {
  #released = false;
  constructor(
    readonly lib: Ort,
    readonly session: ort.InferenceSession,
    readonly vjpSession: ort.InferenceSession | undefined,
    readonly provider: OrtProvider,
    readonly numThreads: number,
    readonly reason: string,
  ) {}

  get hasVjp(): boolean {
    return this.vjpSession !== undefined;
  }

  /** Validates the inputs; returns t broadcast to length B. */
  #check(z: Float32Array, shape: WindowShape, t: Float32Array, w?: Float32Array): Float32Array {
    if (this.#released) throw new InvalidArgumentError("this ORT denoiser has been disposed");
    if (
      !Array.isArray(shape) || shape.length !== 5 ||
      !shape.every((d) => Number.isInteger(d) && d > 0)
    ) {
      throw new InvalidArgumentError(`shape must be [B, L, C, H, W], got [${shape}]`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (!(z instanceof Float32Array) || z.length !== size) {
      throw new InvalidArgumentError(`z must be a Float32Array of ${size} values for [${shape}]`);
    }
    const B = shape[0];
    if (!(t instanceof Float32Array) || (t.length !== B && t.length !== 1)) {
      throw new InvalidArgumentError(`t must be a Float32Array of length B = ${B} or 1`);
    }
    if (w !== undefined && (!(w instanceof Float32Array) || w.length !== size)) {
      throw new InvalidArgumentError(`w must be a Float32Array of ${size} values like z`);
    }
    return t.length === B ? t : new Float32Array(B).fill(t[0]);
  }

  async #run(
    session: ort.InferenceSession,
    feeds: Record<string, Float32Array>,
    shape: WindowShape,
    outputs: string[],
  ): Promise<Float32Array[]> {
    const B = shape[0];
    const T = this.lib.Tensor;
    const inputs: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) {
      inputs[k] = new T("float32", v, k === ONNX_IO.t ? [B] : shape);
    }
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run(inputs);
    } catch (e) {
      throw new InvalidArgumentError(
        `onnxruntime rejected z [${shape}], t [${B}]: ${(e as Error).message}`,
      );
    }
    const res: Float32Array[] = [];
    try {
      for (const name of outputs) {
        const v = out[name];
        const d = v.location === "cpu" ? v.data : await v.getData();
        res.push(d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>));
      }
    } finally {
      for (const v of Object.values(out)) v.dispose();
    }
    return res;
  }

  async denoise(z: Float32Array, shape: WindowShape, t: Float32Array): Promise<Float32Array> {
    const tb = this.#check(z, shape, t);
    const [eps] = await this.#run(this.session, { z, t: tb }, shape, [ONNX_IO.eps]);
    return eps;
  }

  async denoiseVjp(
    z: Float32Array,
    shape: WindowShape,
    t: Float32Array,
    w: Float32Array,
  ): Promise<DenoiseVjpResult> {
    if (!this.vjpSession) {
      throw new SoadError(
        "this ORT denoiser is forward-only (no vector-Jacobian product): create it with " +
          "vjpModel (exportOnnxVjp) or use the tfjs U-Net (createUNet) for SOAD/SDA sampling " +
          "with the likelihood; a forward-only engine serves prior sampling (priorNoise)",
      );
    }
    const tb = this.#check(z, shape, t, w);
    const [eps, grad] = await this.#run(
      this.vjpSession,
      { z, t: tb, [ONNX_VJP_IO.w]: w },
      shape,
      [ONNX_IO.eps, ONNX_VJP_IO.grad],
    );
    return { eps, grad };
  }

  async dispose(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.session.release();
    await this.vjpSession?.release();
  }
}

/**
 * Creates an ORT session on ONNX bytes from {@link exportOnnx} and wraps it as a
 * {@link Denoiser}: forward only (its `denoiseVjp` rejects with a `SoadError`) unless
 * `vjpModel` (bytes of `exportOnnxVjp`, same weights) is given. Throws a `SoadError` when the
 * requested provider cannot be used or ORT refuses a model.
 *
 * @example
 * ```ts
 * import { createOrtDenoiser } from "@soad/soad";
 * import { exportOnnx } from "@soad/soad";
 * import { initUNetWeights } from "@soad/soad/internal";
 * const config = { channels: 2, widths: [4, 8], blocks: 1, kernel: 5, frames: 3 };
 * const onnx = await exportOnnx({ config, weights: initUNetWeights(config, 0) });
 * const net = await createOrtDenoiser(onnx, { provider: "wasm", quiet: true });
 * const eps = await net.denoise(new Float32Array(384), [1, 3, 2, 8, 8], new Float32Array([0.5]));
 * console.log(eps.length); // 384
 * await net.dispose();
 * ```
 */
export async function createOrtDenoiser(
  model: Uint8Array,
  options: OrtDenoiserOptions = {},
): Promise<OrtDenoiser> {
  const want = options.provider ?? "auto";
  if (!["auto", "wasm", "webgpu"].includes(want)) {
    throw new InvalidArgumentError(`provider must be "auto", "wasm" or "webgpu", got ${want}`);
  }
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  const requested = options.numThreads ?? cores;
  if (!Number.isInteger(requested) || requested < 1) {
    throw new InvalidArgumentError(`numThreads must be a positive integer, got ${requested}`);
  }
  const threads = initThreads(requested);
  let provider: OrtProvider = "wasm";
  let reason = "";
  if (want !== "wasm") {
    const p = await probeGpu();
    if (p.error) reason = `webgpu: ${p.error}`;
    else if (p.fallback && !options.allowSoftwareGpu) {
      reason = `webgpu: adapter "${p.adapter}" is a software fallback adapter`;
    } else {
      provider = "webgpu";
      reason = `WebGPU adapter "${p.adapter}"${p.fallback ? " (software, allowed)" : ""}`;
    }
    if (want === "webgpu" && provider !== "webgpu") {
      throw new SoadError(`cannot use the ORT WebGPU provider: ${reason}`);
    }
  }
  if (provider === "wasm") {
    const why = want === "wasm" ? "requested" : reason;
    reason = `wasm with ${threads} thread${threads > 1 ? "s" : ""}${why ? ` (${why})` : ""}`;
    if (threads !== requested) {
      reason += `; ${requested} requested, but ORT was started with ${threads}`;
    }
  }
  const eps: ort.InferenceSession.ExecutionProviderConfig[] = provider === "webgpu"
    ? [{ name: "webgpu", preferredLayout: "NCHW" }]
    : ["wasm"];
  const lib = provider === "webgpu" ? await loadWebgpuOrt() : ort;
  const open = async (bytes: Uint8Array, what: string): Promise<ort.InferenceSession> => {
    try {
      return await lib.InferenceSession.create(bytes, {
        executionProviders: eps,
        graphOptimizationLevel: "all",
        // errors only: the WebGPU EP warns that shape ops run on the CPU, as designed
        logSeverityLevel: 3,
      });
    } catch (e) {
      throw new SoadError(
        `onnxruntime could not load the ${what} on ${provider}: ${(e as Error).message}`,
      );
    }
  };
  const session = await open(model, "model");
  let vjpSession: ort.InferenceSession | undefined;
  if (options.vjpModel && provider === "wasm" && threads > 1) {
    await session.release();
    throw new SoadError(
      `vjpModel needs ORT's wasm provider on 1 thread (numThreads: 1 before the first ORT ` +
        `session of the process), this process runs ${threads}: the VJP graph deadlocks ` +
        `intermittently in onnxruntime-web 1.30's threaded wasm under Deno`,
    );
  }
  if (options.vjpModel) {
    try {
      vjpSession = await open(options.vjpModel, "VJP model");
    } catch (e) {
      await session.release();
      throw e;
    }
    if (!vjpSession.outputNames.includes(ONNX_VJP_IO.grad)) {
      await session.release();
      await vjpSession.release();
      throw new InvalidArgumentError("vjpModel has no 'grad' output: export it with exportOnnxVjp");
    }
  }
  if (!options.quiet) console.error(`soad: ORT denoiser on ${provider}: ${reason}`);
  const nThreads = provider === "webgpu" ? 1 : threads;
  return new OrtDenoiserImpl(lib, session, vjpSession, provider, nThreads, reason);
}
