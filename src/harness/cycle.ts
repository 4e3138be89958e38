/**
 * `cycle()`: the cycling twin experiment. One truth, one set of observations, several methods —
 * SOAD and SDA over sliding windows, the LETKF with the QG model, the free run and climatology —
 * cycled over the days and verified with deterministic and probabilistic scores. Resumable: every
 * unit of work (a LETKF day, a SOAD window) is written under OUT/state before the next starts, and a
 * resumed run recomputes nothing that exists, so it ends with the same analyses as an uninterrupted
 * one (only the wall-clock `seconds` differ).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { writeJsonAtomic } from "../io/atomic.ts";
import { writeNpy } from "../io/npy.ts";
import { prepareOutputDir } from "../io/output_dir.ts";
import { Progress, type ProgressStream } from "../io/progress.ts";
import type { ObservationOperator } from "../obs/operator.ts";
import { drawCycleObservations, type Normalisation, poolNormalise } from "./cycle_obs.ts";
import type { CycleSummary } from "./cycle_outputs.ts";
import { reportCycle } from "./cycle_report.ts";
import { readF32, readF64, readJson, statePath, writeArray } from "./cycle_store.ts";
import { ForecastPool } from "./forecast_pool.ts";
import { runEnsembleCycle } from "./letkf_cycle.ts";
import {
  climatologyStates,
  loadTruth,
  simulateTruth,
  type SimulateTruthOptions,
  type Truth,
} from "./truth.ts";
import { runWindowCycle, type WindowAssimilator, windowPlan } from "./window_cycle.ts";
import { check, CYCLE_METHODS, type CycleMethod, resolveCycleSettings } from "./cycle_settings.ts";

export { CYCLE_METHODS, type CycleMethod };

/** A truth to simulate (demo physics unless given). */
export interface SimulatedTruth extends SimulateTruthOptions {
  /** Days to simulate (frames = days + 1, so the last SOAD window fits). */
  simulate: number;
  /** Seed. */
  seed: number;
}

/** Options of {@link cycle}. */
export interface CycleOptions {
  /** The truth, or how to simulate it (saved as OUT/truth.npy + truth.json). */
  truth: Truth | SimulatedTruth;
  /** Methods to run. */
  methods: CycleMethod[];
  /** Observation operator. */
  operator: ObservationOperator;
  /** Random mask ratio (one of ratio / stride). */
  ratio?: number;
  /** Uniform stride (one of ratio / stride). */
  stride?: number;
  /** Observe every `interval` days (default 1). */
  interval?: number;
  /** σo (default 0.1). */
  sigmaObs?: number;
  /** Days verified (default: the truth's frames). */
  days?: number;
  /** Seed of the observations and the samplers (default 0). */
  seed?: number;
  /** Normalisation of the observed grid (the priors'). */
  normalisation: Normalisation;
  /** SOAD/SDA: their window assimilators (required when the method is selected). */
  assimilators?: Partial<Record<"soad" | "sda", WindowAssimilator>>;
  /** SOAD/SDA: samples per window (default 4). */
  samples?: number;
  /** SOAD/SDA: sampler steps per window (for the progress bar and the summary; default 32). */
  steps?: number;
  /** SOAD: σb of the carried background, "auto" (default) or a number. */
  sigmaB?: number | "auto";
  /** SOAD: background of the first window ("none", setting II, or "climatology"). */
  initialBackground?: "none" | "climatology";
  /** LETKF: members N (default 32). */
  members?: number;
  /** LETKF: Gaspari–Cohn half-width in km (weight 0 beyond twice it; default 100). */
  locRadiusKm?: number;
  /** LETKF: multiplicative inflation (default 1.05). */
  inflation?: number;
  /** LETKF: RTPS α (default 0.5). */
  rtps?: number;
  /** LETKF: weight interpolation stride (default 1: every column solved; 2: 4× fewer solves). */
  weightStride?: number;
  /** Days between climatological states (default 25). */
  climatologySpacing?: number;
  /** The climatological states `[members, 2, ny, nx]` to use instead of simulating them (a tuning sweep reuses one set). */
  climatology?: Float64Array;
  /** Warm-up of the climatology run (default: the demo preset's 1095 days). */
  warmupDays?: number;
  /** Forecast Workers (default 2; 0 = this thread). */
  workers?: number;
  /** Output folder. */
  out: string;
  /** Continue the run in `out`. */
  resume?: boolean;
  /** Replace an existing output. */
  force?: boolean;
  /** Also write every member to the analyses Zarr. */
  saveMembers?: boolean;
  /** More settings that must match on resume (prior file hashes, sampler settings). */
  identity?: Record<string, unknown>;
  /** Progress output (default stderr). */
  progress?: ProgressStream;
}

/** What {@link cycle} returns. */
export interface CycleResult {
  /** The summary written to OUT/summary.json. */
  summary: CycleSummary;
  /** Wall seconds of this call. */
  seconds: number;
}

