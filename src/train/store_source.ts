/**
 * A {@link WindowSource} over a finalised dataset store of `src/data` (Zarr v2, `deno task
 * generate`): the train and valid splits of the store's attributes, windows divided per layer by
 * the store's `norm_std` (SOAD's code divides without removing the mean; `subtractMean` adds
 * it). Windows are cached in memory up to a byte budget.
 * @module
 */

import { InvalidArgumentError, SoadError } from "../errors.ts";
import { outputGrid } from "../data/config.ts";
import { dataPhysics } from "../data/physics.ts";
import { type DatasetStore, openDatasetStore, readWindow } from "../data/store.ts";
import { checkIndex, type TrainSplit, type WindowSource } from "./source.ts";

/** Options of {@link StoreSource}. */
export interface StoreSourceOptions {
  /** Subtract the store's per-layer mean before dividing by its std (default false, as SOAD). */
  subtractMean?: boolean;
  /** Bytes of windows kept in memory (default 1 GiB). */
  cacheBytes?: number;
  /** Check each window's checksum when it is read (default true). */
  verify?: boolean;
}

/**
 * Windows of a dataset store.
 *
 * @example
 * ```ts
 * import { StoreSource } from "@soad/soad";
 * try {
 *   StoreSource.open("/nonexistent.zarr");
 * } catch (e) {
 *   console.log((e as Error).name); // InvalidArgumentError
 * }
 * ```
 */
export class StoreSource implements WindowSource {
  readonly height: number;
  readonly width: number;
  readonly length: number;
  readonly channels = 2;
  /** The open store. */
  readonly store: DatasetStore;
  /** Per-layer offset subtracted (0 without `subtractMean`). */
  readonly offset: number[];
  /** Per-layer divisor. */
  readonly scale: number[];
  readonly #ranges: Record<TrainSplit, [number, number]>;
  readonly #cache = new Map<number, Float32Array>();
  readonly #cacheMax: number;
  #cached = 0;

  /**
   * Creates a training source over a dataset store.
   * @param store an open, finalised store
   * @param o normalisation and cache options
   */
  constructor(store: DatasetStore, o: StoreSourceOptions = {}) {
    const a = store.attrs;
    if (!a.complete || !a.norm_std || !a.norm_mean) {
      throw new SoadError(
        `dataset ${store.path} is not finalised (no normalisation statistics); run ` +
          `deno task generate --out ${store.path} --finalize`,
      );
    }
    if (a.norm_std.length !== 2) {
      throw new SoadError(
        `dataset ${store.path} has ${a.norm_std.length} layers; training needs the 2 QG layers`,
      );
    }
    [this.height, this.width] = outputGrid(store.config);
    this.length = store.config.window;
    this.store = store;
    this.offset = a.norm_mean.map((m) => (o.subtractMean ? m : 0));
    this.scale = [...a.norm_std];
    this.#ranges = { train: a.split.train, valid: a.split.valid };
    this.#cacheMax = o.cacheBytes ?? 2 ** 30;
    if (this.count("train") < 1) throw new SoadError(`dataset ${store.path} has no train windows`);
  }

  /** Opens the store at `path` (throws an `InvalidArgumentError` when it is not a store). */
  static open(path: string, o: StoreSourceOptions = {}): StoreSource {
    let st: DatasetStore;
    try {
      st = openDatasetStore(path, { verify: o.verify ?? true });
    } catch (e) {
      if (e instanceof InvalidArgumentError) {
        throw new InvalidArgumentError(
          `cannot open dataset "${path}": ${e.message}; make one with deno task generate`,
        );
      }
      throw e;
    }
    return new StoreSource(st, o);
  }

  count(split: TrainSplit): number {
    const r = this.#ranges[split];
    return r ? r[1] - r[0] : 0;
  }

  window(split: TrainSplit, i: number): Float32Array {
    checkIndex(this, split, i);
    const w = this.#ranges[split][0] + i;
    const hit = this.#cache.get(w);
    if (hit) return hit;
    const raw = readWindow(this.store, w);
    const R = this.height * this.width;
    for (let f = 0; f < this.length * 2; f++) {
      const c = f % 2, off = this.offset[c], inv = 1 / this.scale[c];
      for (let k = f * R; k < (f + 1) * R; k++) raw[k] = (raw[k] - off) * inv;
    }
    if (this.#cached + raw.byteLength <= this.#cacheMax) {
      this.#cache.set(w, raw);
      this.#cached += raw.byteLength;
    }
    return raw;
  }

  describe(): Record<string, unknown> {
    return {
      kind: "store",
      path: this.store.path,
      config_name: this.store.config.name,
      // what the fit of a prior to data is judged by (not the name; src/data/physics.ts)
      physics: dataPhysics(this.store.config),
      grid: [this.height, this.width],
      snapshots: this.length,
      split: this.#ranges,
      norm_offset: this.offset,
      norm_std: this.scale,
      fingerprint: this.store.attrs.fingerprint,
      // the training split's physical moments (the prior's climatology)
      norm_mean: [...(this.store.attrs.norm_mean ?? [])],
    };
  }
}
