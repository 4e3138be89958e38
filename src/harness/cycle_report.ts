/**
 * The end of a cycling run: every method's days scored against the truth, then summary.json,
 * summary.md, the figures and the analyses Zarr written from the state under OUT/state.
 * @module
 */

import type { Observation } from "../obs/observe.ts";
import type { Normalisation } from "./cycle_obs.ts";
import { type CycleSummary, writeAnalyses, writeFigures, writeSummary } from "./cycle_outputs.ts";
import { dayFile, readF32 } from "./cycle_store.ts";
import { type MethodScores, ScoreAccumulator } from "./cycle_verify.ts";

/** Inputs of {@link reportCycle}. */
export interface ReportInputs {
  /** Output folder. */
  out: string;
  /** Methods run, in report order. */
  methods: string[];
  /** Members (samples) of a method's days. */
  members: (method: string) => number;
  /** Days verified. */
  days: number;
  /** Grid rows. */
  height: number;
  /** Grid columns. */
  width: number;
  /** Domain size (x, y) in metres. */
  lengths: [number, number];
  /** Normalisation. */
  norm: Normalisation;
  /** Normalised truth `[≥ days, 2, H, W]`. */
  truth: Float32Array;
  /** The truth, physical q `[≥ days, 2, H, W]`. */
  truthPhysical: Float32Array;
  /** The climatological ensemble `[N, 2, H, W]` (normalised), when run. */
  climatology?: Float32Array;
  /** Wall seconds per method. */
  seconds: Record<string, number>;
  /** Failures per method. */
  errors: Record<string, string>;
  /** Write every member to the Zarr. */
  saveMembers: boolean;
  /** The observations. */
  observations: Observation;
  /** Settings for the summary. */
  config: Record<string, unknown>;
  /** Truth description for the summary. */
  truthInfo: Record<string, unknown>;
}

const NOTES: Record<string, string> = {
  soad:
    "sliding windows of 9 days advancing by 8; a day's analysis uses its whole window's observations",
  sda: "the same windows with the SDA prior (no background)",
  letkf:
    "LETKF with the QG model at the simulation resolution (a filter: observations up to the day)",
  free: "the LETKF's initial ensemble mean forecast without observations",
  climatology: "the LETKF's initial (climatological) ensemble, unchanged",
};

/**
 * Scores every method and writes the outputs; returns the summary.
 *
 * @example
 * ```ts ignore
 * const summary = await reportCycle({ out, methods, members, days, ... });
 * ```
 */
export async function reportCycle(i: ReportInputs): Promise<CycleSummary> {
  const { out, methods, days, norm, errors, seconds } = i;
  const H = i.height,
    W = i.width,
    R = H * W,
    frame = 2 * R,
    truthN = i.truth,
    climPooled = i.climatology;
  const scores: Record<string, MethodScores & { seconds: number; error?: string; note?: string }> =
    {};
  const fields: Record<
    string,
    { mean: Float32Array; spread: Float32Array; members?: Float32Array; count: number }
  > = {};
  for (const m of methods) {
    const S = i.members(m);
    const acc = new ScoreAccumulator(S, R, norm);
    const mean = new Float32Array(days * frame), spread = new Float32Array(days * frame);
    const members = i.saveMembers ? new Float32Array(S * days * frame) : undefined;
    let failed = errors[m];
    for (let d = 0; d < days && !failed; d++) {
      const x = m === "climatology" ? climPooled! : await readF32(dayFile(out, m, d));
      if (!x) {
        failed = `no analysis of day ${d} (the method stopped early)`;
        break;
      }
      acc.add(x, truthN.subarray(d * frame, (d + 1) * frame));
      for (let i = 0; i < frame; i++) {
        let s = 0, v = 0;
        for (let a = 0; a < S; a++) s += x[a * frame + i];
        const mu = s / S;
        for (let a = 0; a < S; a++) v += (x[a * frame + i] - mu) ** 2;
        mean[d * frame + i] = mu;
        spread[d * frame + i] = S > 1 ? Math.sqrt(v / (S - 1)) : 0;
      }
      if (members) {
        for (let a = 0; a < S; a++) {
          members.set(x.subarray(a * frame, (a + 1) * frame), (a * days + d) * frame);
        }
      }
    }
    const r = acc.result();
    scores[m] = {
      ...r,
      seconds: seconds[m] ?? 0,
      ...(failed ? { error: failed } : {}),
      note: NOTES[m],
    };
    if (!failed) fields[m] = { mean, spread, members, count: S };
  }
  const summary: CycleSummary = {
    days,
    observed_days: i.observations.frames,
    config: i.config,
    truth: i.truthInfo,
    methods: scores,
  };
  await writeSummary(out, summary);
  const ok = Object.keys(fields);
  await writeFigures({
    out,
    scores: Object.fromEntries(ok.map((m) => [m, scores[m]])),
    truth: truthN,
    height: H,
    width: W,
    observations: i.observations,
    means: Object.fromEntries(ok.map((m) => [m, fields[m].mean])),
    snapshotDay: Math.floor(days / 2),
  });
  await Deno.remove(`${out}/analyses.zarr`, { recursive: true }).catch(() => {});
  await writeAnalyses({
    path: `${out}/analyses.zarr`,
    days,
    height: H,
    width: W,
    lengthX: i.lengths[0],
    lengthY: i.lengths[1],
    norm,
    truth: i.truthPhysical.slice(0, days * frame),
    methods: fields,
    attrs: {
      title: "soad cycling twin experiment: analyses (ensemble mean and spread) per method and day",
      ...summary.config,
    },
  });
  return summary;
}
