/**
 * Finalisation of a dataset store: checks that every window is written, computes the per-layer
 * normalisation statistics over the training split, writes them into the root attributes with
 * `complete: true`, writes the consolidated metadata (`.zmetadata`, for `xarray.open_zarr`) and
 * removes the trajectory checkpoints. Idempotent and deterministic.
 * @module
 */

import { createHash } from "node:crypto";
import { removeStrayTemporaries } from "../io/atomic.ts";
import { IntegrityError, SoadError } from "../errors.ts";
import { configKey, outputGrid } from "./config.ts";
import { stableJson, writeJsonAtomicSync } from "./fs_store.ts";
import {
  clearWindow,
  type DatasetStore,
  isWindowDone,
  metadataDocuments,
  readWindow,
  type StoreAttributes,
  windowStatus,
} from "./store.ts";

/** Per-layer mean and population standard deviation. */
export interface LayerStats {
  /** Mean per layer. */
  mean: number[];
  /** Standard deviation per layer (divides by the count, not count − 1). */
  std: number[];
}

/**
 * Per-layer mean and standard deviation over windows `[start, end)` of a store: float64
 * two-pass statistics per window, merged in window order (Chan et al.), so the result is
 * deterministic. Throws {@link IntegrityError} naming the window when a value is not finite
 * (statistics are never computed from non-finite data).
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { windowStats } from "@soad/soad/internal";
 * import { prepareDatasetStore, writeWindow } from "./store.ts";
 * const c = { ...DATA_PRESETS.tiny, seeds: 1, windowsPerSeed: 1 };
 * const s = await prepareDatasetStore(Deno.makeTempDirSync() + "/d.zarr", c, { reuse: false });
 * await writeWindow(s, 0, new Float32Array(c.window * 2 * 16 * 16).fill(2));
 * console.log(windowStats(s, 0, 1)); // { mean: [ 2, 2 ], std: [ 0, 0 ] }
 * ```
 */
export function windowStats(s: DatasetStore, start: number, end: number): LayerStats {
  const c = s.config;
  const [h, w] = outputGrid(c);
  const plane = h * w;
  const count = [0, 0], mean = [0, 0], m2 = [0, 0];
  for (let win = start; win < end; win++) {
    const data = readWindow(s, win);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new IntegrityError(
          `window ${win} of ${s.path} holds a non-finite value (${data[i]} at index ${i}); ` +
            `statistics are not computed from it: regenerate the window`,
        );
      }
    }
    for (let layer = 0; layer < 2; layer++) {
      let sum = 0;
      for (let t = 0; t < c.window; t++) {
        const o = (t * 2 + layer) * plane;
        for (let i = 0; i < plane; i++) sum += data[o + i];
      }
      const nb = c.window * plane;
      const mb = sum / nb;
      let ss = 0;
      for (let t = 0; t < c.window; t++) {
        const o = (t * 2 + layer) * plane;
        for (let i = 0; i < plane; i++) {
          const d = data[o + i] - mb;
          ss += d * d;
        }
      }
      const na = count[layer];
      const n = na + nb;
      const delta = mb - mean[layer];
      mean[layer] += (delta * nb) / n;
      m2[layer] += ss + (delta * delta * na * nb) / n;
      count[layer] = n;
    }
  }
  return {
    mean,
    std: m2.map((v, i) => (count[i] > 0 ? Math.sqrt(v / count[i]) : NaN)),
  };
}

/**
 * The store's fingerprint: `sha256:` + hex of SHA-256 over the configuration (without its
 * name), every window's recorded checksum and the statistics. It identifies the data's bytes,
 * whatever the path.
 *
 * @example
 * ```ts
 * import { generateDataset } from "@soad/soad";
 * import { DATA_PRESETS } from "@soad/soad";
 * import { storeFingerprint } from "@soad/soad/internal";
 * import { openDatasetStore } from "@soad/soad";
 * const out = Deno.makeTempDirSync() + "/d.zarr";
 * await generateDataset({ out, config: DATA_PRESETS.tiny, workers: 0, progress: false });
 * const s = openDatasetStore(out);
 * console.log(storeFingerprint(s, s.attrs.norm_mean!, s.attrs.norm_std!) === s.attrs.fingerprint); // true
 * ```
 */
export function storeFingerprint(s: DatasetStore, mean: number[], std: number[]): string {
  const h = createHash("sha256");
  h.update(configKey(s.config));
  const n = s.config.seeds * s.config.windowsPerSeed;
  for (let w = 0; w < n; w++) {
    let crc: Uint8Array;
    try {
      crc = Deno.readFileSync(`${s.path}/q_crc32/${w}`);
    } catch {
      throw new IntegrityError(`window ${w} of ${s.path} has no checksum (q_crc32/${w})`);
    }
    h.update(crc);
  }
  h.update(stableJson({ mean, std }));
  return `sha256:${h.digest("hex")}`;
}

