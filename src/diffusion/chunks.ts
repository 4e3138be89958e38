/**
 * Splits a window batch into chunks of whole windows so that large ensembles fit the memory of
 * a backend (tfjs-wasm runs out of its 4 GiB at 8 windows of 9×64² with the paper's widths),
 * runs each chunk, and concatenates the results. Windows never interact in the denoiser, so
 * chunking changes nothing but the peak memory.
 * @module
 */

import type { WindowShape } from "./denoiser.ts";

/** Default budget: frames × pixels per chunk (2 windows of 9 frames at 64², or 1 at 128²). */
export const DEFAULT_CHUNK_FRAME_PIXELS = 2 * 9 * 64 * 64;

/**
 * Windows per chunk for a budget of `maxFramePixels` (at least 1).
 *
 * @example
 * ```ts
 * import { windowsPerChunk } from "./chunks.ts";
 * console.log(windowsPerChunk([8, 9, 4, 64, 64], 2 * 9 * 64 * 64)); // 2
 * ```
 */
export function windowsPerChunk(shape: WindowShape, maxFramePixels: number): number {
  const [, L, , H, W] = shape;
  return Math.max(1, Math.floor(maxFramePixels / (L * H * W)));
}

/**
 * Runs `run` on chunks of at most `windowsPerChunk(shape, maxFramePixels)` windows. `inputs` are
 * laid out like z (`[B, L, C, H, W]`); `t` has length B or 1. Each output of `run` must have the
 * chunk's z size; they are concatenated in window order.
 *
 * @example
 * ```ts
 * import { byWindowChunks } from "./chunks.ts";
 * const z = new Float32Array(4).map((_, i) => i); // 4 windows of 1 value
 * const [out] = await byWindowChunks([4, 1, 1, 1, 1], new Float32Array([0]), 2, [z],
 *   ([zc]) => Promise.resolve([zc.map((v) => 2 * v)]));
 * console.log(Array.from(out)); // [0, 2, 4, 6]
 * ```
 */
export async function byWindowChunks(
  shape: WindowShape,
  t: Float32Array,
  maxFramePixels: number,
  inputs: Float32Array[],
  run: (inputs: Float32Array[], shape: WindowShape, t: Float32Array) => Promise<Float32Array[]>,
): Promise<Float32Array[]> {
  const [B, L, C, H, W] = shape;
  const k = windowsPerChunk(shape, maxFramePixels);
  if (k >= B) return await run(inputs, shape, t);
  const per = L * C * H * W;
  let outs: Float32Array[] | null = null;
  for (let b0 = 0; b0 < B; b0 += k) {
    const b1 = Math.min(B, b0 + k);
    const part = inputs.map((a) => a.subarray(b0 * per, b1 * per));
    const tc = t.length === 1 ? t : t.subarray(b0, b1);
    const res = await run(part, [b1 - b0, L, C, H, W], tc);
    outs ??= res.map(() => new Float32Array(B * per));
    res.forEach((r, i) => outs![i].set(r, b0 * per));
  }
  return outs!;
}
