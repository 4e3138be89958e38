/**
 * The SIMD WebAssembly engine of the LETKF's local analyses (kernel: `wasm/letkf.c`, embedded as
 * base64 in `wasm/letkf_wasm.ts`, so no file or network permission is needed). It computes, for a
 * range of grid columns, what `letkfAnalysis`'s TypeScript path computes, without forming
 * eigenvectors: A = Q T Qᵀ by Householder reflectors, T's eigenvalues by implicit QL with its
 * rotations applied to the few vectors that are needed (the layers' anomalies and Ybᵀ R⁻¹ d).
 *
 * Memory: each {@link LetkfWasmKernel} owns its instance and its shared `WebAssembly.Memory`, grown
 * when a call needs more; the neighbour lists are copied in once and reused while the same
 * {@link LetkfNeighbours} object is passed again. Threads: optionally one helper
 * `node:worker_threads` Worker (unref'd, so it never keeps a process alive) runs the same module
 * on the same memory and analyses the second half of the columns while the calling thread does
 * the first; they meet on an `Atomics` flag, so calls stay synchronous. Every column is computed
 * by the same code whichever thread runs it: the result does not depend on the thread count.
 * @module
 */

import type { Worker } from "node:worker_threads";
import { startHelperThread } from "../backend/helper_thread.ts";
import { LETKF_WASM_BASE64 } from "../../wasm/letkf_wasm.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { LetkfNeighbours } from "./letkf_neighbours.ts";

interface Exports {
  letkf_scratch_doubles(N: number, layers: number, pmax: number): number;
  letkf_columns(
    N: number,
    layers: number,
    G: number,
    c0: number,
    c1: number,
    offsets: number,
    index: number,
    weight: number,
    rinv: number,
    Yt: number,
    d: number,
    xm: number,
    Xp: number,
    out: number,
    diag: number,
    sqrtRho: number,
    alpha: number,
    pmax: number,
    scratch: number,
    chunk: number,
    next: number,
  ): number;
  __heap_base: WebAssembly.Global;
}

/** One analysis's prepared inputs, as `letkfAnalysis` computes them (float64). */
export interface LetkfColumnsInput {
  /** Members N. */
  members: number;
  /** Layers per column. */
  layers: number;
  /** The neighbour lists (G = offsets.length − 1 columns). */
  neighbours: LetkfNeighbours;
  /** 1/σo² per observation, `[m]`. */
  rinv: Float64Array;
  /** Observed-member anomalies, obs-major `[m][N]`. */
  Yt: Float64Array;
  /** Innovations y − mean H(x), `[m]`. */
  d: Float64Array;
  /** Forecast mean `[layers][ny][nx]`. */
  xm: Float64Array;
  /** Forecast anomalies `[N][layers][ny][nx]`. */
  Xp: Float64Array;
  /** Prior inflation ρ ≥ 1. */
  inflation: number;
  /** Relaxation to prior spread α in [0, 1] (default 0: none), applied per column. */
  rtps?: number;
}

const PAGE = 65536;
const ARGS = 21;
const MAX_PAGES = 65536; // 4 GiB, the module's --max-memory
/**
 * Control block at the heap base: int32 [seq, done, fn, rc, next column, 3 unused], then the
 * 20 float64 arguments of the helper's call.
 */
const CTL_BYTES = 32 + ARGS * 8;
/** Columns per claim of the shared column counter. */
const CHUNK = 32;
/** Fewer columns than this are not shared with the helper. */
const SPLIT_MIN_COLUMNS = 2 * CHUNK;
let compiled: WebAssembly.Module | undefined;

