/**
 * Where training windows come from: the {@link WindowSource} interface (normalised state windows
 * `[T, 2, H, W]` of a split, addressed by index), a synthetic source for tests and smoke runs, and
 * {@link drawChunk}, which cuts a random `L`-frame chunk out of a window with an optional circular
 * roll (spec §1.2). Sources are index-addressed rather than stateful iterators so that the batch
 * of step s is a pure function of (seed, s): exact resume, independent of the worker count.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { Rng } from "../rng.ts";
import { streamRng } from "./stream_rng.ts";

/** The splits a trainer reads. */
export type TrainSplit = "train" | "valid";

/**
 * Normalised state windows by split and index.
 *
 * @example
 * ```ts
 * import { SyntheticSource, type WindowSource } from "@soad/soad";
 * const s: WindowSource = new SyntheticSource({ height: 8, width: 8, length: 10 });
 * console.log(s.count("train"), s.window("train", 0).length); // 16 1280
 * ```
 */
export interface WindowSource {
  /** Grid rows H. */
  readonly height: number;
  /** Grid columns W. */
  readonly width: number;
  /** Snapshots T per window. */
  readonly length: number;
  /** State channels per frame (2: the QG layers). */
  readonly channels: number;
  /** Number of windows in a split. */
  count(split: TrainSplit): number;
  /** Window i of a split, normalised, float32 `[T, channels, H, W]`. */
  window(split: TrainSplit, i: number): Float32Array;
  /** A JSON description (path, normalisation, …) stored in checkpoints. */
  describe(): Record<string, unknown>;
}

/** Options of {@link SyntheticSource}. */
export interface SyntheticSourceOptions {
  /** Grid rows. */
  height: number;
  /** Grid columns. */
  width: number;
  /** Snapshots per window (default 10). */
  length?: number;
  /** Training windows (default 16). */
  trainWindows?: number;
  /** Validation windows (default 4). */
  validWindows?: number;
  /** Seed of the fields (default 0). */
  seed?: number;
}

/**
 * Smooth periodic travelling waves: each window is a sum of 3 low Fourier modes per layer with
 * random amplitudes and phases drifting linearly in time, O(1) values. Learnable structure, no
 * files: for tests and for trying the trainer before a dataset exists.
 *
 * @example
 * ```ts
 * import { SyntheticSource } from "@soad/soad";
 * const s = new SyntheticSource({ height: 16, width: 16, seed: 1 });
 * console.log(s.window("valid", 0)[0] === s.window("valid", 0)[0]); // true
 * ```
 */
export class SyntheticSource implements WindowSource {
  readonly height: number;
  readonly width: number;
  readonly length: number;
  readonly channels = 2;
  readonly #counts: Record<TrainSplit, number>;
  readonly #seed: number;

  /**
   * Creates the synthetic source.
   * @param o grid, length, window counts, seed
   */
  constructor(o: SyntheticSourceOptions) {
    for (const k of ["height", "width"] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) {
        throw new InvalidArgumentError(`SyntheticSource ${k} must be an integer >= 1, got ${o[k]}`);
      }
    }
    this.height = o.height;
    this.width = o.width;
    this.length = o.length ?? 10;
    this.#counts = { train: o.trainWindows ?? 16, valid: o.validWindows ?? 4 };
    this.#seed = o.seed ?? 0;
  }

  count(split: TrainSplit): number {
    return this.#counts[split];
  }

  window(split: TrainSplit, i: number): Float32Array {
    checkIndex(this, split, i);
    const { height: H, width: W, length: T } = this;
    const rng = streamRng(this.#seed, "sample", split === "train" ? i : 1_000_000 + i, 77);
    const out = new Float32Array(T * 2 * H * W);
    for (let c = 0; c < 2; c++) {
      for (let m = 0; m < 3; m++) {
        const kx = 1 + rng.int(2), ky = rng.int(3), amp = 0.4 + 0.6 * rng.uniform();
        const ph = 2 * Math.PI * rng.uniform(), drift = 0.3 * (rng.uniform() - 0.5);
        for (let t = 0; t < T; t++) {
          const o = (t * 2 + c) * H * W;
          for (let y = 0; y < H; y++) {
            for (let x = 0; x < W; x++) {
              const a = 2 * Math.PI * (kx * x / W + ky * y / H) + ph + drift * t;
              out[o + y * W + x] += amp * Math.sin(a);
            }
          }
        }
      }
    }
    return out;
  }

  describe(): Record<string, unknown> {
    return {
      kind: "synthetic",
      height: this.height,
      width: this.width,
      length: this.length,
      counts: this.#counts,
      seed: this.#seed,
    };
  }
}

