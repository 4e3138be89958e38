/**
 * The dataset's Zarr v2 store (readable by Python `xarray.open_zarr` and `zarr`): layout,
 * creation and opening with a configuration check; the atomic per-window writes and checked reads
 * are in `store_windows.ts` (re-exported here). Chunks are encoded and written through
 * `zarrita`; the v2 metadata documents (`.zarray`, `.zgroup`, `.zattrs`) are written as JSON
 * here because `zarrita.create` only emits Zarr v3.
 *
 * Layout of a store:
 * - `q` float32 `(window, time, layer, y, x)`, one window per chunk, uncompressed, NaN fill;
 * - `seed`, `start_day` int32 `(window,)`: the noise-IC seed of each window and the model day of
 *   its first snapshot;
 * - `q_crc32` uint32 `(window,)`, one chunk per window: the CRC-32 (zlib's) of the window's raw
 *   `q` chunk bytes, written right after the chunk; readers verify it (`verify: false` skips);
 * - `done` uint8 `(window,)`, one chunk per window: 1 once the window's `q` chunk and checksum
 *   are written;
 * - root attributes: format, code version, full config, QG parameters, split, and after
 *   finalisation the per-layer normalisation statistics, the store's `fingerprint` (a hash of
 *   the configuration, every chunk's checksum and the statistics: what identifies the data, not
 *   its path) and `complete: true`;
 * - `.soad/ckpt/` trajectory checkpoints (`checkpoint.ts`; removed by finalisation).
 * @module
 */

import * as zarr from "zarrita";
import denoJson from "../../deno.json" with { type: "json" };
import { IntegrityError, InvalidArgumentError, SoadError } from "../errors.ts";
import { configKey, type DataConfig, type DataSplit, dataSplit, outputGrid } from "./config.ts";
import { FsStore, stableJson, writeJsonAtomicSync } from "./fs_store.ts";

/**
 * Identifier of this store layout, in the root attributes.
 *
 * @example
 * ```ts
 * import { STORE_FORMAT } from "@soad/soad/internal";
 * console.log(STORE_FORMAT); // soad-qg-windows/2
 * ```
 */
export const STORE_FORMAT = "soad-qg-windows/2";

/**
 * Version of the code that wrote a store (`soad <deno.json version>`).
 *
 * @example
 * ```ts
 * import { CODE_VERSION } from "./store.ts";
 * console.log(CODE_VERSION.startsWith("soad ")); // true
 * ```
 */
export const CODE_VERSION = `soad ${denoJson.version}`;

/** Root attributes of a store. */
export interface StoreAttributes {
  /** {@link STORE_FORMAT}. */
  format: string;
  /** {@link CODE_VERSION} of the writer. */
  code_version: string;
  /** The full configuration. */
  config: DataConfig;
  /** The resolved QG parameters (same as `config.qg`, for readers that look for them). */
  qg_params: DataConfig["qg"];
  /** Window-index ranges of the splits. */
  split: DataSplit;
  /** Per-layer mean over the training split (after finalisation). */
  norm_mean: number[] | null;
  /** Per-layer standard deviation (population) over the training split (after finalisation). */
  norm_std: number[] | null;
  /** True once every window is written and the statistics computed. */
  complete: boolean;
  /** Checksum of each `q` chunk, in the `q_crc32` array. */
  checksum: "crc32";
  /**
   * Identity of the data (after finalisation): `sha256:` + hex of a hash of the configuration,
   * every chunk's checksum and the statistics. Equal fingerprints mean equal data bytes.
   */
  fingerprint: string | null;
  /** Free-text description of the arrays. */
  description: string;
}

/** An open dataset store. */
export interface DatasetStore {
  /** Directory of the store. */
  path: string;
  /** The underlying zarrita store. */
  store: FsStore;
  /** Root attributes. */
  attrs: StoreAttributes;
  /** The configuration (same as `attrs.config`). */
  config: DataConfig;
  /** Whether {@link readWindow} checks each chunk's checksum (default true). */
  verify: boolean;
}

/**
 * Root attributes of a fresh (not finalised) store for a configuration.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { initialAttributes } from "./store.ts";
 * console.log(initialAttributes(DATA_PRESETS.tiny).complete); // false
 * ```
 */
