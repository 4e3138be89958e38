/**
 * Trajectory checkpoints of a dataset store (`.soad/ckpt/seed-<i>.f64`): the index of the next
 * window and the float64 QG state at its start, written atomically after each window, so that a
 * killed run resumes exactly where it stopped.
 * @module
 */

import { writeFileAtomicSync } from "../io/atomic.ts";
import type { SeedCheckpoint } from "./simulate.ts";
import type { DatasetStore } from "./store.ts";

function ckptPath(s: DatasetStore, seedIndex: number): string {
  return `${s.path}/.soad/ckpt/seed-${seedIndex}.f64`;
}

/**
 * Saves a trajectory checkpoint atomically (window index, then the float64 state).
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { prepareDatasetStore } from "./store.ts";
 * import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
 * const s = await prepareDatasetStore(Deno.makeTempDirSync() + "/d.zarr", DATA_PRESETS.tiny, {
 *   reuse: false,
 * });
 * writeCheckpoint(s, 1, { window: 2, q: new Float64Array(2 * 32 * 32) });
 * console.log(readCheckpoint(s, 1)?.window); // 2
 * ```
 */
export function writeCheckpoint(s: DatasetStore, seedIndex: number, ck: SeedCheckpoint): void {
  const buf = new Float64Array(1 + ck.q.length);
  buf[0] = ck.window;
  buf.set(ck.q, 1);
  writeFileAtomicSync(ckptPath(s, seedIndex), new Uint8Array(buf.buffer));
}

/**
 * Loads a trajectory checkpoint, or null when there is none.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { prepareDatasetStore } from "./store.ts";
 * import { readCheckpoint } from "./checkpoint.ts";
 * const s = await prepareDatasetStore(Deno.makeTempDirSync() + "/d.zarr", DATA_PRESETS.tiny, {
 *   reuse: false,
 * });
 * console.log(readCheckpoint(s, 0)); // null
 * ```
 */
export function readCheckpoint(s: DatasetStore, seedIndex: number): SeedCheckpoint | null {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(ckptPath(s, seedIndex));
  } catch {
    return null;
  }
  const { nx, ny } = s.config.qg;
  if (bytes.length !== 8 * (1 + 2 * nx * ny)) return null;
  const buf = new Float64Array(bytes.slice().buffer);
  return { window: buf[0], q: buf.slice(1) };
}
