/**
 * Choice of the tfjs tensor backend: WebGPU on a hardware adapter, else wasm (SIMD), else the
 * plain JavaScript cpu backend; and {@link readTensor}, the one safe way to read a tensor on
 * every backend (WebGPU has no synchronous reads in Deno).
 * @module
 */

import { convEngineInfo, setConvThreads } from "./wasm_conv.ts";
import * as tf from "@tensorflow/tfjs";
// Side-effect imports: they register the "wasm" and "webgpu" backends with tfjs.
import "@tensorflow/tfjs-backend-wasm";
import "@tensorflow/tfjs-backend-webgpu";
import { SoadError } from "../errors.ts";

// Both packages register with a priority above "cpu", and both initialize asynchronously, so a
// tf op run before an explicit tf.setBackend() would throw "the highest priority backend has not
// yet been initialized". Re-register them below cpu: until selectBackend() runs, tfjs uses cpu.
for (const name of ["webgpu", "wasm"]) {
  const factory = tf.findBackendFactory(name);
  if (factory && !(name in tf.engine().registry)) {
    tf.removeBackend(name);
    tf.registerBackend(name, factory, 0);
  }
}

// tfjs-wasm's Identity copies its input (tfjs's custom gradients run it on every input and output:
// ~380 copies per U-Net training pass); tensors are immutable, so share the data instead, as the
// cpu and webgl backends do.
interface RefCounting {
  incRef(dataId: tf.DataId): void;
}
tf.unregisterKernel("Identity", "wasm");
tf.registerKernel({
  kernelName: "Identity",
  backendName: "wasm",
  kernelFunc: ({ inputs, backend }) => {
    const x = inputs.x as tf.TensorInfo;
    (backend as unknown as RefCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
});

/** Names of the backends {@link selectBackend} can choose. */
export type BackendName = "webgpu" | "wasm" | "cpu";

/**
 * The backend in use after {@link selectBackend}.
 *
 * @example
 * ```ts
 * import type { BackendInfo } from "@soad/soad";
 * const info: BackendInfo = { name: "wasm", reason: "no usable WebGPU adapter; wasm with SIMD" };
 * console.log(info.isFallbackAdapter ?? false); // false
 * ```
 */
export interface BackendInfo {
  /** The tfjs backend name (`tf.getBackend()`). */
  name: BackendName;
  /** The WebGPU adapter description (webgpu only). */
  adapter?: string;
  /** Whether the WebGPU adapter is a software (fallback) one, such as llvmpipe (webgpu only). */
  isFallbackAdapter?: boolean;
  /** Why this backend was chosen. */
  reason: string;
  /** Threads of the wasm conv engine (wasm only; see `wasm_conv.ts`). */
  threads?: number;
}

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /** Use exactly this backend (throw a `SoadError` when it cannot be set); default: automatic. */
  prefer?: BackendName;
  /** Accept a software (fallback) WebGPU adapter; default false (it is slower than wasm). */
  allowSoftwareGpu?: boolean;
  /** Do not log the choice; default false. */
  quiet?: boolean;
  /**
   * Threads of the wasm conv engine, which runs the U-Net's convolutions on the wasm backend: 1
   * (default) or 2 (this thread and one helper; more are not used). Tasks that run one network
   * pass at a time use the machine's cores; data-parallel Workers keep 1 each.
   */
  threads?: number;
}

interface AdapterProbe {
  adapter?: string;
  isFallbackAdapter?: boolean;
  error?: string;
}

/** Asks navigator.gpu for an adapter and describes it, without creating a device. */
async function probeGpu(): Promise<AdapterProbe> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) return { error: "navigator.gpu is not available" };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (!adapter) return { error: "navigator.gpu.requestAdapter() returned null" };
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const legacy = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
    const desc = [info?.description, info?.vendor, info?.architecture, info?.device]
      .filter((s) => typeof s === "string" && s.length > 0).join(" / ");
    return {
      adapter: desc || "unknown adapter",
      isFallbackAdapter: Boolean(info?.isFallbackAdapter ?? legacy ?? false),
    };
  } catch (e) {
    return { error: `requesting a WebGPU adapter failed: ${(e as Error).message}` };
  }
}

/** Sets a tfjs backend and checks that it really is active (tf.setBackend fails silently). */
async function trySet(name: BackendName): Promise<string | null> {
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    if (!ok) return `tf.setBackend("${name}") returned false`;
    if (tf.getBackend() !== name) {
      return `tf.getBackend() is "${tf.getBackend()}" after setting "${name}"`;
    }
    return null;
  } catch (e) {
    return `tf.setBackend("${name}") threw: ${(e as Error).message}`;
  }
}

function wasmSimd(): boolean {
  try {
    return tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
  } catch {
    return false;
  }
}