export function initialAttributes(config: DataConfig): StoreAttributes {
  const [h, w] = outputGrid(config);
  return {
    format: STORE_FORMAT,
    code_version: CODE_VERSION,
    config,
    qg_params: config.qg,
    split: dataSplit(config),
    norm_mean: null,
    norm_std: null,
    complete: false,
    checksum: "crc32",
    fingerprint: null,
    description:
      `QG potential vorticity anomaly q [1/s], float32 windows (window, time, layer, y, x) ` +
      `of ${config.window} snapshots every ${config.every} day(s), layer 0 = upper, ` +
      `${config.qg.ny}x${config.qg.nx} simulation average-pooled by ${config.pool} to ${h}x${w}`,
  };
}

function zarray(shape: number[], chunks: number[], dtype: string, fill: unknown): unknown {
  return {
    chunks,
    compressor: null,
    dimension_separator: ".",
    dtype,
    fill_value: fill,
    filters: null,
    order: "C",
    shape,
    zarr_format: 2,
  };
}

/**
 * Every metadata document of a store, by key (for writing and for `.zmetadata`).
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { initialAttributes, metadataDocuments } from "./store.ts";
 * const docs = metadataDocuments(initialAttributes(DATA_PRESETS.tiny));
 * console.log((docs["q/.zarray"] as { shape: number[] }).shape); // [ 10, 10, 2, 16, 16 ]
 * ```
 */
export function metadataDocuments(attrs: StoreAttributes): Record<string, unknown> {
  const c = attrs.config;
  const n = c.seeds * c.windowsPerSeed;
  const [h, w] = outputGrid(c);
  return {
    ".zgroup": { zarr_format: 2 },
    ".zattrs": attrs,
    "q/.zarray": zarray([n, c.window, 2, h, w], [1, c.window, 2, h, w], "<f4", "NaN"),
    "q/.zattrs": {
      _ARRAY_DIMENSIONS: ["window", "time", "layer", "y", "x"],
      long_name: "potential vorticity anomaly",
      units: "1/s",
    },
    "seed/.zarray": zarray([n], [n], "<i4", null),
    "seed/.zattrs": { _ARRAY_DIMENSIONS: ["window"], long_name: "noise initial condition seed" },
    "start_day/.zarray": zarray([n], [n], "<i4", null),
    "start_day/.zattrs": {
      _ARRAY_DIMENSIONS: ["window"],
      long_name: "model day of the window's first snapshot (days since the noise IC)",
    },
    "q_crc32/.zarray": zarray([n], [1], "<u4", null),
    "q_crc32/.zattrs": {
      _ARRAY_DIMENSIONS: ["window"],
      long_name: "CRC-32 (zlib) of the window's raw q chunk bytes",
    },
    "done/.zarray": zarray([n], [1], "|u1", null),
    "done/.zattrs": { _ARRAY_DIMENSIONS: ["window"], long_name: "1 once the window is written" },
    // coordinates (xarray shows them as such): days within a window, layer, cell centres in metres
    "time/.zarray": zarray([c.window], [c.window], "<f8", null),
    "time/.zattrs": {
      _ARRAY_DIMENSIONS: ["time"],
      long_name: "days since the window's first snapshot",
      units: "days",
    },
    "window/.zarray": zarray([n], [n], "<i4", null),
    "window/.zattrs": {
      _ARRAY_DIMENSIONS: ["window"],
      long_name: "global window index (split by index: train, valid, test)",
    },
    "layer/.zarray": zarray([2], [2], "<i4", null),
    "layer/.zattrs": { _ARRAY_DIMENSIONS: ["layer"], long_name: "QG layer (0 = upper)" },
    "y/.zarray": zarray([h], [h], "<f8", null),
    "y/.zattrs": {
      _ARRAY_DIMENSIONS: ["y"],
      long_name: "y, cell centre (south to north)",
      units: "m",
    },
    "x/.zarray": zarray([w], [w], "<f8", null),
    "x/.zattrs": { _ARRAY_DIMENSIONS: ["x"], long_name: "x, cell centre", units: "m" },
  };
}

/**
 * The coordinate values of a store: `window` (global index), `time` (days within a window),
 * `layer`, and the cell centres
 * `y` and `x` in metres of the pooled grid.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { storeCoordinates } from "@soad/soad";
 * const c = storeCoordinates(DATA_PRESETS.tiny);
 * console.log(c.x.length, c.x[0] * 2 === c.x[1] - c.x[0]); // 16 true
 * ```
 */