/**
 * Marks a store as not complete (no statistics, no fingerprint, no consolidated metadata), as
 * before finalisation: done before damaged windows are regenerated, so that an interrupted
 * repair never leaves a store that claims to be complete.
 *
 * @example
 * ```ts
 * import { generateDataset } from "@soad/soad";
 * import { DATA_PRESETS } from "@soad/soad";
 * import { markIncomplete } from "@soad/soad/internal";
 * import { openDatasetStore } from "@soad/soad";
 * const out = Deno.makeTempDirSync() + "/d.zarr";
 * await generateDataset({ out, config: DATA_PRESETS.tiny, workers: 0, progress: false });
 * markIncomplete(openDatasetStore(out));
 * console.log(openDatasetStore(out).attrs.complete); // false
 * ```
 */
export function markIncomplete(s: DatasetStore): void {
  if (!s.attrs.complete && s.attrs.fingerprint === null && s.attrs.norm_std === null) return;
  const attrs: StoreAttributes = {
    ...s.attrs,
    norm_mean: null,
    norm_std: null,
    fingerprint: null,
    complete: false,
  };
  try {
    Deno.removeSync(`${s.path}/.zmetadata`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  writeJsonAtomicSync(`${s.path}/.zattrs`, attrs);
  s.attrs = attrs;
}

/**
 * Re-checks every done window (size and checksum) and clears the done mark of each damaged one
 * (marking the store incomplete if any), so that the next run regenerates them. Returns the
 * damaged windows' indices.
 *
 * @example
 * ```ts
 * import { generateDataset } from "@soad/soad";
 * import { DATA_PRESETS } from "@soad/soad";
 * import { recheckWindows } from "@soad/soad/internal";
 * import { openDatasetStore } from "@soad/soad";
 * const out = Deno.makeTempDirSync() + "/d.zarr";
 * await generateDataset({ out, config: DATA_PRESETS.tiny, workers: 0, progress: false });
 * Deno.removeSync(`${out}/q/4.0.0.0.0`);
 * console.log(recheckWindows(openDatasetStore(out))); // [ 4 ]
 * ```
 */
export function recheckWindows(s: DatasetStore, windows?: Iterable<number>): number[] {
  const n = s.config.seeds * s.config.windowsPerSeed;
  const bad: number[] = [];
  for (const w of windows ?? Array.from({ length: n }, (_, i) => i)) {
    if (windowStatus(s, w) === "damaged") bad.push(w);
  }
  if (bad.length > 0) {
    markIncomplete(s);
    for (const w of bad) clearWindow(s, w);
  }
  return bad;
}

/**
 * Finalises a store (see the module doc). Re-checks every window first: throws
 * {@link IntegrityError} naming the damaged windows (their done marks are cleared, so that
 * `--resume` regenerates them) and {@link SoadError} naming the missing windows when the store
 * is incomplete.
 *
 * @example
 * ```ts
 * import { generateDataset } from "@soad/soad";
 * import { DATA_PRESETS } from "@soad/soad";
 * import { finalizeDataset } from "@soad/soad/internal";
 * import { openDatasetStore } from "@soad/soad";
 * const out = Deno.makeTempDirSync() + "/d.zarr";
 * await generateDataset({ out, config: DATA_PRESETS.tiny, workers: 0, progress: false });
 * finalizeDataset(openDatasetStore(out)); // again: same bytes
 * console.log(openDatasetStore(out).attrs.complete); // true
 * ```
 */
export function finalizeDataset(s: DatasetStore): StoreAttributes {
  const c = s.config;
  const n = c.seeds * c.windowsPerSeed;
  const damaged = recheckWindows(s);
  if (damaged.length > 0) {
    throw new IntegrityError(
      `${s.path}: ${damaged.length} window(s) damaged (first: ${
        damaged.slice(0, 5).join(", ")
      }); their done marks are cleared: run deno task generate --out ${s.path} --resume ` +
        `(same flags, or the shards) to regenerate them, then --finalize`,
    );
  }
  const missing: number[] = [];
  for (let w = 0; w < n; w++) if (!isWindowDone(s, w)) missing.push(w);
  if (missing.length > 0) {
    throw new SoadError(
      `${s.path} is incomplete: ${missing.length} of ${n} windows missing (first: ${
        missing.slice(0, 5).join(", ")
      }); run the missing seeds/shards (with --resume) before --finalize`,
    );
  }
  const [t0, t1] = s.attrs.split.train;
  const stats = windowStats(s, t0, t1);
  for (const [i, sd] of stats.std.entries()) {
    if (!(sd > 0 && Number.isFinite(sd))) {
      throw new IntegrityError(
        `${s.path}: layer ${i} of the training split has standard deviation ${sd}; ` +
          `a store needs finite, non-constant training windows`,
      );
    }
  }
  const attrs: StoreAttributes = {
    ...s.attrs,
    norm_mean: stats.mean,
    norm_std: stats.std,
    fingerprint: storeFingerprint(s, stats.mean, stats.std),
    complete: true,
  };
  const docs = metadataDocuments(attrs);
  writeJsonAtomicSync(`${s.path}/.zmetadata`, { metadata: docs, zarr_consolidated_format: 1 });
  writeJsonAtomicSync(`${s.path}/.zattrs`, attrs);
  removeStrayTemporaries(s.path, true);
  try {
    Deno.removeSync(`${s.path}/.soad`, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  s.attrs = attrs;
  return attrs;
}
