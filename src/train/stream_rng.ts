/**
 * Counter-based random streams for training: every random draw of step s comes from a generator
 * seeded by a hash of (run seed, purpose, s, sample), so the whole RNG state of a run is its seed
 * and its step counter. That is what makes `--resume` bit-identical without serialising generator
 * internals, and what makes the batch independent of the number of workers.
 * @module
 */

import { Rng } from "../rng.ts";

/** Purposes of the independent random streams of a run. */
export type StreamPurpose = "perm" | "sample" | "noise" | "valid" | "valid-noise";

const PURPOSE_CODE: Record<StreamPurpose, number> = {
  perm: 0x1f3a,
  sample: 0x2b71,
  noise: 0x3c05,
  valid: 0x4d9e,
  "valid-noise": 0x5e42,
};

function mix32(h: number, v: number): number {
  // murmur3-style mixing of one 32-bit word into the hash
  let k = Math.imul(v | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * A 32-bit seed derived from the run seed, a purpose and integer counters (each split into two
 * 32-bit words, so counters up to 2^53 are distinct).
 *
 * @example
 * ```ts
 * import { streamSeed } from "./stream_rng.ts";
 * console.log(streamSeed(0, "noise", 3, 1) === streamSeed(0, "noise", 3, 1)); // true
 * console.log(streamSeed(0, "noise", 3, 1) === streamSeed(0, "noise", 1, 3)); // false
 * ```
 */
export function streamSeed(seed: number, purpose: StreamPurpose, ...counters: number[]): number {
  let h = mix32(0x9747b28c, seed);
  h = mix32(h, PURPOSE_CODE[purpose]);
  for (const c of counters) {
    h = mix32(h, c % 0x100000000);
    h = mix32(h, Math.floor(c / 0x100000000));
  }
  return finish(mix32(h, counters.length));
}

/**
 * A fresh generator for (seed, purpose, counters…).
 *
 * @example
 * ```ts
 * import { streamRng } from "./stream_rng.ts";
 * const a = streamRng(7, "sample", 10).uniform();
 * const b = streamRng(7, "sample", 10).uniform();
 * console.log(a === b); // true
 * ```
 */
export function streamRng(seed: number, purpose: StreamPurpose, ...counters: number[]): Rng {
  return new Rng(streamSeed(seed, purpose, ...counters));
}

/**
 * Standard normal float32 draws from a seed (the diffusion noise ε of one sample).
 *
 * @example
 * ```ts
 * import { normals } from "./stream_rng.ts";
 * const e = normals(5, 1000);
 * console.log(e.length, e[0] === normals(5, 1000)[0]); // 1000 true
 * ```
 */
export function normals(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}
