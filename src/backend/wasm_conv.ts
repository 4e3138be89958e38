/**
 * The convolution engine of the wasm path: the kernels of `wasm/conv.c` (direct NHWC conv and its
 * filter gradient, SIMD128 with relaxed-SIMD FMA where the engine has it) in their own shared
 * WebAssembly memory, optionally run on two threads: the calling thread and one helper
 * `node:worker_threads` Worker (unref'd, so it never keeps a process alive) split the output rows
 * and meet on an `Atomics` flag. Calls are synchronous (they run inside tfjs kernels).
 *
 * tfjs-wasm runs on one thread in Deno and its XNNPACK convolutions use no FMA; these kernels are
 * 1.2–1.8× faster on one thread and split the work on two (`bench/unet_peer.ts`).
 * @module
 */

import type { Worker } from "node:worker_threads";
import { startHelperThread } from "./helper_thread.ts";
import { SoadError } from "../errors.ts";
import { CONV_RELAXED_WASM_BASE64, CONV_SIMD_WASM_BASE64 } from "../../wasm/conv_wasm.ts";
import { CONV_JOBS, type ConvJob } from "./conv_jobs.ts";

/** Shape of one convolution: padded input `[n, hp, wp, cin]`, filter `[kh, kw, cin, cout]`. */
export interface ConvGeometry {
  /** Images (frames) in the batch. */
  n: number;
  /** Padded input height. */
  hp: number;
  /** Padded input width. */
  wp: number;
  /** Input channels. */
  cin: number;
  /** Filter height. */
  kh: number;
  /** Filter width. */
  kw: number;
  /** Output channels. */
  cout: number;
  /** Stride on both axes. */
  stride: number;
}

/** The conv module's exports: the jobs of {@link CONV_JOBS} plus these. */
export type ConvExports = Record<ConvJob | "kdft_rows", (...args: number[]) => void> & {
  conv_pack_bytes(kh: number, kw: number, cin: number, cout: number): number;
  __heap_base: WebAssembly.Global;
};

const PAGE = 65536;
const MAX_PAGES = 32768; // 2 GiB, as linked
/** Int32 control block at the heap base: [job seq, done seq, fn, 16 args]. */
const CTL_INTS = 20;
/** Below this many multiply-adds a call stays on one thread (a hand-off costs ~20–50 µs). */
const SPLIT_MIN_MACS = 2_000_000;

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The module bytes this engine runs: relaxed-SIMD FMA when the engine validates it. */
function moduleBytes(): { bytes: Uint8Array<ArrayBuffer>; relaxed: boolean } {
  const relaxed = decode(CONV_RELAXED_WASM_BASE64);
  if (WebAssembly.validate(relaxed)) return { bytes: relaxed, relaxed: true };
  return { bytes: decode(CONV_SIMD_WASM_BASE64), relaxed: false };
}

/** Bytes of `n` floats rounded up to a 64-byte boundary (heap layout of one call). */
export function al(n: number): number {
  return (n * 4 + 63) & ~63;
}

/** Output size of a valid convolution along one axis. */
function outSize(padded: number, k: number, stride: number): number {
  return Math.floor((padded - k) / stride) + 1;
}

function checkGeometry(g: ConvGeometry): { ho: number; wo: number } {
  for (const k of ["n", "hp", "wp", "cin", "kh", "kw", "cout", "stride"] as const) {
    if (!Number.isInteger(g[k]) || g[k] < 1) {
      throw new SoadError(`conv geometry: ${k} must be a positive integer, got ${g[k]}`);
    }
  }
  const { hp, wp, kh, kw, stride } = g;
  if (kh > hp || kw > wp) {
    throw new SoadError(`conv geometry: filter ${kh}×${kw} larger than the input ${hp}×${wp}`);
  }
  return { ho: outSize(hp, kh, stride), wo: outSize(wp, kw, stride) };
}

