/**
 * Finalisation of a dataset store: checks that every window is written, computes the per-layer
 * normalisation statistics over the training split, writes them into the root attributes with
 * `complete: true`, writes the consolidated metadata (`.zmetadata`, for `xarray.open_zarr`) and
 * removes the trajectory checkpoints. Idempotent and deterministic.
 * @module
 */

import { SoadError } from "../errors.ts";
import { outputGrid } from "./config.ts";
import { writeJsonAtomicSync } from "./fs_store.ts";
import {
  type DatasetStore,
  isWindowDone,
  metadataDocuments,
  readWindow,
  type StoreAttributes,
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
 * deterministic.
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

/** Removes temporary files left by writers killed mid-write (`.<name>.<random>.tmp`, see src/io/atomic.ts). */
function removeStrayTemporaries(dir: string): void {
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) removeStrayTemporaries(p);
    else if (/^\..+\.[0-9a-z]+\.tmp$/.test(e.name)) Deno.removeSync(p);
  }
}

/**
 * Finalises a store (see the module doc). Throws {@link SoadError} naming the missing windows
 * when the store is incomplete.
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
  const attrs: StoreAttributes = {
    ...s.attrs,
    norm_mean: stats.mean,
    norm_std: stats.std,
    complete: true,
  };
  const docs = metadataDocuments(attrs);
  writeJsonAtomicSync(`${s.path}/.zmetadata`, { metadata: docs, zarr_consolidated_format: 1 });
  writeJsonAtomicSync(`${s.path}/.zattrs`, attrs);
  removeStrayTemporaries(s.path);
  try {
    Deno.removeSync(`${s.path}/.soad`, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  s.attrs = attrs;
  return attrs;
}