/**
 * Runs (or resumes) a cycling twin experiment and writes its outputs under `out`.
 *
 * @example
 * ```ts ignore
 * import { cycle } from "@soad/soad";
 * import { arctan3x } from "@soad/soad";
 * const r = await cycle({ truth: { simulate: 32, seed: 0 }, methods: ["letkf", "free"],
 *   operator: arctan3x, ratio: 0.25, normalisation: { offset: [0, 0], std: [8.7e-6, 1.14e-6] },
 *   out: "out/cycle" });
 * console.log(r.summary.methods.letkf.rmse_mean);
 * ```
 */
export async function cycle(o: CycleOptions): Promise<CycleResult> {
  const t0 = performance.now();
  const {
    methods,
    interval,
    seed,
    samples,
    steps,
    N,
    locKm,
    inflation,
    rtps,
    sigmaObs,
    sigmaB,
    init,
    spacing,
    workers,
    identity,
  } = resolveCycleSettings(o);
  const out = o.out;
  await prepareOutputDir(out, {
    force: o.force,
    allowExisting: o.resume ? (entries) => entries.includes("run.json") : undefined,
    hint: "or --resume to continue the cycling run that wrote it",
  });
  const saved = await readJson<Record<string, unknown>>(`${out}/run.json`);
  if (o.resume && !saved) {
    throw new InvalidArgumentError(`--resume: ${out} holds no cycling run (no run.json)`);
  }
  if (saved && o.resume && JSON.stringify(saved) !== JSON.stringify(identity)) {
    const diff = Object.keys(identity).filter((k) =>
      JSON.stringify(saved[k]) !== JSON.stringify((identity as Record<string, unknown>)[k])
    );
    throw new InvalidArgumentError(
      `--resume: the run in ${out} was made with other settings (${diff.join(", ")} differ); ` +
        `resume with the same flags or choose another --out`,
    );
  }
  if (o.force && !o.resume) await Deno.remove(`${out}/state`, { recursive: true }).catch(() => {});
  if (o.resume) await removeStaleTemps(out); // a kill during an atomic write leaves its temp file
  await writeJsonAtomic(`${out}/run.json`, identity);
  const stream = o.progress;

  // the truth
  let truth: Truth;
  if ("simulate" in o.truth) {
    const s = o.truth;
    check(
      Number.isInteger(s.simulate) && s.simulate >= 1,
      `--simulate needs whole days >= 1, got ${s.simulate}`,
    );
    const have = await readF32(`${out}/state/truth.f32`);
    if (have && o.resume) {
      const t = await loadTruth(`${out}/truth.npy`, `${out}/truth.json`);
      truth = { ...t, source: (await readJson<{ source: string }>(`${out}/truth.json`))!.source };
    } else {
      const bar = new Progress({ total: 1000, label: "truth", stream });
      let shown = 0;
      truth = simulateTruth(s.simulate + 1, s.seed, {
        ...s,
        onProgress: (d, t) => {
          const k = Math.floor((1000 * d) / t);
          if (k > shown) bar.tick(k - shown), shown = k;
        },
      });
      bar.done();
      await writeNpy(`${out}/truth.npy`, truth.q, [truth.frames, 2, truth.height, truth.width]);
      await writeJsonAtomic(`${out}/truth.json`, {
        what:
          "simulated truth of deno task cycle: q [1/s], float32 [day, layer, y, x], layer 0 = upper",
        source: truth.source,
        qg_params: truth.qg,
        pool: truth.pool,
      });
      await writeArray(`${out}/state/truth.f32`, new Float32Array(1)); // marker: truth complete
    }
  } else truth = o.truth;
  const days = o.days ?? ("simulate" in o.truth ? o.truth.simulate : truth.frames);
  check(
    Number.isInteger(days) && days >= 1 && days <= truth.frames,
    `--days must be an integer in 1..${truth.frames} (the truth's frames), got ${days}`,
  );
  const { height: H, width: W, qg, pool } = truth, R = H * W, frame = 2 * R;
  const norm = o.normalisation;
  const truthN = new Float32Array(truth.q.length);
  for (let i = 0; i < truthN.length; i++) {
    const c = Math.floor(i / R) % 2;
    truthN[i] = (truth.q[i] - norm.offset[c]) / norm.std[c];
  }
  const obs = drawCycleObservations(truthN, days, H, W, {
    operator: o.operator,
    ratio: o.ratio,
    stride: o.stride,
    interval,
    sigma: sigmaObs,
    seed,
  });

  // climatological states (an independent run), cached
  const needClim = methods.some((m) => m === "letkf" || m === "free" || m === "climatology") ||
    init === "climatology";
  let clim: Float64Array | undefined;
  if (needClim) {
    const file = statePath(out, "climatology", "states.f64");
    clim = o.climatology ?? await readF64(file);
    if (clim && clim.length !== N * 2 * qg.nx * qg.ny) {
      throw new InvalidArgumentError(
        `climatological states must be [${N}, 2, ${qg.ny}, ${qg.nx}], got ${clim.length} values`,
      );
    }
    if (!clim) {
      const bar = new Progress({ total: 1000, label: "climatology run", stream });
      let shown = 0;
      clim = climatologyStates(N, seed, {
        qg,
        warmupDays: o.warmupDays,
        onProgress: (d, t) => {
          const k = Math.floor((1000 * d) / t);
          if (k > shown) bar.tick(k - shown), shown = k;
        },
      }, spacing);
      bar.done();
      await writeArray(file, clim);
    }
  }
  const climPooled = clim ? poolNormalise(clim, qg.ny, qg.nx, pool, norm) : undefined;

  const seconds: Record<string, number> = {};
  const errors: Record<string, string> = {};
  const timed = async (names: string[], run: () => Promise<void>) => {
    const t = performance.now();
    try {
      await run();
    } catch (e) {
      if (e instanceof InvalidArgumentError || !(e instanceof Error)) throw e;
      for (const m of names) errors[m] = `${e.name}: ${e.message}`;
    }
    for (const m of names) {
      const f = statePath(out, m, "seconds.json");
      const before = (await readJson<{ seconds: number }>(f))?.seconds ?? 0;
      seconds[m] = before + (performance.now() - t) / 1000;
      await writeJsonAtomic(f, { seconds: seconds[m] });
    }
  };

  // SOAD and SDA: sliding windows, both chains at once
  const windowed = methods.filter((m): m is "soad" | "sda" => m === "soad" || m === "sda");
  if (windowed.length > 0) {
    const plan = windowPlan(days, truth.frames);
    const bar = new Progress({
      total: plan.length * steps * windowed.length,
      label: windowed.join(" + "),
      stream,
    });
    const initial = init === "climatology" && climPooled
      ? { values: meanOf(climPooled, N, frame), sigma: 1 }
      : undefined;
    await Promise.all(windowed.map((m) =>
      timed([m], () =>
        runWindowCycle({
          method: m,
          plan,
          observations: obs,
          samples,
          height: H,
          width: W,
          sigmaB,
          initialBackground: initial,
          seed,
          assimilate: o.assimilators![m]!,
          out,
          onStep: () => bar.tick(1, m),
          onWindow: (_w, computed) => computed ? undefined : bar.tick(steps, `${m} (resumed)`),
        }))
    ));
    bar.done();
  }
  // the LETKF and the free run
  const forecaster = methods.includes("letkf") || methods.includes("free")
    ? new ForecastPool(qg, workers)
    : undefined;
  try {
    for (const m of ["letkf", "free"] as const) {
      if (!methods.includes(m)) continue;
      const bar = new Progress({ total: days, label: m, stream });
      await timed([m], () =>
        runEnsembleCycle({
          method: m,
          qg,
          pool,
          norm,
          days,
          initial: m === "letkf" ? clim! : meanOf64(clim!, N),
          observations: m === "letkf" ? obs : undefined,
          locRadius: locKm * 1000,
          inflation,
          rtps,
          weightStride: o.weightStride,
          forecaster: forecaster!,
          out,
          onDay: () => bar.tick(),
        }));
      bar.done();
    }
  } finally {
    forecaster?.close();
  }

  const summary = await reportCycle({
    out,
    methods,
    members: (m: string) => (m === "soad" || m === "sda" ? samples : m === "free" ? 1 : N),
    days,
    height: H,
    width: W,
    lengths: [qg.L, qg.W],
    norm,
    truth: truthN,
    truthPhysical: truth.q,
    climatology: climPooled,
    seconds,
    errors,
    saveMembers: o.saveMembers ?? false,
    observations: obs,
    config: {
      operator: o.operator.name,
      mask: o.ratio !== undefined ? `random ${o.ratio}` : `stride ${o.stride}`,
      ratio: o.ratio ?? null,
      stride: o.stride ?? null,
      interval,
      sigma_obs: sigmaObs,
      seed,
      samples,
      steps,
      sigma_b: sigmaB,
      initial_background: init,
      members: N,
      loc_radius_km: locKm,
      inflation,
      rtps,
      climatology_spacing_days: spacing,
      weight_stride: o.weightStride ?? 1,
      ...o.identity,
    },
    truthInfo: {
      source: truth.source,
      frames: truth.frames,
      height: H,
      width: W,
      pool,
      sim_grid: `${qg.ny}x${qg.nx}`,
      normalisation: norm,
    },
  });
  return { summary, seconds: (performance.now() - t0) / 1000 };
}

function meanOf(x: Float32Array, n: number, per: number): Float32Array {
  const m = new Float32Array(per);
  for (let a = 0; a < n; a++) for (let i = 0; i < per; i++) m[i] += x[a * per + i] / n;
  return m;
}

function meanOf64(x: Float64Array, n: number): Float64Array {
  const per = x.length / n, m = new Float64Array(per);
  for (let a = 0; a < n; a++) for (let i = 0; i < per; i++) m[i] += x[a * per + i] / n;
  return m;
}

/** Removes the `.<name>.<random>.tmp` files atomic writes leave behind when killed. */
async function removeStaleTemps(dir: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) await removeStaleTemps(path);
    else if (e.isFile && /^\..+\.tmp$/.test(e.name)) await Deno.remove(path);
  }
}
