/**
 * The SIMD WebAssembly engine behind {@link RealFFT2} (kernel: `wasm/fft.c`, embedded as base64
 * in `wasm/kernels_wasm.ts`, so no file or network permission is needed).
 *
 * Memory: every plan owns its own instance and its own `WebAssembly.Memory`, sized once at
 * creation and never grown afterwards, so the views handed out by `alloc` stay valid for the
 * life of the plan (growing a non-shared memory would detach them). The memory holds the plan
 * tables, a scratch spectrum, two staging fields for arrays that live outside the module memory,
 * and an arena of `arenaDoubles` doubles from which `alloc` carves its views (bump allocation,
 * never freed). When the arena is used up, `alloc` returns an ordinary `Float64Array`; that still
 * works, through a copy into the staging fields. Untouched pages cost address space, not RAM.
 * @module
 */

import { KERNELS_WASM_BASE64 } from "../../wasm/kernels_wasm.ts";
import { InvalidArgumentError } from "../errors.ts";
import { checkCall } from "./ts.ts";
import type { FFTBackend, RealFFT2 } from "./types.ts";

/**
 * Options of the WASM engine.
 *
 * @example
 * ```ts
 * import { type WasmFFTOptions, WasmRealFFT2 } from "./wasm.ts";
 * const options: WasmFFTOptions = { arenaDoubles: 10 * 64 * 33 * 2 };
 * const fft = new WasmRealFFT2(64, 64, options);
 * console.log(fft.backend); // "wasm"
 * ```
 */
export interface WasmFFTOptions {
  /**
   * Capacity of the `alloc` arena in doubles. Default: 64 spectral fields
   * (`64 * ny * (nx / 2 + 1) * 2`).
   */
  arenaDoubles?: number;
}

interface Kernel {
  fft_plan_bytes(ny: number, nx: number): number;
  fft_plan(ny: number, nx: number, cs: number, base: number): number;
  fft_rfft2(src: number, dst: number, count: number): void;
  fft_irfft2(src: number, dst: number, count: number): void;
  __heap_base: WebAssembly.Global;
}

const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE; // wasm32 limit (4 GiB)
let compiled: WebAssembly.Module | undefined;

