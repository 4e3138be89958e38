/**
 * The truth of a cycling twin experiment: a trajectory of daily frames of physical q `[T, 2, H, W]`
 * (float32), pooled by `pool` from the simulation grid of `qg`. Loaded from a `.npy` with its sidecar
 * JSON (the format of `models/demo/window.json`) or simulated with the demo preset's physics, and the
 * climatological states (an independent run, never the truth) that start the LETKF.
 * @module
 */

import { DATA_PRESETS } from "../data/config.ts";
import { averagePool } from "../data/pool.ts";
import { InvalidArgumentError } from "../errors.ts";
import { readNpy } from "../io/npy.ts";
import { icNoise } from "../qg/initial.ts";
import { QGModel } from "../qg/model.ts";
import { type QGParams, resolveParams } from "../qg/params.ts";

/** A truth trajectory. */
export interface Truth {
  /** Physical q `[frames, 2, height, width]`, 1/s. */
  q: Float32Array;
  /** Daily frames T. */
  frames: number;
  /** Rows H of the pooled grid. */
  height: number;
  /** Columns W of the pooled grid. */
  width: number;
  /** Parameters of the simulation that made it (its grid is pool·H × pool·W). */
  qg: QGParams;
  /** Average-pooling factor from the simulation grid to H×W. */
  pool: number;
  /** Where it came from (for the summary). */
  source: string;
}

/** Noise-IC seed of a simulated truth: far from the dataset's trajectories 0, 1, … */
export const TRUTH_SEED_OFFSET = 100_000;
/** Noise-IC seed of the climatology run (independent of the truth and of the dataset). */
export const CLIMATOLOGY_SEED_OFFSET = 200_000;

/**
 * Reads a truth `.npy` `[T, 2, H, W]` and its sidecar (`qg_params`, `pool`; `pool` may be left out
 * when the simulation grid divides evenly), checking that they agree.
 *
 * @example
 * ```ts ignore
 * import { loadTruth } from "@soad/soad";
 * const t = await loadTruth("models/demo/window.npy");
 * console.log(t.frames, t.height, t.pool); // 9 64 2
 * ```
 */
export async function loadTruth(path: string, metaPath?: string): Promise<Truth> {
  const sidecar = metaPath ?? path.replace(/\.npy$/, "") + ".json";
  let arr;
  try {
    arr = await readNpy(path);
  } catch (e) {
    throw new InvalidArgumentError(`cannot read truth ${path}: ${(e as Error).message}`);
  }
  let meta: { qg_params?: Partial<QGParams>; pool?: number };
  try {
    meta = JSON.parse(await Deno.readTextFile(sidecar));
  } catch (e) {
    throw new InvalidArgumentError(
      `cannot read the truth's sidecar ${sidecar} (--truth-meta; JSON with qg_params and pool, ` +
        `as models/demo/window.json): ${(e as Error).message}`,
    );
  }
  const s = arr.shape;
  if (s.length !== 4 || s[1] !== 2) {
    throw new InvalidArgumentError(`truth ${path} must be [T, 2, H, W], got [${s}]`);
  }
  if (!meta.qg_params || typeof meta.qg_params !== "object") {
    throw new InvalidArgumentError(`sidecar ${sidecar} has no qg_params object`);
  }
  const qg = resolveParams(meta.qg_params);
  const [T, , H, W] = s;
  const pool = meta.pool ?? (qg.nx % W === 0 ? qg.nx / W : NaN);
  if (!(Number.isInteger(pool) && pool >= 1) || qg.nx % pool !== 0 || qg.ny % pool !== 0) {
    throw new InvalidArgumentError(
      `pool factor ${
        meta.pool ?? "(inferred)"
      } in ${sidecar} must be a positive integer dividing ` +
        `the simulation grid ${qg.ny}x${qg.nx}`,
    );
  }
  if (qg.nx / pool !== W || qg.ny / pool !== H) {
    throw new InvalidArgumentError(
      `truth grid ${H}x${W} does not match its sidecar: ${qg.ny}x${qg.nx} pooled by ${pool} is ` +
        `${qg.ny / pool}x${qg.nx / pool}`,
    );
  }
  const q = Float32Array.from(arr.data as ArrayLike<number>);
  for (let i = 0; i < q.length; i++) {
    if (!Number.isFinite(q[i])) {
      throw new InvalidArgumentError(`truth ${path} has a non-finite value`);
    }
  }
  return { q, frames: T, height: H, width: W, qg, pool, source: path };
}