/**
 * Throws unless `i` indexes a window of the split.
 *
 * @example
 * ```ts
 * import { checkIndex, SyntheticSource } from "./source.ts";
 * checkIndex(new SyntheticSource({ height: 4, width: 4 }), "train", 0); // ok
 * ```
 */
export function checkIndex(s: WindowSource, split: TrainSplit, i: number): void {
  const n = s.count(split);
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new InvalidArgumentError(`window index ${i} is outside ${split} split 0..${n - 1}`);
  }
}

/**
 * Cuts frames `[start, start + frames)` of a window `[T, C, H, W]`, rolled circularly by
 * (dy, dx): `out[y][x] = src[(y − dy) mod H][(x − dx) mod W]` (the dataset loader's convention).
 *
 * @example
 * ```ts
 * import { cutChunk } from "./source.ts";
 * const w = new Float32Array([0, 1, 2, 3]); // T=1, C=1, H=1, W=4
 * console.log(cutChunk(w, [1, 1, 1, 4], 0, 1, 0, 1)); // Float32Array [3, 0, 1, 2]
 * ```
 */
export function cutChunk(
  win: Float32Array,
  shape: [number, number, number, number],
  start: number,
  frames: number,
  dy: number,
  dx: number,
): Float32Array {
  const [T, C, H, W] = shape;
  if (start < 0 || start + frames > T) {
    throw new InvalidArgumentError(`chunk ${start}..${start + frames} outside ${T} snapshots`);
  }
  const out = new Float32Array(frames * C * H * W);
  for (let f = 0; f < frames * C; f++) {
    const so = (start * C + f) * H * W, o = f * H * W;
    for (let y = 0; y < H; y++) {
      const sy = ((y - dy) % H + H) % H;
      for (let x = 0; x < W; x++) {
        out[o + y * W + x] = win[so + sy * W + ((x - dx) % W + W) % W];
      }
    }
  }
  return out;
}

/**
 * A random chunk of window `i`: uniform start in 0..T−frames and, with `roll`, uniform shifts in
 * y and x, all drawn from `rng` (start first, then dy, dx).
 *
 * @example
 * ```ts
 * import { Rng } from "@soad/soad";
 * import { drawChunk, SyntheticSource } from "./source.ts";
 * const s = new SyntheticSource({ height: 8, width: 8 });
 * console.log(drawChunk(s, "train", 0, 9, true, new Rng(1)).length); // 1152
 * ```
 */
export function drawChunk(
  s: WindowSource,
  split: TrainSplit,
  i: number,
  frames: number,
  roll: boolean,
  rng: Rng,
): Float32Array {
  if (!Number.isInteger(frames) || frames < 1 || frames > s.length) {
    throw new InvalidArgumentError(
      `frames must be an integer in 1..${s.length} (snapshots per window), got ${frames}`,
    );
  }
  const start = rng.int(s.length - frames + 1);
  const dy = roll ? rng.int(s.height) : 0;
  const dx = roll ? rng.int(s.width) : 0;
  const win = s.window(split, i);
  return cutChunk(win, [s.length, s.channels, s.height, s.width], start, frames, dy, dx);
}