function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    const bin = atob(KERNELS_WASM_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/**
 * The WASM engine. Create it through `createRealFFT2(ny, nx, { backend: "wasm" })`.
 *
 * @example
 * ```ts
 * import { WasmRealFFT2 } from "./wasm.ts";
 * const fft = new WasmRealFFT2(8, 8);
 * const field = fft.alloc(64).fill(1);
 * const spec = fft.alloc(8 * fft.nk * 2);
 * fft.rfft2(field, spec);
 * console.log(spec[0]); // 64
 * ```
 */
export class WasmRealFFT2 implements RealFFT2 {
  /** Grid points along y. */
  readonly ny: number;
  /** Grid points along x. */
  readonly nx: number;
  /** `nx / 2 + 1`. */
  readonly nk: number;
  /** Always `"wasm"`. */
  readonly backend: FFTBackend = "wasm";
  #k: Kernel;
  #exports: WebAssembly.Exports;
  #buf: ArrayBufferLike;
  #stageIn: number; // byte offsets
  #stageOut: number;
  #next: number;
  #end: number;

  /**
   * Plans the transforms; sizes are assumed valid (powers of two ≥ 2, checked by the factory).
   * Synchronous: compiles the embedded module once per process, then instantiates it.
   * @param ny grid points along y
   * @param nx grid points along x
   * @param options arena size
   */
  constructor(ny: number, nx: number, options: WasmFFTOptions = {}) {
    this.ny = ny;
    this.nx = nx;
    this.nk = nx / 2 + 1;
    const spec = ny * this.nk * 2;
    const arena = options.arenaDoubles ?? 64 * spec;
    if (!Number.isInteger(arena) || arena < 0) {
      throw new InvalidArgumentError(
        `arenaDoubles must be a non-negative integer, got ${String(arena)}`,
      );
    }
    const memory = new WebAssembly.Memory({ initial: 4 });
    const inst = new WebAssembly.Instance(kernelModule(), { env: { memory } });
    const k = inst.exports as unknown as Kernel;
    this.#k = k;
    this.#exports = inst.exports;
    const base = ((k.__heap_base.value as number) + 15) & ~15;
    const planEnd = base + k.fft_plan_bytes(ny, nx);
    this.#stageIn = planEnd;
    this.#stageOut = planEnd + spec * 8;
    this.#next = this.#stageOut + spec * 8;
    this.#end = this.#next + arena * 8;
    if (this.#end > MAX_BYTES) {
      throw new InvalidArgumentError(
        `arenaDoubles=${arena} does not fit in a 4 GiB WebAssembly memory; use fewer`,
      );
    }
    const pages = Math.ceil(this.#end / PAGE);
    if (pages > memory.buffer.byteLength / PAGE) {
      memory.grow(pages - memory.buffer.byteLength / PAGE);
    }
    this.#buf = memory.buffer; // never grown again: views stay valid
    // cos/sin table for the plan, written into the (not yet used) input staging field.
    const L = Math.max(nx, ny);
    const cs = new Float64Array(this.#buf, this.#stageIn, 2 * L);
    for (let j = 0; j < L; j++) {
      const t = (2 * Math.PI * j) / L;
      cs[2 * j] = Math.cos(t);
      cs[2 * j + 1] = Math.sin(t);
    }
    k.fft_plan(ny, nx, this.#stageIn, base);
    cs.fill(0);
  }

  /**
   * The instance's exports, for kernels linked into the same module that work in place on the
   * arrays from {@link WasmRealFFT2.alloc} (the QG step kernels of `wasm/qg.c`).
   */
  get instanceExports(): WebAssembly.Exports {
    return this.#exports;
  }

  /** The memory behind {@link WasmRealFFT2.alloc}'s views. */
  get memoryBuffer(): ArrayBufferLike {
    return this.#buf;
  }

  /**
   * A zeroed view into the module memory (valid for the life of the plan). When the arena is
   * full, an ordinary array instead (it works through a copy).
   */
  alloc(length: number): Float64Array {
    if (!Number.isInteger(length) || length < 0) {
      throw new InvalidArgumentError(`alloc length must be a non-negative integer, got ${length}`);
    }
    const bytes = length * 8;
    const at = (this.#next + 15) & ~15;
    if (at + bytes > this.#end) return new Float64Array(length);
    this.#next = at + bytes;
    return new Float64Array(this.#buf, at, length);
  }

  /** Forward transform of `count` real fields. */
  rfft2(src: Float64Array, dst: Float64Array, count = 1): void {
    checkCall(this, src, dst, count, true);
    this.#run(src, dst, count, this.ny * this.nx, this.ny * this.nk * 2, true);
  }

  /** Inverse transform of `count` half spectra (`src` is left unchanged). */
  irfft2(src: Float64Array, dst: Float64Array, count = 1): void {
    checkCall(this, src, dst, count, false);
    this.#run(src, dst, count, this.ny * this.nk * 2, this.ny * this.nx, false);
  }

  #run(
    src: Float64Array,
    dst: Float64Array,
    count: number,
    inLen: number,
    outLen: number,
    forward: boolean,
  ): void {
    const k = this.#k;
    const fn = forward ? k.fft_rfft2 : k.fft_irfft2;
    const srcIn = src.buffer === this.#buf, dstIn = dst.buffer === this.#buf;
    if (srcIn && dstIn) {
      fn(src.byteOffset, dst.byteOffset, count);
      return;
    }
    const stageIn = new Float64Array(this.#buf, this.#stageIn, inLen);
    const stageOut = new Float64Array(this.#buf, this.#stageOut, outLen);
    for (let f = 0; f < count; f++) {
      let ip = src.byteOffset + f * inLen * 8;
      if (!srcIn) {
        stageIn.set(src.subarray(f * inLen, (f + 1) * inLen));
        ip = this.#stageIn;
      }
      const op = dstIn ? dst.byteOffset + f * outLen * 8 : this.#stageOut;
      fn(ip, op, 1);
      if (!dstIn) dst.set(stageOut, f * outLen);
    }
  }
}
