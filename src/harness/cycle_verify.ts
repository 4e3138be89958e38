/**
 * Verification of a cycling run, per method and day: RMSE of the ensemble mean (normalised, both
 * layers; physical, per layer), ensemble spread (RMS of the member std), spread–skill ratio, CRPS
 * and a rank histogram accumulated over the run.
 * @module
 */

import { crps, ensembleStats, rankHistogram, spreadSkillRatio } from "../assim/metrics.ts";
import type { Normalisation } from "./cycle_obs.ts";

/** One method's scores. */
export interface MethodScores {
  /** Members (samples) per day. */
  members: number;
  /** RMSE of the mean per day, normalised units. */
  rmse: number[];
  /** RMSE of the mean per day and layer, 1/s. */
  rmse_physical: [number, number][];
  /** Ensemble spread per day (sqrt of the mean member variance), normalised. */
  spread: number[];
  /** Spread–skill ratio per day (null with one member). */
  spread_skill: (number | null)[];
  /** CRPS per day, normalised. */
  crps: number[];
  /** Rank histogram over all days and points (members + 1 bins). */
  rank_histogram: number[];
  /** Means over the days. */
  rmse_mean: number;
  /** Mean physical RMSE per layer. */
  rmse_physical_mean: [number, number];
  /** Mean spread. */
  spread_mean: number;
  /** Mean spread–skill ratio (null with one member). */
  spread_skill_mean: number | null;
  /** Mean CRPS. */
  crps_mean: number;
}

/** Running accumulation of {@link MethodScores}. */
export class ScoreAccumulator {
  readonly #s: MethodScores;
  readonly #R: number;
  readonly #norm: Normalisation;

  /**
   * @example
   * ```ts
   * import { ScoreAccumulator } from "./cycle_verify.ts";
   * const acc = new ScoreAccumulator(2, 1, { offset: [0, 0], std: [1, 1] });
   * acc.add(new Float32Array([0, 0, 2, 2]), new Float32Array([1, 1]));
   * console.log(acc.result().rmse); // [0]
   * ```
   */
  constructor(members: number, cells: number, norm: Normalisation) {
    this.#R = cells;
    this.#norm = norm;
    this.#s = {
      members,
      rmse: [],
      rmse_physical: [],
      spread: [],
      spread_skill: [],
      crps: [],
      rank_histogram: new Array<number>(members + 1).fill(0),
      rmse_mean: NaN,
      rmse_physical_mean: [NaN, NaN],
      spread_mean: NaN,
      spread_skill_mean: null,
      crps_mean: NaN,
    };
  }

  /**
   * Scores one day: `members` `[S, 2, H, W]` and `truth` `[2, H, W]`, both normalised.
   *
   * @example
   * ```ts ignore
   * acc.add(dayMembers, truthOfDay);
   * ```
   */
  add(members: Float32Array, truth: Float32Array): void {
    const s = this.#s, S = s.members, R = this.#R;
    const st = ensembleStats(members, S);
    let e = 0, v = 0;
    const layer = [0, 0];
    for (let i = 0; i < truth.length; i++) {
      const d = (st.mean[i] - truth[i]) ** 2;
      e += d;
      layer[Math.floor(i / R)] += d;
      v += st.spread[i] ** 2;
    }
    s.rmse.push(Math.sqrt(e / truth.length));
    s.rmse_physical.push([
      Math.sqrt(layer[0] / R) * this.#norm.std[0],
      Math.sqrt(layer[1] / R) * this.#norm.std[1],
    ]);
    s.spread.push(Math.sqrt(v / truth.length));
    s.spread_skill.push(S >= 2 ? spreadSkillRatio(members, truth, S) : null);
    s.crps.push(crps(members, truth, S));
    rankHistogram(members, truth, S, s.rank_histogram);
  }

  /**
   * The scores with their means over the days.
   *
   * @example
   * ```ts ignore
   * const scores = acc.result();
   * ```
   */
  result(): MethodScores {
    const s = this.#s;
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    s.rmse_mean = mean(s.rmse);
    s.rmse_physical_mean = [
      mean(s.rmse_physical.map((x) => x[0])),
      mean(s.rmse_physical.map((x) => x[1])),
    ];
    s.spread_mean = mean(s.spread);
    s.spread_skill_mean = s.members >= 2 ? mean(s.spread_skill as number[]) : null;
    s.crps_mean = mean(s.crps);
    return s;
  }
}
