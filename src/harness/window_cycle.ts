/**
 * SOAD / SDA cycled over a trajectory with sliding windows of L = 9 frames advancing by L − 1 days:
 * the background of a window's frame 0 is the previous window's analysis of that day (the ensemble
 * mean, σb = the calibrated spread of that analysis, sqrt((1 + 1/S)·mean(spread²)), or a given
 * value); the first window has none (setting II) unless an initial background is given. Each window
 * reports its days up to the next window's start (the last window: to the end), so a day's analysis
 * uses the observations of its whole window (a smoother within the window, a filter across windows).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { Observation } from "../obs/observe.ts";
import { windowObservation } from "./cycle_obs.ts";
import { dayFile, readF32, statePath, writeArray } from "./cycle_store.ts";

/** One window of the plan. */
export interface WindowSpan {
  /** First frame of the window (day). */
  start: number;
  /** First day it reports. */
  first: number;
  /** Last day it reports. */
  last: number;
}

/**
 * Windows of `length` frames advancing by length − 1 over days 0..days−1 of a truth of `frames`
 * frames (the last window is moved back to fit when the trajectory ends).
 *
 * @example
 * ```ts
 * import { windowPlan } from "./window_cycle.ts";
 * console.log(windowPlan(12, 12, 9)); // [ { start: 0, first: 0, last: 7 }, { start: 3, first: 8, last: 11 } ]
 * ```
 */
export function windowPlan(days: number, frames: number, length = 9): WindowSpan[] {
  if (frames < length) {
    throw new InvalidArgumentError(
      `SOAD/SDA windows need a truth of >= ${length} frames, got ${frames}`,
    );
  }
  if (days > frames) {
    throw new InvalidArgumentError(`--days ${days} exceeds the truth's ${frames} frames`);
  }
  const out: WindowSpan[] = [];
  for (let first = 0; first < days; first += length - 1) {
    const start = Math.min(first, frames - length);
    if (start + length - 1 >= days - 1) { // this window reaches the end
      out.push({ start, first, last: days - 1 });
      break;
    }
    out.push({ start, first, last: first + length - 2 });
  }
  return out;
}

/** What one window's assimilation needs. */
export interface WindowRequest {
  /** "soad" or "sda". */
  method: "soad" | "sda";
  /** Observations of the window (frames relative to its start). */
  observations: Observation[];
  /** Background of frame 0, `[2, H, W]` normalised. */
  background?: Float32Array;
  /** σb of the background. */
  sigmaB: number;
  /** Sampler seed. */
  seed: number;
  /** Posterior samples S. */
  samples: number;
  /** Frames L. */
  frames: number;
}

/** Runs one window; resolves with the state channels of the samples `[S, L, 2, H, W]`. */
export type WindowAssimilator = (req: WindowRequest, onStep: () => void) => Promise<Float32Array>;

/** Options of {@link runWindowCycle}. */
export interface WindowCycleOptions {
  /** "soad" or "sda". */
  method: "soad" | "sda";
  /** The window plan. */
  plan: WindowSpan[];
  /** Observations of the trajectory. */
  observations: Observation;
  /** Samples S per window. */
  samples: number;
  /** Grid. */
  height: number;
  /** Grid. */
  width: number;
  /** σb of the carried background: "auto" (calibrated spread; 0.35 for S = 1) or a number. */
  sigmaB: number | "auto";
  /** Background of the first window (normalised `[2, H, W]`) and its σb; none: setting II. */
  initialBackground?: { values: Float32Array; sigma: number };
  /** Base seed. */
  seed: number;
  /** The assimilator. */
  assimilate: WindowAssimilator;
  /** Output folder (state under OUT/state/METHOD). */
  out: string;
  /** Called after each sampler step. */
  onStep?: () => void;
  /** Called after each window (with whether it was computed or loaded). */
  onWindow?: (w: number, computed: boolean) => void;
}

/** σb when the carried analysis has one sample (the demo's measured SOAD RMSE scale). */
export const SIGMA_B_SINGLE_SAMPLE = 0.35;

/**
 * Runs (or resumes) the windows of one method, writing each window's samples and each reported
 * day's members under OUT/state/METHOD.
 *
 * @example
 * ```ts ignore
 * await runWindowCycle({ method: "soad", plan, observations, samples: 4, height: 64, width: 64,
 *   sigmaB: "auto", seed: 0, assimilate, out: "out/cycle" });
 * ```
 */
export async function runWindowCycle(o: WindowCycleOptions): Promise<void> {
  const { method, plan, samples: S, height: H, width: W } = o;
  const frame = 2 * H * W, L = 9;
  let prev: { span: WindowSpan; samples: Float32Array } | undefined;
  for (let w = 0; w < plan.length; w++) {
    const span = plan[w];
    const file = statePath(o.out, method, `window_${String(w).padStart(3, "0")}.f32`);
    let samples = await readF32(file);
    const computed = samples === undefined;
    if (!samples) {
      let background: Float32Array | undefined, sigmaB = 0.1;
      if (prev) {
        const f = span.start - prev.span.start;
        background = new Float32Array(frame);
        const v = new Float64Array(frame);
        for (let s = 0; s < S; s++) {
          const o0 = (s * L + f) * frame;
          for (let i = 0; i < frame; i++) background[i] += prev.samples[o0 + i] / S;
        }
        let ms = 0;
        for (let s = 0; s < S; s++) {
          const o0 = (s * L + f) * frame;
          for (let i = 0; i < frame; i++) v[i] += (prev.samples[o0 + i] - background[i]) ** 2;
        }
        for (let i = 0; i < frame; i++) ms += S > 1 ? v[i] / (S - 1) : 0;
        ms /= frame;
        sigmaB = o.sigmaB !== "auto"
          ? o.sigmaB
          : S > 1
          ? Math.max(Math.sqrt((1 + 1 / S) * ms), 1e-3)
          : SIGMA_B_SINGLE_SAMPLE;
      } else if (o.initialBackground) {
        background = o.initialBackground.values;
        sigmaB = o.initialBackground.sigma;
      }
      const obs = windowObservation(o.observations, span.start, L);
      samples = await o.assimilate({
        method,
        observations: obs ? [obs] : [],
        background: method === "soad" ? background : undefined,
        sigmaB,
        seed: o.seed + 7919 * (w + 1),
        samples: S,
        frames: L,
      }, () => o.onStep?.());
      if (samples.length !== S * L * frame) {
        throw new InvalidArgumentError(
          `${method} window ${w}: the assimilator returned ${samples.length} values, expected ` +
            `[${S}, ${L}, 2, ${H}, ${W}]`,
        );
      }
      for (let d = span.first; d <= span.last; d++) {
        const f = d - span.start, day = new Float32Array(S * frame);
        for (let s = 0; s < S; s++) {
          day.set(samples.subarray((s * L + f) * frame, (s * L + f + 1) * frame), s * frame);
        }
        await writeArray(dayFile(o.out, method, d), day);
      }
      await writeArray(file, samples); // last: a window counts as done only with its days written
    }
    o.onWindow?.(w, computed);
    prev = { span, samples };
  }
}
