/**
 * The settings of a cycling run with their defaults, checked, and the identity a `--resume` must
 * match (every setting that changes the results, and checksums of given inputs).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { CycleOptions } from "./cycle.ts";

/** The methods of a cycling run. */
export type CycleMethod = "soad" | "sda" | "letkf" | "free" | "climatology";
/** Every method, in report order. */
export const CYCLE_METHODS: readonly CycleMethod[] = [
  "soad",
  "sda",
  "letkf",
  "free",
  "climatology",
];

/** Resolved settings of {@link resolveCycleSettings}. */
export interface CycleSettings {
  /** Methods in report order. */
  methods: CycleMethod[];
  /** Observation interval (days). */
  interval: number;
  /** Seed. */
  seed: number;
  /** SOAD/SDA samples. */
  samples: number;
  /** Sampler steps. */
  steps: number;
  /** LETKF members. */
  N: number;
  /** Localisation half-width, km. */
  locKm: number;
  /** Inflation. */
  inflation: number;
  /** RTPS. */
  rtps: number;
  /** σo. */
  sigmaObs: number;
  /** σb of the carried background. */
  sigmaB: number | "auto";
  /** Background of SOAD's first window. */
  init: "none" | "climatology";
  /** Days between climatological states. */
  spacing: number;
  /** Forecast Workers. */
  workers: number;
  /** What run.json records. */
  identity: Record<string, unknown>;
}

/**
 * Throws an {@link InvalidArgumentError} with `msg` unless `ok`.
 *
 * @example
 * ```ts
 * import { check } from "./cycle_settings.ts";
 * check(1 > 0, "never thrown");
 * ```
 */
export function check(ok: boolean, msg: string): void {
  if (!ok) throw new InvalidArgumentError(msg);
}

/**
 * Defaults, checks and the resume identity of {@link CycleOptions}.
 *
 * @example
 * ```ts ignore
 * const { methods, identity } = resolveCycleSettings(options);
 * ```
 */
export function resolveCycleSettings(o: CycleOptions): CycleSettings {
  const methods = CYCLE_METHODS.filter((m) => o.methods.includes(m));
  check(
    o.methods.length > 0 && methods.length === new Set(o.methods).size &&
      o.methods.length === methods.length,
    `--methods must be distinct names from ${CYCLE_METHODS.join(",")}, got ${o.methods.join(",")}`,
  );
  const interval = o.interval ?? 1,
    seed = o.seed ?? 0,
    samples = o.samples ?? 4,
    steps = o.steps ?? 32;
  const N = o.members ?? 32,
    locKm = o.locRadiusKm ?? 100,
    inflation = o.inflation ?? 1.05,
    rtps = o.rtps ?? 0.5;
  const sigmaObs = o.sigmaObs ?? 0.1,
    sigmaB = o.sigmaB ?? "auto",
    init = o.initialBackground ?? "none";
  const spacing = o.climatologySpacing ?? 25, workers = o.workers ?? 2;
  check(
    Number.isInteger(interval) && interval >= 1 && interval <= 8,
    `--interval must be an integer in 1..8 (a window of 9 frames must hold an observation), got ${interval}`,
  );
  check(Number.isInteger(seed) && seed >= 0, `--seed must be an integer >= 0, got ${seed}`);
  check(
    Number.isInteger(samples) && samples >= 1,
    `--samples must be an integer >= 1, got ${samples}`,
  );
  check(Number.isInteger(N) && N >= 2, `--members must be an integer >= 2, got ${N}`);
  check(locKm > 0, `--loc-radius must be > 0 km (or Infinity for none), got ${locKm}`);
  check(
    inflation >= 1 && Number.isFinite(inflation),
    `--inflation must be a finite number >= 1, got ${inflation}`,
  );
  check(rtps >= 0 && rtps <= 1, `--rtps must be in [0, 1], got ${rtps}`);
  check(sigmaObs > 0 && Number.isFinite(sigmaObs), `sigma_o must be > 0, got ${sigmaObs}`);
  check(
    sigmaB === "auto" || (sigmaB > 0 && Number.isFinite(sigmaB)),
    `--sigma-b must be auto or > 0, got ${sigmaB}`,
  );
  check(
    init === "none" || init === "climatology",
    `--initial-background must be none or climatology, got ${init}`,
  );
  check(
    (o.ratio === undefined) !== (o.stride === undefined),
    "give exactly one of --ratio or --stride",
  );
  for (const m of ["soad", "sda"] as const) {
    check(
      !methods.includes(m) || o.assimilators?.[m] !== undefined,
      `method ${m} needs a prior (no assimilator given)`,
    );
  }
  const identity: Record<string, unknown> = {
    kind: "soad-cycle",
    truth: "simulate" in o.truth
      ? { simulate: o.truth.simulate, seed: o.truth.seed, warmupDays: o.truth.warmupDays ?? null }
      : { source: o.truth.source, frames: o.truth.frames, checksum: checksum(o.truth.q) },
    methods,
    operator: o.operator.name,
    ratio: o.ratio ?? null,
    stride: o.stride ?? null,
    interval,
    sigmaObs,
    days: o.days ?? null,
    seed,
    samples,
    steps,
    sigmaB,
    initialBackground: init,
    members: N,
    locRadiusKm: locKm,
    inflation,
    rtps,
    climatologySpacing: spacing,
    warmupDays: o.warmupDays ?? null,
    normalisation: o.normalisation,
    climatology: o.climatology ? checksum(o.climatology) : null,
    weightStride: o.weightStride ?? 1,
    ...o.identity,
  };
  return {
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
  };
}

/**
 * FNV-1a over the bytes of an array (identity of a truth or an initial ensemble on resume).
 *
 * @example
 * ```ts
 * import { checksum } from "./cycle_settings.ts";
 * console.log(checksum(new Float32Array(0))); // "811c9dc5"
 * ```
 */
export function checksum(q: Float32Array | Float64Array): string {
  const b = new Uint8Array(q.buffer, q.byteOffset, q.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}