function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    const bin = atob(LETKF_WASM_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/**
 * The local analyses of an LETKF step in WebAssembly. `letkfAnalysis` uses one by default; use it
 * directly to analyse a range of columns (e.g. one share per Worker).
 *
 * @example
 * ```ts
 * import { LetkfWasmKernel } from "./letkf_wasm.ts";
 * import { letkfNeighbours } from "./letkf.ts";
 * const neighbours = letkfNeighbours({ nx: 1, ny: 1, layers: 1, lengthX: 1 }, [0.5, 0.5], 1);
 * // two members ±1 observed directly with σo = 1 and y = 2: the mean moves to 4/3
 * const out = new LetkfWasmKernel().analyse({
 *   members: 2, layers: 1, neighbours, inflation: 1, rinv: Float64Array.of(1),
 *   Yt: Float64Array.of(1, -1), d: Float64Array.of(2), xm: Float64Array.of(0), Xp: Float64Array.of(1, -1),
 * });
 * console.log(((out[0] + out[1]) / 2).toFixed(6)); // "1.333333"
 * ```
 */
export class LetkfWasmKernel {
  #memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
  #exports: Exports;
  #ctl: number;
  #heap: number;
  #nb: LetkfNeighbours | undefined;
  #nbBytes = 0;
  #helper: Worker | undefined;
  #seq = 0;

  constructor() {
    const instance = new WebAssembly.Instance(kernelModule(), { env: { memory: this.#memory } });
    this.#exports = instance.exports as unknown as Exports;
    this.#ctl = Math.ceil((this.#exports.__heap_base.value as number) / 64) * 64;
    this.#heap = this.#ctl + Math.ceil(CTL_BYTES / 64) * 64;
  }

  /** Threads that analyse columns: 1, or 2 with the helper. */
  get threads(): number {
    return this.#helper ? 2 : 1;
  }

  /**
   * Uses 1 thread (stops the helper) or 2 (starts one helper Worker; more are not used). Resolves
   * to the count in effect once the helper is ready.
   *
   * @example
   * ```ts
   * import { LetkfWasmKernel } from "./letkf_wasm.ts";
   * const kernel = new LetkfWasmKernel();
   * console.log(await kernel.setThreads(2)); // 2
   * kernel.close();
   * ```
   */
  async setThreads(n: number): Promise<number> {
    if (!(Number.isInteger(n) && n >= 1)) {
      throw new InvalidArgumentError(`LETKF threads must be an integer >= 1, got ${n}`);
    }
    if (n === 1) {
      this.close();
      return 1;
    }
    if (this.#helper) return 2;
    const worker = await startHelperThread(new URL("./letkf_thread.ts", import.meta.url), {
      module: kernelModule(),
      memory: this.#memory,
      ctl: this.#ctl,
    });
    this.#helper = worker;
    return 2;
  }

  /**
   * Stops the helper thread, if any (the kernel keeps working on the calling thread).
   *
   * @example
   * ```ts
   * import { LetkfWasmKernel } from "./letkf_wasm.ts";
   * const kernel = new LetkfWasmKernel();
   * kernel.close();
   * console.log(kernel.threads); // 1
   * ```
   */
  close(): void {
    if (!this.#helper) return;
    const worker = this.#helper;
    this.#helper = undefined;
    this.#post(0, []);
    void worker.terminate();
  }

  #post(fn: number, args: number[]): void {
    const c = new Int32Array(this.#memory.buffer, this.#ctl, 8);
    c[2] = fn;
    new Float64Array(this.#memory.buffer, this.#ctl + 32, ARGS).set(args);
    this.#seq = (this.#seq + 1) | 0;
    Atomics.store(c, 0, this.#seq);
    Atomics.notify(c, 0);
  }

  /** Waits for the helper's job; returns its return code. */
  #join(): number {
    const c = new Int32Array(this.#memory.buffer, this.#ctl, 8);
    for (;;) {
      const d = Atomics.load(c, 1);
      if (d === this.#seq) return c[3];
      Atomics.wait(c, 1, d, 10_000);
    }
  }

  /**
   * The analysis ensemble `[N][layers][ny][nx]` of columns `c0 .. c1 − 1` (other columns of the
   * result are 0), for inputs prepared as in `letkfAnalysis`.
   *
   * @example
   * ```ts
   * import { LetkfWasmKernel } from "./letkf_wasm.ts";
   * import { letkfNeighbours } from "./letkf.ts";
   * const neighbours = letkfNeighbours({ nx: 2, ny: 1, layers: 1, lengthX: 2 }, [0.5, 0.5], 0.9);
   * const out = new LetkfWasmKernel().analyse({
   *   members: 2, layers: 1, neighbours, inflation: 4, rinv: Float64Array.of(1), Yt: Float64Array.of(1, -1),
   *   d: Float64Array.of(2), xm: Float64Array.of(0, 0), Xp: Float64Array.of(1, 1, -1, -1),
   * }, 1, 2);
   * console.log(out[1], out[3]); // 2 -2 (column 1 has no observation: the inflated prior)
   * ```
   */
  analyse(input: LetkfColumnsInput, c0 = 0, c1?: number): Float64Array {
    const { members: N, layers, neighbours: nb, rinv, Yt, d, xm, Xp, inflation } = input;
    const alpha = input.rtps ?? 0;
    if (!(alpha >= 0 && alpha <= 1)) {
      throw new InvalidArgumentError(`rtps must be in [0, 1], got ${alpha}`);
    }
    const G = nb.offsets.length - 1, S = layers * G, m = nb.observations, E = nb.index.length;
    const end = c1 ?? G;
    if (!(Number.isInteger(c0) && Number.isInteger(end) && 0 <= c0 && c0 <= end && end <= G)) {
      throw new InvalidArgumentError(`column range must be within 0..${G}, got ${c0}..${end}`);
    }
    if (
      rinv.length !== m || Yt.length !== m * N || d.length !== m || xm.length !== S ||
      Xp.length !== N * S
    ) {
      throw new InvalidArgumentError(
        `LETKF kernel inputs must be rinv [${m}], Yt [${m}, ${N}], d [${m}], xm [${S}] and ` +
          `Xp [${N}, ${S}], got ${rinv.length}, ${Yt.length}, ${d.length}, ${xm.length}, ${Xp.length}`,
      );
    }
    let pmax = 0;
    for (let c = c0; c < end; c++) pmax = Math.max(pmax, nb.offsets[c + 1] - nb.offsets[c]);
    const ex = this.#exports;
    // layout (bytes): [neighbour lists][rinv][Yt][d][xm][Xp][out][scratch per thread], 16-aligned
    const al = (b: number) => Math.ceil(b / 16) * 16;
    const oOff = this.#heap, oIdx = al(oOff + 4 * (G + 1)), oW = al(oIdx + 4 * E);
    const nbEnd = al(oW + 8 * E);
    const oR = nbEnd, oY = al(oR + 8 * m), oD = al(oY + 8 * m * N), oXm = al(oD + 8 * m);
    const oXp = al(oXm + 8 * S), oOut = al(oXp + 8 * N * S), oScr = al(oOut + 8 * N * S);
    const scratch = al(8 * ex.letkf_scratch_doubles(N, layers, pmax));
    const total = oScr + 2 * scratch;
    const have = this.#memory.buffer.byteLength;
    if (total > have) {
      const pages = Math.ceil((total - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        throw new InvalidArgumentError(
          `the LETKF kernel needs ${total} bytes of wasm memory, more than its 4 GiB: ` +
            `expected a smaller grid, fewer members or fewer observations per column`,
        );
      }
      this.#memory.grow(pages);
    }
    const buf = this.#memory.buffer;
    if (this.#nb !== nb || this.#nbBytes !== nbEnd) {
      new Int32Array(buf, oOff, G + 1).set(nb.offsets);
      new Int32Array(buf, oIdx, E).set(nb.index);
      new Float64Array(buf, oW, E).set(nb.weight);
      this.#nb = nb;
      this.#nbBytes = nbEnd;
    }
    new Float64Array(buf, oR, m).set(rinv);
    new Float64Array(buf, oY, m * N).set(Yt);
    new Float64Array(buf, oD, m).set(d);
    new Float64Array(buf, oXm, S).set(xm);
    new Float64Array(buf, oXp, N * S).set(Xp);
    const out = new Float64Array(buf, oOut, N * S);
    if (c0 > 0 || end < G) out.fill(0); // columns outside the range: 0
    const args = (scr: number): number[] => [
      N,
      layers,
      G,
      c0,
      end,
      oOff,
      oIdx,
      oW,
      oR,
      oY,
      oD,
      oXm,
      oXp,
      oOut,
      (N - 1) / inflation,
      Math.sqrt(inflation),
      alpha,
      pmax,
      scr,
      CHUNK,
      this.#ctl + 16,
    ];
    // both threads claim chunks of columns from the counter at ctl + 16 until none is left
    new Int32Array(buf, this.#ctl, 8)[4] = 0;
    let rc: number;
    if (this.#helper && end - c0 >= SPLIT_MIN_COLUMNS) {
      this.#post(1, args(oScr + scratch));
      const rc0 = ex.letkf_columns(...(args(oScr) as Parameters<Exports["letkf_columns"]>));
      const rc1 = this.#join();
      rc = rc0 !== 0 ? rc0 : rc1;
    } else {
      rc = ex.letkf_columns(...(args(oScr) as Parameters<Exports["letkf_columns"]>));
    }
    if (rc !== 0) {
      throw new InvalidArgumentError(
        `LETKF eigen-solve of column ${rc - 1} did not converge (non-finite input?)`,
      );
    }
    return out.slice();
  }
}

let shared: LetkfWasmKernel | undefined;

/**
 * The kernel `letkfAnalysis` uses (one per thread of the caller, created on first use).
 *
 * @example
 * ```ts
 * import { letkfKernel } from "./letkf_wasm.ts";
 * console.log(letkfKernel() === letkfKernel()); // true
 * ```
 */
export function letkfKernel(): LetkfWasmKernel {
  shared ??= new LetkfWasmKernel();
  return shared;
}

/**
 * Sets the threads of the LETKF analysis (`letkfAnalysis` with the default `"wasm"` engine): 1
 * (default) or 2 (the calling thread plus one helper Worker; more are not used). Resolves to the
 * count in effect. The result of an analysis does not depend on it; the helper never keeps the
 * process alive.
 *
 * @example
 * ```ts
 * import { setLetkfThreads } from "@soad/soad";
 * console.log(await setLetkfThreads(2)); // 2
 * console.log(await setLetkfThreads(1)); // 1
 * ```
 */
export async function setLetkfThreads(threads: number): Promise<number> {
  return await letkfKernel().setThreads(threads);
}
