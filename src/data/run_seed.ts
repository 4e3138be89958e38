/**
 * Runs one trajectory of a configuration into an open store: resumes from its checkpoint when
 * there is one and no window before it is missing (else from the noise IC), writes each window
 * that is not done atomically (chunk, checksum, done mark, then checkpoint), and skips the
 * trajectory entirely when all its windows are already done.
 * @module
 */

import type { FFTBackend } from "../fft/types.ts";
import { simulateSeed } from "./simulate.ts";
import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import { type DatasetStore, isWindowDone, writeWindow } from "./store.ts";

/** Options of {@link runSeedIntoStore}. */
export interface RunSeedOptions {
  /** Stop after this many model steps. */
  limitSteps?: number;
  /** FFT engine. */
  fft?: FFTBackend | "auto";
  /** Called after each window is written, with its global index. */
  onWindow?: (globalIndex: number) => void;
}

/** What {@link runSeedIntoStore} did. */
export interface RunSeedResult {
  /** Windows written now. */
  written: number;
  /** Windows found already done and not recomputed. */
  skipped: number;
  /** Model steps taken. */
  steps: number;
  /** True when stopped by `limitSteps`. */
  limited: boolean;
}

/**
 * Runs trajectory `seedIndex` into store `s` (see the module doc).
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { runSeedIntoStore } from "./run_seed.ts";
 * import { prepareDatasetStore } from "./store.ts";
 * const s = await prepareDatasetStore(Deno.makeTempDirSync() + "/d.zarr", DATA_PRESETS.tiny, {
 *   reuse: false,
 * });
 * console.log((await runSeedIntoStore(s, 1)).written); // 5
 * ```
 */
export async function runSeedIntoStore(
  s: DatasetStore,
  seedIndex: number,
  opts: RunSeedOptions = {},
): Promise<RunSeedResult> {
  const c = s.config;
  const base = seedIndex * c.windowsPerSeed;
  let doneCount = 0;
  for (let k = 0; k < c.windowsPerSeed; k++) if (isWindowDone(s, base + k)) doneCount++;
  if (doneCount === c.windowsPerSeed) {
    return { written: 0, skipped: doneCount, steps: 0, limited: false };
  }
  let firstMissing = 0;
  while (isWindowDone(s, base + firstMissing)) firstMissing++;
  // a checkpoint past a window that is not done (one cleared as damaged) cannot be used
  const ck = readCheckpoint(s, seedIndex);
  const from = ck && ck.window <= firstMissing ? ck : undefined;
  const skipped = from ? from.window : 0;
  let written = 0;
  const r = await simulateSeed(c, seedIndex, {
    from,
    limitSteps: opts.limitSteps,
    fft: opts.fft,
    onWindow: async (k, data, next) => {
      if (isWindowDone(s, base + k)) {
        writeCheckpoint(s, seedIndex, next);
        return;
      }
      await writeWindow(s, base + k, data);
      writeCheckpoint(s, seedIndex, next);
      written++;
      opts.onWindow?.(base + k);
    },
  });
  return { written, skipped, steps: r.steps, limited: r.limited };
}
