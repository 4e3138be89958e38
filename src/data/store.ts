/**
 * The dataset's Zarr v2 store (readable by Python `xarray.open_zarr` and `zarr`): layout,
 * creation, opening with a configuration check, and the atomic per-window writes (the `q` chunk,
 * then its `done` mark, then the trajectory checkpoint). Chunks are encoded and written through
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
import { crc32 } from "../io/crc32.ts";
import { configKey, type DataConfig, type DataSplit, dataSplit, outputGrid } from "./config.ts";
import { FsStore, stableJson, writeJsonAtomicSync } from "./fs_store.ts";
import { writeFileAtomicSync } from "../io/atomic.ts";

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

/**
 * Writes window `w` (global index) atomically: its `q` chunk, its checksum, then its `done`
 * mark (each file atomically, in that order, so a done mark always has both before it).
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { outputGrid } from "@soad/soad/internal";
 * import { isWindowDone, prepareDatasetStore, writeWindow } from "./store.ts";
 * const c = DATA_PRESETS.tiny;
 * const s = await prepareDatasetStore(Deno.makeTempDirSync() + "/d.zarr", c, { reuse: false });
 * const [h, w] = outputGrid(c);
 * await writeWindow(s, 3, new Float32Array(c.window * 2 * h * w));
 * console.log(isWindowDone(s, 3), isWindowDone(s, 4)); // true false
 * ```
 */
export async function writeWindow(s: DatasetStore, w: number, data: Float32Array): Promise<void> {
  const c = s.config;
  const [h, wd] = outputGrid(c);
  const shape = [1, c.window, 2, h, wd];
  if (data.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new InvalidArgumentError(`window data must have ${shape.join("x")} values`);
  }
  const q = await zarr.open.v2(new zarr.Location(s.store, "/q"), { kind: "array" });
  const stride = [c.window * 2 * h * wd, 2 * h * wd, h * wd, wd, 1];
  await zarr.set(q as zarr.Array<"float32", FsStore>, [
    zarr.slice(w, w + 1),
    null,
    null,
    null,
    null,
  ], {
    data,
    shape,
    stride,
  });
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const crc = new Uint8Array(4);
  new DataView(crc.buffer).setUint32(0, crc32(bytes), true);
  writeFileAtomicSync(`${s.path}/q_crc32/${w}`, crc);
  const done = await zarr.open.v2(new zarr.Location(s.store, "/done"), { kind: "array" });
  await zarr.set(done as zarr.Array<"uint8", FsStore>, [w], 1);
}

/**
 * Whether window `w` has its done mark.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { prepareDatasetStore, isWindowDone } from "./store.ts";
 * const s = await prepareDatasetStore(Deno.makeTempDirSync() + "/d.zarr", DATA_PRESETS.tiny, {
 *   reuse: false,
 * });
 * console.log(isWindowDone(s, 0)); // false
 * ```
 */
export function isWindowDone(s: DatasetStore, w: number): boolean {
  try {
    return Deno.readFileSync(`${s.path}/done/${w}`)[0] === 1;
  } catch {
    return false;
  }
}

/** The state of one window of a store, as {@link windowStatus} finds it. */
export type WindowStatus = "missing" | "done" | "damaged";

function checkIndex(s: DatasetStore, w: number): void {
  const n = s.config.seeds * s.config.windowsPerSeed;
  if (!Number.isInteger(w) || w < 0 || w >= n) {
    throw new InvalidArgumentError(`window index must be an integer in 0..${n - 1}, got ${w}`);
  }
}

/** Reads and checks the raw bytes of window `w`; returns them or a reason for the damage. */
function readChunk(s: DatasetStore, w: number, verify: boolean): Uint8Array | string {
  const c = s.config;
  const [h, wd] = outputGrid(c);
  const n = c.window * 2 * h * wd;
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(`${s.path}/q/${w}.0.0.0.0`);
  } catch {
    return "its q chunk is missing";
  }
  if (bytes.length !== 4 * n) {
    return `its q chunk has ${bytes.length} bytes, expected ${4 * n}`;
  }
  if (!verify) return bytes;
  let stored: Uint8Array;
  try {
    stored = Deno.readFileSync(`${s.path}/q_crc32/${w}`);
  } catch {
    return "its checksum (q_crc32) is missing";
  }
  if (stored.length !== 4) return "its checksum (q_crc32) is not 4 bytes";
  const want = new DataView(stored.buffer, stored.byteOffset, 4).getUint32(0, true);
  const got = crc32(bytes);
  if (want !== got) {
    return `its q chunk fails its checksum (CRC-32 ${got.toString(16)}, recorded ${
      want.toString(16)
    })`;
  }
  return bytes;
}

/**
 * Whether window `w` is missing (no done mark), done (done mark, chunk of the right size and
 * matching checksum) or damaged (done mark but a missing, truncated or altered chunk).
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { prepareDatasetStore, windowStatus, writeWindow } from "./store.ts";
 * const s = await prepareDatasetStore(Deno.makeTempDirSync() + "/d.zarr", DATA_PRESETS.tiny, {
 *   reuse: false,
 * });
 * await writeWindow(s, 0, new Float32Array(10 * 2 * 16 * 16));
 * Deno.writeFileSync(`${s.path}/q/0.0.0.0.0`, new Uint8Array(8));
 * console.log(windowStatus(s, 0), windowStatus(s, 1)); // damaged missing
 * ```
 */
export function windowStatus(s: DatasetStore, w: number): WindowStatus {
  if (!isWindowDone(s, w)) return "missing";
  return typeof readChunk(s, w, true) === "string" ? "damaged" : "done";
}

/**
 * Removes window `w`'s done mark and checksum, so that it counts as not written (used before
 * regenerating a damaged window).
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { clearWindow, isWindowDone, prepareDatasetStore, writeWindow } from "./store.ts";
 * const s = await prepareDatasetStore(Deno.makeTempDirSync() + "/d.zarr", DATA_PRESETS.tiny, {
 *   reuse: false,
 * });
 * await writeWindow(s, 0, new Float32Array(10 * 2 * 16 * 16));
 * clearWindow(s, 0);
 * console.log(isWindowDone(s, 0)); // false
 * ```
 */
export function clearWindow(s: DatasetStore, w: number): void {
  for (const p of [`${s.path}/done/${w}`, `${s.path}/q_crc32/${w}`]) {
    try {
      Deno.removeSync(p);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}

/**
 * Reads window `w` as float32 `(time, layer, y, x)` (the raw chunk bytes, little-endian),
 * checking its size and, unless the store was opened with `verify: false`, its checksum.
 * Throws {@link IntegrityError} when it is missing or damaged.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { prepareDatasetStore, readWindow, writeWindow } from "./store.ts";
 * const s = await prepareDatasetStore(Deno.makeTempDirSync() + "/d.zarr", DATA_PRESETS.tiny, {
 *   reuse: false,
 * });
 * await writeWindow(s, 0, new Float32Array(10 * 2 * 16 * 16).fill(1));
 * console.log(readWindow(s, 0)[5]); // 1
 * ```
 */
export function readWindow(s: DatasetStore, w: number): Float32Array {
  checkIndex(s, w);
  const r = readChunk(s, w, s.verify);
  if (typeof r === "string") {
    throw new IntegrityError(
      `window ${w} of ${s.path} is damaged or missing: ${r}; run deno task generate --out ` +
        `${s.path} --resume (same flags) to regenerate it`,
    );
  }
  const out = new Float32Array(r.length / 4);
  new Uint8Array(out.buffer).set(r);
  return out;
}
