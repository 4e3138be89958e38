/**
 * The real 2-D FFT contract shared by the SIMD WASM engine and the TypeScript fallback.
 *
 * Layout follows NumPy: `rfft2` maps a real field `[ny][nx]` to a half spectrum `[ny][nk]`
 * with `nk = nx / 2 + 1`, stored as interleaved complex float64 (`re, im` pairs), so one
 * spectrum occupies `ny * nk * 2` doubles. The forward transform is unnormalised; the inverse
 * divides by `nx * ny` (NumPy's default "backward" norm). The inverse treats the input as
 * NumPy's `irfft2` does: complex inverse along y for every stored column, then a c2r inverse
 * along x that ignores the imaginary parts of the `k = 0` and `k = nx / 2` entries.
 *
 * Transforms act on `count` consecutive fields (for example the two QG layers) in one call.
 * @module
 */

/** Which engine runs the transforms. */
export type FFTBackend = "wasm" | "ts";

/** A planned real 2-D FFT for one grid size. */
export interface RealFFT2 {
  /** Grid points along y (rows). */
  readonly ny: number;
  /** Grid points along x (columns). */
  readonly nx: number;
  /** Stored x-wavenumbers: `nx / 2 + 1`. */
  readonly nk: number;
  /** The engine in use. */
  readonly backend: FFTBackend;
  /**
   * A zeroed Float64Array that the transforms read and write without copying (for the WASM
   * engine it lives in the module's memory). Arrays from elsewhere work too, through a copy.
   */
  alloc(length: number): Float64Array;
  /** Forward: `count` real fields `[ny][nx]` from `src` → half spectra into `dst`. */
  rfft2(src: Float64Array, dst: Float64Array, count?: number): void;
  /** Inverse: `count` half spectra from `src` → real fields into `dst`. `src` is not modified. */
  irfft2(src: Float64Array, dst: Float64Array, count?: number): void;
}
