/**
 * The windows of a dataset store: the atomic per-window write (the `q` chunk, its CRC-32, then
 * its `done` mark), reads that check size and checksum, and the status and clearing of one window
 * (`store.ts` holds the store's layout, creation and opening).
 * @module
 */

import * as zarr from "zarrita";
import { IntegrityError, InvalidArgumentError } from "../errors.ts";
import { crc32 } from "../io/crc32.ts";
import { writeFileAtomicSync } from "../io/atomic.ts";
import { outputGrid } from "./config.ts";
import type { FsStore } from "./fs_store.ts";
import type { DatasetStore } from "./store.ts";

/**
 * Writes window `w` (global index) atomically: its `q` chunk, its checksum, then its `done`
 * mark (each file atomically, in that order, so a done mark always has both before it).
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { outputGrid } from "@soad/soad/internal";
 * import { prepareDatasetStore } from "./store.ts";
 * import { isWindowDone, writeWindow } from "./store_windows.ts";
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
 * import { prepareDatasetStore } from "./store.ts";
 * import { isWindowDone } from "./store_windows.ts";
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
 * import { prepareDatasetStore } from "./store.ts";
 * import { windowStatus, writeWindow } from "./store_windows.ts";
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
 * import { prepareDatasetStore } from "./store.ts";
 * import { clearWindow, isWindowDone, writeWindow } from "./store_windows.ts";
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
 * import { prepareDatasetStore } from "./store.ts";
 * import { readWindow, writeWindow } from "./store_windows.ts";
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