/** A conv engine: one shared memory, the module instance of this thread, an optional helper. */
export class ConvEngine {
  readonly relaxed: boolean;
  readonly #module: WebAssembly.Module;
  readonly #memory: WebAssembly.Memory;
  readonly #ex: ConvExports;
  readonly #ctl: Int32Array;
  readonly #heap: number;
  #helper: Worker | undefined;
  #seq = 0;

  constructor() {
    const { bytes, relaxed } = moduleBytes();
    this.relaxed = relaxed;
    this.#module = new WebAssembly.Module(bytes);
    this.#memory = new WebAssembly.Memory({ initial: 64, maximum: MAX_PAGES, shared: true });
    const inst = new WebAssembly.Instance(this.#module, { env: { memory: this.#memory } });
    this.#ex = inst.exports as unknown as ConvExports;
    const base = (this.#ex.__heap_base.value as number + 63) & ~63;
    this.#ctl = new Int32Array(this.#memory.buffer, base, CTL_INTS);
    this.#heap = base + CTL_INTS * 4 + 64;
  }

  get threads(): number {
    return this.#helper ? 2 : 1;
  }

  /** The module's exports (on this thread). */
  get exports(): ConvExports {
    return this.#ex;
  }

  /** Byte offset of the first heap byte a call may use (see {@link reserve}). */
  get heap(): number {
    return this.#heap;
  }

  /**
   * Runs `job` over the items [0, count): on both threads (the helper takes [count/2, count),
   * part 1) when there is a helper, count ≥ 2 and `work` (multiply-adds) is large enough, else on
   * this thread alone. `args(lo, hi, part)` gives the job's arguments. Returns whether it split.
   */
  run(
    job: ConvJob,
    args: (lo: number, hi: number, part: 0 | 1) => number[],
    count: number,
    work: number,
  ): boolean {
    const fn = this.#ex[job];
    if (this.#split(count, work)) {
      const mid = count >> 1;
      this.#post(CONV_JOBS.indexOf(job), args(mid, count, 1));
      fn(...args(0, mid, 0));
      this.#join();
      return true;
    }
    fn(...args(0, count, 0));
    return false;
  }

  /** Starts (or stops) the helper thread; resolves when it is ready. */
  async setThreads(n: number): Promise<number> {
    if (n <= 1) {
      this.close();
      return 1;
    }
    if (this.#helper) return 2;
    const worker = await startHelperThread(new URL("./conv_thread.ts", import.meta.url), {
      module: this.#module,
      memory: this.#memory,
      ctl: this.#ctl.byteOffset,
    });
    this.#helper = worker;
    return 2;
  }

  close(): void {
    if (!this.#helper) return;
    const worker = this.#helper;
    this.#helper = undefined;
    this.#post(0, []); // fn 0: exit
    void worker.terminate();
  }

  /** Makes sure `bytes` from the heap start are available; returns a fresh f32 view. */
  reserve(bytes: number): Float32Array {
    const need = this.#heap + bytes;
    const have = this.#memory.buffer.byteLength;
    if (need > have) {
      const pages = Math.ceil((need - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        throw new SoadError(
          `conv engine: one call needs ${need} bytes of its wasm memory, more than its ` +
            `${MAX_PAGES * PAGE} bytes (2 GiB) maximum; expected smaller convolutions ` +
            `(fewer frames, channels or pixels per call)`,
        );
      }
      try {
        this.#memory.grow(pages);
      } catch (e) {
        // a RangeError when the system cannot back the memory: say what was asked for
        throw new SoadError(
          `conv engine: could not grow its wasm memory from ${have} to ${need} bytes ` +
            `(${(e as Error).message}); the process is out of memory`,
        );
      }
    }
    return new Float32Array(this.#memory.buffer);
  }

  /** Posts job `fn` (an index of {@link CONV_JOBS}; 0 exit) to the helper. */
  #post(fn: number, args: number[]): void {
    const c = this.#ctl;
    c[2] = fn;
    for (let i = 0; i < args.length; i++) c[3 + i] = args[i];
    this.#seq = (this.#seq + 1) | 0;
    Atomics.store(c, 0, this.#seq);
    Atomics.notify(c, 0);
  }

  /** Whether a call of `rows` output rows and `macs` multiply-adds goes to both threads. */
  #split(rows: number, macs: number): boolean {
    return this.#helper !== undefined && rows >= 2 && macs >= SPLIT_MIN_MACS;
  }

  #join(): void {
    const c = this.#ctl;
    for (;;) {
      const d = Atomics.load(c, 1);
      if (d === this.#seq) return;
      Atomics.wait(c, 1, d, 10_000);
    }
  }

  forward(
    x: Float32Array,
    f: Float32Array,
    bias: Float32Array | null,
    g: ConvGeometry,
    out: Float32Array,
  ): void {
    const { ho, wo } = checkGeometry(g);
    const { n, hp, wp, cin, kh, kw, cout, stride } = g;
    sizes(x, n * hp * wp * cin, "input");
    sizes(f, kh * kw * cin * cout, "filter");
    if (bias) sizes(bias, cout, "bias");
    sizes(out, n * ho * wo * cout, "output");
    const px = this.#heap, pf = px + al(x.length), pb = pf + al(f.length);
    const po = pb + al(cout), ps = po + al(out.length);
    const end = ps + this.#ex.conv_pack_bytes(kh, kw, cin, cout);
    const F = this.reserve(end - this.#heap);
    F.set(x, px >> 2);
    F.set(f, pf >> 2);
    if (bias) F.set(bias, pb >> 2);
    const geo = [hp, wp, cin, kh, kw, cout, stride, ho, wo];
    const rows = n * ho;
    const fn = this.#ex.conv_fwd;
    fn(px, pf, bias ? pb : 0, po, ps, ...geo, 0, 0, 1); // packs the filter once
    if (this.#split(rows, rows * wo * cout * kh * kw * cin)) {
      const mid = rows >> 1;
      this.#post(1, [px, pf, bias ? pb : 0, po, ps, ...geo, mid, rows, 0]);
      fn(px, pf, bias ? pb : 0, po, ps, ...geo, 0, mid, 0);
      this.#join();
    } else {
      fn(px, pf, bias ? pb : 0, po, ps, ...geo, 0, rows, 0);
    }
    out.set(F.subarray(po >> 2, (po >> 2) + out.length));
  }

  filterGrad(x: Float32Array, dy: Float32Array, g: ConvGeometry, out: Float32Array): void {
    const { ho, wo } = checkGeometry(g);
    const { n, hp, wp, cin, kh, kw, cout, stride } = g;
    sizes(x, n * hp * wp * cin, "input");
    sizes(dy, n * ho * wo * cout, "output cotangent");
    const nw = kh * kw * cin * cout;
    sizes(out, nw, "filter gradient");
    const px = this.#heap, pd = px + al(x.length), pw1 = pd + al(dy.length), pw2 = pw1 + al(nw);
    const F = this.reserve(pw2 + al(nw) - this.#heap);
    F.set(x, px >> 2);
    F.set(dy, pd >> 2);
    const geo = [hp, wp, cin, kh, kw, cout, stride, ho, wo];
    const rows = n * ho;
    const fn = this.#ex.conv_wgrad;
    const w1 = F.subarray(pw1 >> 2, (pw1 >> 2) + nw);
    w1.fill(0);
    if (this.#split(rows, rows * wo * cout * kh * kw * cin)) {
      const w2 = F.subarray(pw2 >> 2, (pw2 >> 2) + nw);
      w2.fill(0);
      const mid = rows >> 1;
      this.#post(2, [px, pd, pw2, ...geo, mid, rows]);
      fn(px, pd, pw1, ...geo, 0, mid);
      this.#join();
      for (let i = 0; i < nw; i++) out[i] = w1[i] + w2[i];
    } else {
      fn(px, pd, pw1, ...geo, 0, rows);
      out.set(w1);
    }
  }
}

function sizes(a: Float32Array, want: number, what: string): void {
  if (a.length !== want) {
    throw new SoadError(`conv: the ${what} has ${a.length} values, expected ${want}`);
  }
}

let engine: ConvEngine | undefined;

/** The conv engine of this thread (created on first use). */
export function getEngine(): ConvEngine {
  engine ??= new ConvEngine();
  return engine;
}

/**
 * Valid 2-D convolution plus bias of a padded NHWC input: `out[b, y, x, o] = bias[o] +
 * Σ_{u,v,i} x[b, s·y + u, s·x + v, i] · f[u, v, i, o]`, written into `out`
 * (`[n, ho, wo, cout]`, ho = ⌊(hp − kh)/s⌋ + 1). Runs on the engine's threads.
 *
 * @example
 * ```ts
 * import { wasmConvForward } from "@soad/soad/internal";
 * const out = new Float32Array(2);
 * wasmConvForward(new Float32Array([1, 2, 3]), new Float32Array([1, 1]), null,
 *   { n: 1, hp: 1, wp: 3, cin: 1, kh: 1, kw: 2, cout: 1, stride: 1 }, out);
 * console.log(out); // Float32Array [3, 5]
 * ```
 */
export function wasmConvForward(
  x: Float32Array,
  filter: Float32Array,
  bias: Float32Array | null,
  geometry: ConvGeometry,
  out: Float32Array,
): void {
  getEngine().forward(x, filter, bias, geometry, out);
}

/**
 * Filter gradient of {@link wasmConvForward}: `out[u, v, i, o] = Σ_{b,y,x} x[b, s·y + u, s·x + v,
 * i] · dy[b, y, x, o]` (`[kh, kw, cin, cout]`), from the padded input and the output cotangent.
 *
 * @example
 * ```ts
 * import { wasmConvFilterGrad } from "@soad/soad/internal";
 * const dw = new Float32Array(2);
 * wasmConvFilterGrad(new Float32Array([1, 2, 3]), new Float32Array([1, 1]),
 *   { n: 1, hp: 1, wp: 3, cin: 1, kh: 1, kw: 2, cout: 1, stride: 1 }, dw);
 * console.log(dw); // Float32Array [3, 5]
 * ```
 */
export function wasmConvFilterGrad(
  x: Float32Array,
  dy: Float32Array,
  geometry: ConvGeometry,
  out: Float32Array,
): void {
  getEngine().filterGrad(x, dy, geometry, out);
}

/**
 * Sets the threads of the conv engine of this thread: 1 (default) or 2 (this thread plus one
 * helper Worker; more are not used). Resolves to the count in effect. The helper never keeps the
 * process alive; {@link closeConvThreads} stops it.
 *
 * @example
 * ```ts
 * import { closeConvThreads, setConvThreads } from "@soad/soad/internal";
 * console.log(await setConvThreads(2)); // 2
 * closeConvThreads();
 * ```
 */
export async function setConvThreads(threads: number): Promise<number> {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new SoadError(`conv threads must be a positive integer, got ${threads}`);
  }
  return await getEngine().setThreads(threads);
}

/**
 * Stops the helper thread of the conv engine, if any (the engine keeps working on one thread).
 *
 * @example
 * ```ts
 * import { closeConvThreads } from "@soad/soad/internal";
 * closeConvThreads();
 * ```
 */
export function closeConvThreads(): void {
  engine?.close();
}

/**
 * What the conv engine of this thread runs: thread count and whether relaxed-SIMD FMA is used.
 *
 * @example
 * ```ts
 * import { convEngineInfo } from "@soad/soad/internal";
 * console.log(convEngineInfo().threads); // 1
 * ```
 */
export function convEngineInfo(): { threads: number; relaxedSimd: boolean } {
  const e = getEngine();
  return { threads: e.threads, relaxedSimd: e.relaxed };
}