export function storeCoordinates(
  c: DataConfig,
): { window: Int32Array; time: Float64Array; layer: Int32Array; y: Float64Array; x: Float64Array } {
  const [h, w] = outputGrid(c);
  return {
    window: Int32Array.from({ length: c.seeds * c.windowsPerSeed }, (_, i) => i),
    time: Float64Array.from({ length: c.window }, (_, i) => i * c.every),
    layer: new Int32Array([0, 1]),
    y: Float64Array.from({ length: h }, (_, i) => (i + 0.5) * c.qg.W / h),
    x: Float64Array.from({ length: w }, (_, i) => (i + 0.5) * c.qg.L / w),
  };
}

function readAttrs(path: string): StoreAttributes | null {
  try {
    return JSON.parse(Deno.readTextFileSync(`${path}/.zattrs`)) as StoreAttributes;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new SoadError(`cannot read ${path}/.zattrs: ${(e as Error).message}`);
  }
}

function isNonEmpty(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    if (!st.isDirectory) return true;
    for (const _ of Deno.readDirSync(path)) return true;
    return false;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Options of {@link openDatasetStore}. */
export interface OpenStoreOptions {
  /** Check each chunk's checksum when it is read (default true; false skips it for speed). */
  verify?: boolean;
}

/**
 * Checks the store's array metadata documents against what its attributes imply (a deleted or
 * edited `.zarray`, a changed dtype or shape). Throws {@link IntegrityError} naming the first one.
 */
function checkMetadata(path: string, attrs: StoreAttributes): void {
  const docs = metadataDocuments(attrs);
  for (const [key, doc] of Object.entries(docs)) {
    if (!key.endsWith("/.zarray")) continue;
    let text: string;
    try {
      text = Deno.readTextFileSync(`${path}/${key}`);
    } catch {
      throw new IntegrityError(
        `${path} is damaged: ${key} is missing; regenerate the store (deno task generate) ` +
          `or restore the file`,
      );
    }
    let found: unknown;
    try {
      found = JSON.parse(text);
    } catch {
      throw new IntegrityError(`${path} is damaged: ${key} is not valid JSON`);
    }
    if (stableJson(found) !== stableJson(doc)) {
      const f = found as Record<string, unknown>, e = doc as Record<string, unknown>;
      const diff = Object.keys(e).filter((k) => stableJson(f?.[k]) !== stableJson(e[k]));
      throw new IntegrityError(
        `${path} is damaged: ${key} differs from the store's configuration in ` +
          diff.map((k) => `${k} (${JSON.stringify(f?.[k])}, expected ${JSON.stringify(e[k])})`)
            .join(", ") +
          `; regenerate the store or restore the file`,
      );
    }
  }
}

/**
 * Opens an existing store, checking that it is a soad dataset store of this format and that its
 * array metadata (`.zarray` documents: dtype, shape, chunks) is what its configuration implies.
 * Throws {@link InvalidArgumentError} when it is missing or is not one, {@link IntegrityError}
 * when its metadata is damaged.
 *
 * @example
 * ```ts
 * import { openDatasetStore } from "@soad/soad";
 * try {
 *   openDatasetStore("/nonexistent.zarr");
 * } catch (e) {
 *   console.log((e as Error).name); // InvalidArgumentError
 * }
 * ```
 */
export function openDatasetStore(path: string, opts: OpenStoreOptions = {}): DatasetStore {
  const attrs = readAttrs(path);
  if (attrs && typeof attrs.format === "string" && attrs.format.startsWith("soad-qg-windows/")) {
    if (attrs.format !== STORE_FORMAT) {
      throw new InvalidArgumentError(
        `${path} is a soad store of format ${attrs.format}, written by an older soad without ` +
          `per-chunk checksums; this version reads ${STORE_FORMAT}: regenerate it with ` +
          `deno task generate`,
      );
    }
  }
  if (!attrs || attrs.format !== STORE_FORMAT) {
    throw new InvalidArgumentError(
      `${path} is not a soad dataset store (no ${STORE_FORMAT} attributes in .zattrs)`,
    );
  }
  checkMetadata(path, attrs);
  return {
    path,
    store: new FsStore(path),
    attrs,
    config: attrs.config,
    verify: opts.verify ?? true,
  };
}

/** Top-level names of a store skeleton (what creation writes before the root attributes). */
const SKELETON = new Set([".zgroup", "q", "q_crc32", "seed", "start_day", "done"]);

/**
 * A store whose creation was interrupted: a folder of skeleton entries only and no `.zattrs`.
 * Creation writes the same bytes again, so it is completed rather than refused.
 */
function isBareSkeleton(path: string): boolean {
  if (readAttrs(path) !== null) return false;
  try {
    if (!Deno.statSync(path).isDirectory) return false;
    for (const e of Deno.readDirSync(path)) {
      if (!SKELETON.has(e.name) && !/^\..+\.[0-9a-z]+\.tmp$/.test(e.name)) return false;
    }
    for (const a of ["q", "q_crc32", "done"]) {
      for (const e of safeList(`${path}/${a}`)) if (!e.startsWith(".")) return false;
    }
    return true;
  } catch {
    return false;
  }
}

function safeList(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch {
    return [];
  }
}

/** How {@link prepareDatasetStore} may treat an existing path. */
export interface PrepareOptions {
  /** Accept an existing store of the same configuration (resume or shard). */
  reuse: boolean;
}

/**
 * Creates the store for `config` at `path`, or with `reuse` opens an existing one after checking
 * that its configuration is the same. Errors (nothing is written): the path exists and `reuse` is
 * false; the path exists but is not a soad store; the store's configuration differs. Creation
 * writes identical bytes whoever does it, so concurrent shards may race on it safely.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { prepareDatasetStore } from "./store.ts";
 * const dir = Deno.makeTempDirSync() + "/d.zarr";
 * const s = await prepareDatasetStore(dir, DATA_PRESETS.tiny, { reuse: false });
 * console.log(s.attrs.split.train); // [ 0, 8 ]
 * ```
 */
export async function prepareDatasetStore(
  path: string,
  config: DataConfig,
  opts: PrepareOptions,
): Promise<DatasetStore> {
  if (isNonEmpty(path) && !isBareSkeleton(path)) {
    if (!opts.reuse) {
      throw new InvalidArgumentError(
        `${path} already exists; pass --resume to continue it, or choose another --out`,
      );
    }
    const existing = readAttrs(path);
    if (!existing || existing.format !== STORE_FORMAT) {
      throw new InvalidArgumentError(`${path} exists but is not a soad dataset store`);
    }
    if (configKey(existing.config) !== configKey(config)) {
      throw new InvalidArgumentError(
        `${path} was made with another configuration (preset "${existing.config.name}"); ` +
          `resume it with the same preset and flags, or choose another --out. ` +
          `Stored: ${JSON.stringify(existing.config)}`,
      );
    }
    // metadata documents follow from the configuration: a deleted or edited one is rewritten
    for (const [key, doc] of Object.entries(metadataDocuments(existing))) {
      if (key === ".zattrs") continue;
      let text: string | null = null;
      try {
        text = Deno.readTextFileSync(`${path}/${key}`);
      } catch {
        // missing: rewritten below
      }
      if (text !== stableJson(doc) + "\n") writeJsonAtomicSync(`${path}/${key}`, doc);
    }
    return openDatasetStore(path);
  }
  const attrs = initialAttributes(config);
  const docs = metadataDocuments(attrs);
  for (const [key, doc] of Object.entries(docs)) {
    if (key !== ".zattrs") writeJsonAtomicSync(`${path}/${key}`, doc);
  }
  const store = new FsStore(path);
  const n = config.seeds * config.windowsPerSeed;
  const seed = new Int32Array(n);
  const startDay = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = Math.floor(i / config.windowsPerSeed);
    seed[i] = config.seedOffset + s;
    startDay[i] = config.warmupDays + (i % config.windowsPerSeed) * config.gap;
  }
  const coords = storeCoordinates(config);
  const arrays: [string, Int32Array | Float64Array][] = [
    ["seed", seed],
    ["start_day", startDay],
    ...Object.entries(coords),
  ];
  for (const [name, data] of arrays) {
    const arr = await zarr.open.v2(new zarr.Location(store, `/${name}`), { kind: "array" });
    await zarr.set(arr as zarr.Array<"int32", FsStore>, null, {
      data: data as Int32Array,
      shape: [data.length],
      stride: [1],
    });
  }
  // the root attributes last: their presence marks a complete skeleton
  writeJsonAtomicSync(`${path}/.zattrs`, attrs);
  return { path, store, attrs, config, verify: true };
}

export {
  clearWindow,
  isWindowDone,
  readWindow,
  type WindowStatus,
  windowStatus,
  writeWindow,
} from "./store_windows.ts";