/** Options of {@link simulateTruth} and {@link climatologyStates}. */
export interface SimulateTruthOptions {
  /** QG parameters (default: the demo preset's, 128², dt 1800 s). */
  qg?: QGParams;
  /** Pooling factor (default the demo preset's, 2). */
  pool?: number;
  /** Warm-up days from the noise IC (default the demo preset's, 1095). */
  warmupDays?: number;
  /** Called with the number of model steps done and to do. */
  onProgress?: (done: number, total: number) => void;
}

function stepsPerDay(qg: QGParams): number {
  const spd = 86400 / qg.dt;
  if (!Number.isInteger(spd)) throw new InvalidArgumentError(`dt ${qg.dt} s must divide one day`);
  return spd;
}

/**
 * Simulates a truth of `frames` daily frames: noise IC with seed TRUTH_SEED_OFFSET + seed, the
 * demo preset's warm-up, then a frame every day, pooled.
 *
 * @example
 * ```ts
 * import { simulateTruth } from "@soad/soad";
 * import { resolveParams } from "@soad/soad";
 * const t = simulateTruth(2, 0, { qg: resolveParams({ nx: 32, dt: 7200 }), warmupDays: 1 });
 * console.log(t.frames, t.height); // 2 16
 * ```
 */
export function simulateTruth(
  frames: number,
  seed: number,
  opts: SimulateTruthOptions = {},
): Truth {
  const qg = opts.qg ?? DATA_PRESETS.demo.qg;
  const pool = opts.pool ?? DATA_PRESETS.demo.pool;
  const warm = opts.warmupDays ?? DATA_PRESETS.demo.warmupDays;
  if (!(Number.isInteger(frames) && frames >= 1)) {
    throw new InvalidArgumentError(`--simulate needs a whole number of days >= 1, got ${frames}`);
  }
  const spd = stepsPerDay(qg), H = qg.ny / pool, W = qg.nx / pool;
  const model = new QGModel(qg);
  model.setQ(icNoise(qg.nx, qg.ny, TRUTH_SEED_OFFSET + seed));
  const total = (warm + frames - 1) * spd;
  let done = 0;
  for (let d = 0; d < warm; d++) {
    model.step(spd);
    opts.onProgress?.(done += spd, total);
  }
  const q = new Float32Array(frames * 2 * H * W);
  for (let f = 0; f < frames; f++) {
    if (f > 0) {
      model.step(spd);
      opts.onProgress?.(done += spd, total);
    }
    averagePool(model.q, qg.ny, qg.nx, pool, 2, q, f * 2 * H * W);
  }
  return {
    q,
    frames,
    height: H,
    width: W,
    qg,
    pool,
    source: `simulated: demo physics, noise IC seed ${TRUTH_SEED_OFFSET + seed}, ${warm} d warm-up`,
  };
}

/**
 * `count` climatological states `[count, 2, ny, nx]` (float64, simulation grid) from one
 * independent free run (noise IC seed CLIMATOLOGY_SEED_OFFSET + seed): after the warm-up, one state
 * every `spacingDays` days (more than the ≈ 20-day decorrelation time by default).
 *
 * @example
 * ```ts
 * import { climatologyStates } from "@soad/soad/internal";
 * import { resolveParams } from "@soad/soad";
 * const x = climatologyStates(2, 0, { qg: resolveParams({ nx: 32, dt: 7200 }), warmupDays: 1 }, 1);
 * console.log(x.length); // 4096
 * ```
 */
export function climatologyStates(
  count: number,
  seed: number,
  opts: SimulateTruthOptions = {},
  spacingDays = 25,
): Float64Array {
  const qg = opts.qg ?? DATA_PRESETS.demo.qg;
  const warm = opts.warmupDays ?? DATA_PRESETS.demo.warmupDays;
  const spd = stepsPerDay(qg), n = 2 * qg.nx * qg.ny;
  const model = new QGModel(qg);
  model.setQ(icNoise(qg.nx, qg.ny, CLIMATOLOGY_SEED_OFFSET + seed));
  const total = (warm + (count - 1) * spacingDays) * spd;
  let done = 0;
  for (let d = 0; d < warm; d++) {
    model.step(spd);
    opts.onProgress?.(done += spd, total);
  }
  const out = new Float64Array(count * n);
  for (let k = 0; k < count; k++) {
    if (k > 0) {
      for (let d = 0; d < spacingDays; d++) {
        model.step(spd);
        opts.onProgress?.(done += spd, total);
      }
    }
    out.set(model.q, k * n);
  }
  return out;
}
