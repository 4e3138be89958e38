/**
 * One trajectory of the dataset pipeline (`../shared/spec/SOAD.md` §1.1): noise IC → warm-up →
 * consecutive windows of `window` snapshots spaced `every` days, window starts `gap` days apart,
 * each snapshot average-pooled to float32. Every window restarts the time stepper from its
 * starting state (`setQ`), so a window is a pure function of that state: this is what makes a
 * resumed run (which restores the state from a checkpoint) byte-identical to an uninterrupted one.
 * @module
 */

import type { FFTBackend } from "../fft/types.ts";
import { icNoise } from "../qg/initial.ts";
import { QGModel } from "../qg/model.ts";
import { type DataConfig, outputGrid } from "./config.ts";
import { averagePool } from "./pool.ts";

/** Where a trajectory starts: window index and the float64 state `[2][ny][nx]` at its start. */
export interface SeedCheckpoint {
  /** Index (within the trajectory) of the next window to record. */
  window: number;
  /** QG state at the start of that window. */
  q: Float64Array;
}

/** Options of {@link simulateSeed}. */
export interface SimulateOptions {
  /** Resume from this checkpoint instead of the noise IC and warm-up. */
  from?: SeedCheckpoint;
  /** Stop after this many model steps (smoke tests of large presets). */
  limitSteps?: number;
  /** FFT engine. Default "auto". */
  fft?: FFTBackend | "auto";
  /**
   * Called after each window with its pooled float32 data `(time, layer, y, x)` and the
   * checkpoint for the next window; awaited before the simulation continues.
   */
  onWindow: (k: number, data: Float32Array, next: SeedCheckpoint) => Promise<void> | void;
}

/** What {@link simulateSeed} did. */
export interface SimulateResult {
  /** Model steps taken. */
  steps: number;
  /** Windows recorded. */
  windows: number;
  /** True when `limitSteps` stopped it early. */
  limited: boolean;
}

/**
 * Runs trajectory `seedIndex` (noise-IC seed `seedOffset + seedIndex`) of a configuration.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { simulateSeed } from "@soad/soad/internal";
 * let n = 0;
 * await simulateSeed(DATA_PRESETS.tiny, 0, { onWindow: () => void n++ });
 * console.log(n); // 5
 * ```
 */
export async function simulateSeed(
  config: DataConfig,
  seedIndex: number,
  opts: SimulateOptions,
): Promise<SimulateResult> {
  const { nx, ny, dt } = config.qg;
  const spd = Math.round(86400 / dt);
  const model = new QGModel(config.qg, { fft: opts.fft ?? "auto" });
  const limit = opts.limitSteps ?? Infinity;
  let steps = 0;
  const advance = (n: number): boolean => {
    const m = Math.min(n, limit - steps);
    if (m > 0) model.step(m);
    steps += m;
    return m === n;
  };
  let k: number;
  let q: Float64Array;
  if (opts.from) {
    k = opts.from.window;
    q = opts.from.q;
  } else {
    model.setQ(icNoise(nx, ny, config.seedOffset + seedIndex));
    if (!advance(config.warmupDays * spd)) return { steps, windows: 0, limited: true };
    q = model.q.slice();
    k = 0;
  }
  const [h, w] = outputGrid(config);
  const frame = 2 * h * w;
  let windows = 0;
  for (; k < config.windowsPerSeed; k++) {
    model.setQ(q);
    const data = new Float32Array(config.window * frame);
    for (let t = 0; t < config.window; t++) {
      if (t > 0 && !advance(config.every * spd)) return { steps, windows, limited: true };
      averagePool(model.q, ny, nx, config.pool, 2, data, t * frame);
    }
    if (!advance((config.gap - (config.window - 1) * config.every) * spd)) {
      return { steps, windows, limited: true };
    }
    q = model.q.slice();
    await opts.onWindow(k, data, { window: k + 1, q });
    windows++;
  }
  return { steps, windows, limited: false };
}
