/**
 * Training loader over a dataset store (`../shared/spec/SOAD.md` §1.2): batches of random
 * `frames`-long chunks (9 in the paper) of the windows of one split, optionally rolled
 * circularly by a random shift in y and x (the paper's code augments with it), normalised per
 * layer with the store's statistics, as float32 `[B, L, C, H, W]`. Each pass visits every window
 * of the split once in a shuffled order (a fresh random chunk and shift each time); the sequence
 * of batches is a pure function of the seed.
 * @module
 */

import { InvalidArgumentError, SoadError } from "../errors.ts";
import { Rng } from "../rng.ts";
import { outputGrid } from "./config.ts";
import { type DatasetStore, openDatasetStore, readWindow } from "./store.ts";

/** Options of {@link WindowLoader}. */
export interface WindowLoaderOptions {
  /** Samples per batch. */
  batchSize: number;
  /** Seed of the shuffling, chunk starts and shifts. */
  seed: number;
  /** Split to draw from. Default "train". */
  split?: "train" | "valid" | "test";
  /** Frames per sample (L). Default 9. */
  frames?: number;
  /** Random circular roll in y and x per sample. Default false. */
  roll?: boolean;
  /**
   * Subtract the stored per-layer mean before dividing by the std. Default false: division only,
   * as the paper's code, training (`deno task train`) and the shipped priors normalise.
   */
  subtractMean?: boolean;
}

/** One batch. */
export interface WindowBatch {
  /** Normalised data, float32, `[B, L, C, H, W]`. */
  data: Float32Array;
  /** `[B, L, C, H, W]`. */
  shape: [number, number, number, number, number];
  /** Global window index of each sample. */
  windows: number[];
  /** First frame of each sample within its window. */
  starts: number[];
  /** Roll `[dy, dx]` of each sample (`[0, 0]` without roll). */
  shifts: [number, number][];
}

/**
 * Batches from a finalised store (see the module doc).
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { generateDataset } from "@soad/soad";
 * import { WindowLoader } from "@soad/soad";
 * const out = Deno.makeTempDirSync() + "/tiny.zarr";
 * await generateDataset({ out, config: DATA_PRESETS.tiny, workers: 0, progress: false });
 * const loader = WindowLoader.open(out, { batchSize: 4, seed: 0, roll: true });
 * const b = loader.next();
 * console.log(b.shape); // [ 4, 9, 2, 16, 16 ]
 * ```
 */
export class WindowLoader {
  /** The store read from. */
  readonly store: DatasetStore;
  /** Shape of every batch `[B, L, C, H, W]`. */
  readonly shape: [number, number, number, number, number];
  /** Window indices of the split. */
  readonly windows: readonly number[];
  readonly #rng: Rng;
  readonly #roll: boolean;
  readonly #offset: number[];
  readonly #scale: number[];
  #order: Int32Array = new Int32Array(0);
  #pos = 0;
  #epoch = 0;

  /**
   * Creates a loader over one split of a store.
   * @param store an open, finalised dataset store
   * @param opts batch size, seed, split, frames, roll, mean subtraction
   */
  constructor(store: DatasetStore, opts: WindowLoaderOptions) {
    const c = store.config;
    const a = store.attrs;
    if (!a.complete || !a.norm_std || !a.norm_mean) {
      throw new SoadError(`${store.path} is not finalised (no statistics); run --finalize`);
    }
    const frames = opts.frames ?? 9;
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
      throw new InvalidArgumentError(`batchSize must be an integer >= 1, got ${opts.batchSize}`);
    }
    if (!Number.isInteger(frames) || frames < 1 || frames > c.window) {
      throw new InvalidArgumentError(`frames must be an integer in 1..${c.window}, got ${frames}`);
    }
    const split = opts.split ?? "train";
    const range = a.split[split];
    if (!range) throw new InvalidArgumentError(`split must be train, valid or test, got ${split}`);
    const windows: number[] = [];
    for (let w = range[0]; w < range[1]; w++) windows.push(w);
    if (windows.length === 0) throw new InvalidArgumentError(`split ${split} has no windows`);
    this.store = store;
    this.windows = windows;
    const [h, w] = outputGrid(c);
    this.shape = [opts.batchSize, frames, 2, h, w];
    this.#rng = new Rng(opts.seed);
    this.#roll = opts.roll ?? false;
    const sub = opts.subtractMean ?? false;
    this.#offset = a.norm_mean.map((m) => (sub ? m : 0));
    this.#scale = a.norm_std.map((s) => 1 / s);
  }

  /**
   * Opens the store at `path` and makes a loader.
   *
   * @example
   * ```ts
   * import { WindowLoader } from "@soad/soad";
   * try {
   *   WindowLoader.open("/nonexistent.zarr", { batchSize: 1, seed: 0 });
   * } catch (e) {
   *   console.log((e as Error).name); // InvalidArgumentError
   * }
   * ```
   */
  static open(path: string, opts: WindowLoaderOptions): WindowLoader {
    return new WindowLoader(openDatasetStore(path), opts);
  }

  /** Completed passes over the split. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Passes a window index back, reshuffling at the end of each pass. */
  #nextWindow(): number {
    if (this.#pos >= this.#order.length) {
      if (this.#order.length > 0) this.#epoch++;
      this.#order = this.#rng.permutation(this.windows.length);
      this.#pos = 0;
    }
    return this.windows[this.#order[this.#pos++]];
  }

  /** The next batch. */
  next(): WindowBatch {
    const [B, L, C, H, W] = this.shape;
    const T = this.store.config.window;
    const frame = C * H * W;
    const data = new Float32Array(B * L * frame);
    const windows: number[] = [], starts: number[] = [], shifts: [number, number][] = [];
    for (let b = 0; b < B; b++) {
      const win = this.#nextWindow();
      const start = this.#rng.int(T - L + 1);
      const dy = this.#roll ? this.#rng.int(H) : 0;
      const dx = this.#roll ? this.#rng.int(W) : 0;
      windows.push(win);
      starts.push(start);
      shifts.push([dy, dx]);
      const src = readWindow(this.store, win);
      for (let t = 0; t < L; t++) {
        for (let c = 0; c < C; c++) {
          const so = ((start + t) * C + c) * H * W;
          const o = ((b * L + t) * C + c) * H * W;
          const off = this.#offset[c], sc = this.#scale[c];
          for (let y = 0; y < H; y++) {
            const sy = (y - dy + H) % H;
            for (let x = 0; x < W; x++) {
              const sx = (x - dx + W) % W;
              data[o + y * W + x] = (src[so + sy * W + sx] - off) * sc;
            }
          }
        }
      }
    }
    return { data, shape: [B, L, C, H, W], windows, starts, shifts };
  }
}