/**
 * Chooses and activates the tfjs backend. Automatic order: WebGPU when `navigator.gpu` gives a
 * hardware (non-fallback) adapter, or the software one when `allowSoftwareGpu`; else wasm (SIMD);
 * else the JavaScript cpu backend. With `prefer`, exactly that backend is set or a `SoadError`
 * explains why it could not be. Create networks after calling this: tensors live on the backend
 * that was active when they were made.
 *
 * @example
 * ```ts
 * import { selectBackend } from "@soad/soad";
 * const info = await selectBackend({ prefer: "wasm", quiet: true });
 * console.log(info.name); // "wasm"
 * ```
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendInfo> {
  const { prefer, allowSoftwareGpu = false, quiet = false } = options;
  if (
    options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)
  ) {
    throw new SoadError(`threads must be a positive integer, got ${options.threads}`);
  }
  if (prefer !== undefined && !["webgpu", "wasm", "cpu"].includes(prefer)) {
    throw new SoadError(`unknown backend "${prefer}"; expected "webgpu", "wasm" or "cpu"`);
  }
  const notes: string[] = [];
  let info: BackendInfo | undefined;

  if (prefer === undefined || prefer === "webgpu") {
    const probe = await probeGpu();
    if (probe.error) {
      notes.push(`webgpu: ${probe.error}`);
    } else if (probe.isFallbackAdapter && !allowSoftwareGpu) {
      notes.push(
        `webgpu: adapter "${probe.adapter}" is a software fallback adapter (slower than wasm; ` +
          `pass allowSoftwareGpu to use it)`,
      );
    } else {
      const err = await trySet("webgpu");
      if (err) {
        notes.push(`webgpu: ${err}`);
      } else {
        info = {
          name: "webgpu",
          adapter: probe.adapter,
          isFallbackAdapter: probe.isFallbackAdapter,
          reason: probe.isFallbackAdapter
            ? `software WebGPU adapter "${probe.adapter}" allowed by allowSoftwareGpu`
            : (prefer ? "requested" : `hardware WebGPU adapter "${probe.adapter}"`),
        };
      }
    }
    if (!info && prefer === "webgpu") {
      throw new SoadError(`cannot use the webgpu backend: ${notes.join("; ")}`);
    }
  }
  if (!info && (prefer === undefined || prefer === "wasm")) {
    const err = await trySet("wasm");
    if (err) {
      notes.push(`wasm: ${err}`);
      if (prefer === "wasm") throw new SoadError(`cannot use the wasm backend: ${err}`);
    } else {
      const simd = wasmSimd();
      const why = prefer ? "requested" : "no usable WebGPU adapter";
      info = { name: "wasm", reason: `${why}; wasm ${simd ? "with" : "without"} SIMD` };
      if (!prefer && notes.length) info.reason += ` (${notes.join("; ")})`;
      let helperNote = "";
      try {
        info.threads = await setConvThreads(options.threads ?? 1);
      } catch (e) {
        // e.g. a runtime that cannot start the helper Worker: one thread still works
        info.threads = await setConvThreads(1);
        helperNote = ` (no helper thread: ${e instanceof Error ? e.message : e})`;
      }
      const fma = convEngineInfo().relaxedSimd ? "relaxed-SIMD FMA" : "SIMD128";
      info.reason += `; conv engine ${info.threads} thread(s), ${fma}${helperNote}`;
    }
  }
  if (!info) {
    const err = await trySet("cpu");
    if (err) {
      notes.push(`cpu: ${err}`);
      throw new SoadError(`cannot set any tfjs backend: ${notes.join("; ")}`);
    }
    info = { name: "cpu", reason: prefer ? "requested" : `fallback (${notes.join("; ")})` };
  }
  if (!quiet) {
    const adapter = info.adapter ? ` [${info.adapter}]` : "";
    console.error(`soad: tensor backend ${info.name}${adapter}: ${info.reason}`);
  }
  return info;
}

/**
 * The conv-engine thread count the tasks use by default: the machine's cores, at most 2 (the
 * engine uses no more).
 *
 * @example
 * ```ts
 * import { defaultThreads } from "@soad/soad";
 * console.log(defaultThreads() >= 1); // true
 * ```
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(2, navigator.hardwareConcurrency || 1));
}

/**
 * Reads a tensor's values as float32 with `await t.data()` (synchronous reads crash on WebGPU
 * in Deno). The tensor is not disposed.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { readTensor } from "@soad/soad/internal";
 * const t = tf.tensor1d([1, 2, 3]);
 * console.log(await readTensor(t)); // Float32Array [1, 2, 3]
 * t.dispose();
 * ```
 */
export async function readTensor(t: tf.Tensor): Promise<Float32Array> {
  const d = await t.data();
  return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
}
