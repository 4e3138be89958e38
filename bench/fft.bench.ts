/**
 * rfft2 + irfft2 of 2 fields (4 real 2-D transforms per iteration) for both engines.
 * Run: `deno bench -A bench/fft.bench.ts`; divide the time by 4 for one transform.
 * `bench/fft_peer.ts` times numpy on the same sizes.
 * @module
 */

import { createRealFFT2, simdSupported } from "../src/fft/create.ts";
import type { FFTBackend } from "../src/fft/types.ts";

const SIZES = [64, 128, 256, 512];
const BACKENDS: FFTBackend[] = simdSupported() ? ["wasm", "ts"] : ["ts"];

for (const n of SIZES) {
  for (const backend of BACKENDS) {
    const fft = createRealFFT2(n, n, { backend });
    const x = fft.alloc(2 * n * n);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) + 0.1 * Math.cos(i * 1.3);
    const s = fft.alloc(2 * n * fft.nk * 2);
    Deno.bench({
      name: `${backend} ${n}x${n}: rfft2+irfft2, 2 fields`,
      group: `${n}x${n}`,
      baseline: backend === "wasm",
      fn() {
        fft.rfft2(x, s, 2);
        fft.irfft2(s, x, 2);
      },
    });
  }
}
