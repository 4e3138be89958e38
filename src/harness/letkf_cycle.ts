/**
 * The LETKF cycled with the QG model as the forecast model, and the free run: members at the
 * simulation resolution, forecast one day at a time in parallel Workers, observed through pooling,
 * normalisation and the operator, analysed on every observed day. After every day the pooled
 * members and a checkpoint of the ensemble are written, so a killed run resumes where it stopped.
 * @module
 */

import { letkfAnalysis, type LetkfGrid, letkfNeighbours } from "../assim/letkf.ts";
import type { Observation } from "../obs/observe.ts";
import type { QGParams } from "../qg/params.ts";
import {
  dayValues,
  type Normalisation,
  observationPositions,
  observeMembers,
  poolNormalise,
} from "./cycle_obs.ts";
import { dayFile, readF64, readJson, statePath, writeArray } from "./cycle_store.ts";
import type { ForecastPool } from "./forecast_pool.ts";
import { writeJsonAtomic } from "../io/atomic.ts";

/** Options of {@link runEnsembleCycle}. */
export interface EnsembleCycleOptions {
  /** Method name (state folder): "letkf" or "free". */
  method: string;
  /** Simulation parameters. */
  qg: QGParams;
  /** Pooling factor to the observed grid. */
  pool: number;
  /** Normalisation of the observed grid. */
  norm: Normalisation;
  /** Days 0..days−1. */
  days: number;
  /** Initial ensemble `[N, 2, ny, nx]` (physical q). */
  initial: Float64Array;
  /** Observations (absent: the free run, no analysis). */
  observations?: Observation;
  /** LETKF: localisation half-width c in metres (Gaspari–Cohn; weight 0 beyond 2c); Infinity = none. */
  locRadius?: number;
  /** LETKF: multiplicative inflation ρ. */
  inflation?: number;
  /** LETKF: RTPS α. */
  rtps?: number;
  /** LETKF: weight interpolation stride (1 = every column solved, the default). */
  weightStride?: number;
  /** Forecast Workers. */
  forecaster: ForecastPool;
  /** Output folder. */
  out: string;
  /** Called after each day (with whether it was computed). */
  onDay?: (day: number, computed: boolean) => void;
}

/**
 * Runs (or resumes) an ensemble over the days, writing OUT/state/METHOD/day_*.f32.
 *
 * @example
 * ```ts ignore
 * await runEnsembleCycle({ method: "letkf", qg, pool: 2, norm, days: 32, initial, observations,
 *   locRadius: 1e5, inflation: 1.05, rtps: 0.5, forecaster, out: "out/cycle" });
 * ```
 */
export async function runEnsembleCycle(o: EnsembleCycleOptions): Promise<void> {
  const { qg, pool, norm, days, observations: obs } = o;
  const per = 2 * qg.nx * qg.ny, N = o.initial.length / per, spd = Math.round(86400 / qg.dt);
  // two checkpoint files used in turn: the JSON names the complete one, so a kill between the
  // two writes leaves the previous checkpoint valid
  const ckFile = (d: number) => statePath(o.out, o.method, `ensemble_${d % 2}.f64`);
  const ckMeta = statePath(o.out, o.method, "ensemble.json");
  let ens = o.initial, start = 0;
  const meta = await readJson<{ day: number }>(ckMeta);
  if (meta) {
    const saved = await readF64(ckFile(meta.day));
    if (saved && saved.length === o.initial.length) {
      ens = saved;
      start = meta.day + 1;
      for (let d = 0; d < start; d++) o.onDay?.(d, false);
    }
  }
  const grid: LetkfGrid = { nx: qg.nx, ny: qg.ny, layers: 2, lengthX: qg.L, lengthY: qg.W };
  const neighbours = obs
    ? letkfNeighbours(
      grid,
      observationPositions(obs.mask, obs.operator.outChannels, qg.L, qg.W),
      2 * (o.locRadius ?? Infinity),
    )
    : undefined;
  for (let d = start; d < days; d++) {
    if (d > 0) ens = await o.forecaster.forecast(ens, spd);
    let pooled = poolNormalise(ens, qg.ny, qg.nx, pool, norm);
    const y = obs ? dayValues(obs, d) : undefined;
    if (obs && y && neighbours) {
      const observed = observeMembers(pooled, N, obs.operator, obs.mask);
      ens = letkfAnalysis({ members: N, forecast: ens, observed, y, sigma: obs.sigma }, grid, {
        neighbours,
        inflation: o.inflation ?? 1,
        rtps: o.rtps ?? 0,
        weightStride: o.weightStride ?? 1,
      });
      pooled = poolNormalise(ens, qg.ny, qg.nx, pool, norm);
    }
    await writeArray(dayFile(o.out, o.method, d), pooled);
    await writeArray(ckFile(d), ens);
    await writeJsonAtomic(ckMeta, { day: d });
    o.onDay?.(d, true);
  }
}
