/**
 * Factory for the real 2-D FFT: picks the SIMD WASM engine when the runtime supports
 * WebAssembly SIMD, else the pure-TypeScript fallback. Both give the same numbers to round-off.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { TsRealFFT2 } from "./ts.ts";
import { WasmRealFFT2 } from "./wasm.ts";
import type { FFTBackend, RealFFT2 } from "./types.ts";

/**
 * Smallest supported grid size along either axis.
 *
 * @example
 * ```ts
 * import { FFT_MAX_SIZE, FFT_MIN_SIZE } from "@soad/soad/internal";
 * console.log(FFT_MIN_SIZE, FFT_MAX_SIZE); // 2 1024
 * ```
 */
export const FFT_MIN_SIZE = 2;
/**
 * Largest supported grid size along either axis.
 *
 * @example
 * ```ts
 * import { createRealFFT2, FFT_MAX_SIZE } from "@soad/soad/internal";
 * const fft = createRealFFT2(FFT_MAX_SIZE, 16);
 * console.log(fft.ny); // 1024
 * ```
 */
export const FFT_MAX_SIZE = 1024;

/**
 * Options of {@link createRealFFT2}.
 *
 * @example
 * ```ts
 * import { createRealFFT2, type RealFFT2Options } from "@soad/soad/internal";
 * const options: RealFFT2Options = { backend: "ts" };
 * console.log(createRealFFT2(32, 32, options).backend); // "ts"
 * ```
 */
export interface RealFFT2Options {
  /** Engine: `"wasm"`, `"ts"` or `"auto"` (default: WASM when SIMD is available, else TS). */
  backend?: FFTBackend | "auto";
  /**
   * WASM engine only: how many doubles `alloc` can hand out from the module memory (reserved
   * up front so that views never detach). Default: 64 spectral fields. Beyond it `alloc`
   * returns ordinary arrays, which work through a copy.
   */
  arenaDoubles?: number;
}

// (module (func (result v128) i32.const 0 i8x16.splat))
const SIMD_PROBE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7b, // type: () -> v128
  0x03,
  0x02,
  0x01,
  0x00, // func 0: type 0
  0x0a,
  0x08,
  0x01,
  0x06,
  0x00,
  0x41,
  0x00,
  0xfd,
  0x0f,
  0x0b, // code
]);

let simdCache: boolean | undefined;

/**
 * Whether this runtime's WebAssembly accepts 128-bit SIMD (needed by the WASM engine).
 *
 * @example
 * ```ts
 * import { simdSupported } from "@soad/soad/internal";
 * console.log(simdSupported()); // true on Deno 2
 * ```
 */
export function simdSupported(): boolean {
  if (simdCache === undefined) {
    try {
      simdCache = typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
    } catch {
      simdCache = false;
    }
  }
  return simdCache;
}

function checkSize(name: string, n: unknown): number {
  if (
    typeof n !== "number" || !Number.isInteger(n) || n < FFT_MIN_SIZE || n > FFT_MAX_SIZE ||
    (n & (n - 1)) !== 0
  ) {
    throw new InvalidArgumentError(
      `${name} must be a power of two in ${FFT_MIN_SIZE}..${FFT_MAX_SIZE}, got ${String(n)}`,
    );
  }
  return n;
}

/**
 * Plans a real 2-D FFT for a `[ny][nx]` grid (NumPy `rfft2` layout, see {@link RealFFT2}).
 *
 * @param ny grid points along y (rows), a power of two in 2..1024
 * @param nx grid points along x (columns), a power of two in 2..1024
 * @param options engine choice
 * @returns the plan
 * @throws {InvalidArgumentError} when a size is not a power of two in range or the backend is
 *   unknown, or `"wasm"` is asked for where WebAssembly SIMD is unavailable
 *
 * @example
 * ```ts
 * import { createRealFFT2 } from "@soad/soad/internal";
 * const fft = createRealFFT2(64, 64);
 * const field = fft.alloc(64 * 64);
 * const spec = fft.alloc(64 * fft.nk * 2);
 * field[1] = 1;
 * fft.rfft2(field, spec);
 * fft.irfft2(spec, field); // field[1] is 1 again (to round-off)
 * ```
 */
export function createRealFFT2(
  ny: number,
  nx: number,
  options: RealFFT2Options = {},
): RealFFT2 {
  checkSize("ny", ny);
  checkSize("nx", nx);
  const backend = options.backend ?? "auto";
  if (backend !== "auto" && backend !== "wasm" && backend !== "ts") {
    throw new InvalidArgumentError(
      `backend must be "auto", "wasm" or "ts", got ${JSON.stringify(backend)}`,
    );
  }
  if (backend === "wasm" && !simdSupported()) {
    throw new InvalidArgumentError(
      'backend "wasm" needs WebAssembly SIMD, which this runtime lacks; use "ts" or "auto"',
    );
  }
  if (backend === "ts" || !simdSupported()) return new TsRealFFT2(ny, nx);
  return new WasmRealFFT2(ny, nx, { arenaDoubles: options.arenaDoubles });
}
