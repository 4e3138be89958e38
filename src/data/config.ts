/**
 * Configuration of the dataset pipeline (`../shared/spec/SOAD.md` §1): the QG parameters, the
 * warm-up, how many seeds and windows, the snapshot spacing, the spacing of window starts, the
 * average-pooling factor and the train/valid/test split — with the `paper`, `demo`, `demo-large`,
 * `fine` and `tiny` presets and their validation.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { type QGParams, resolveParams } from "../qg/params.ts";
import { stableJson } from "./fs_store.ts";

/** Everything that determines the bytes of a dataset store. */
export interface DataConfig {
  /** Name of the preset it came from (informational; not compared on `--resume`). */
  name: string;
  /** Every QG model parameter (simulation grid `nx`, `ny`, time step `dt`, physics). */
  qg: QGParams;
  /** Days integrated from the noise IC before the first window (whole days, ≥ 0). */
  warmupDays: number;
  /** Number of independent trajectories (noise-IC seeds). */
  seeds: number;
  /** Seed of the first trajectory; trajectory i uses seed `seedOffset + i`. */
  seedOffset: number;
  /** Windows recorded per trajectory. */
  windowsPerSeed: number;
  /** Snapshots per window (the paper: 32). */
  window: number;
  /** Days between snapshots inside a window (the paper: 1). */
  every: number;
  /** Days between the starts of consecutive windows of a trajectory (the paper's code: 99). */
  gap: number;
  /** Average-pooling factor applied to each snapshot (the paper: 2, 512 → 256). */
  pool: number;
  /** Fraction of windows (by global window index) in the training split (the paper: 0.8). */
  trainFraction: number;
  /** Fraction of windows in the validation split (the paper: 0.1); the rest is the test split. */
  validFraction: number;
}

/** Overrides of a preset: any field, with `qg` merged parameter by parameter. */
export type DataConfigOverrides = Partial<Omit<DataConfig, "qg">> & { qg?: Partial<QGParams> };

/** Half-open window-index ranges `[start, end)` of the three splits. */
export interface DataSplit {
  /** Training windows. */
  train: [number, number];
  /** Validation windows. */
  valid: [number, number];
  /** Test windows. */
  test: [number, number];
}

const BASE = { seedOffset: 0, every: 1, trainFraction: 0.8, validFraction: 0.1 };

/**
 * The presets. `paper`: SOAD's own data (nx 512, dt 900 s, 5-year warm-up, 10 seeds × 1000
 * windows × 32 daily snapshots spaced 99 days, pooled 2 → 256²; GPU-class time). `demo`: a
 * CPU-sized version (nx 128, dt 1800 s, 3-year warm-up, 2 seeds × 120 windows × 16 daily
 * snapshots spaced 30 days, pooled 2 → 64²; ≈ 8 min on 2 cores). `demo-large`: the demo's physics,
 * grid and pooling with ten times the windows (seeds 10 and 11 — trajectories the `demo` store
 * does not contain — × 1300 back-to-back 16-day windows: 2080 train, 260 valid, 260 test, the
 * valid and test windows later in time than every training window of seed 11; ≈ 40 min on 2
 * cores). `fine`: the demo's physics (every pyqg parameter, r_d = 15 km) in a 250 km box, so that
 * the pooled 64² pixel is 3.9 km — the paper's pixel, ≈ r_d / 4 — where the demo's is 15.6 km ≈ r_d
 * (nx 128, dt 900 s for the 4× finer grid, 3-year warm-up, seeds 20 and 21 × 120 back-to-back
 * 16-day windows; ≈ 1.3× the demo's model steps). `tiny`: seconds, for tests.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * console.log(DATA_PRESETS.paper.qg.nx, DATA_PRESETS.paper.windowsPerSeed); // 512 1000
 * ```
 */
export const DATA_PRESETS: Readonly<
  Record<"paper" | "demo" | "demo-large" | "fine" | "tiny", Readonly<DataConfig>>
> = Object.freeze({
  paper: Object.freeze({
    ...BASE,
    name: "paper",
    qg: resolveParams({ nx: 512, dt: 900 }),
    warmupDays: 5 * 365,
    seeds: 10,
    windowsPerSeed: 1000,
    window: 32,
    gap: 99,
    pool: 2,
  }),
  demo: Object.freeze({
    ...BASE,
    name: "demo",
    qg: resolveParams({ nx: 128, dt: 1800 }),
    warmupDays: 3 * 365,
    seeds: 2,
    windowsPerSeed: 120,
    window: 16,
    gap: 30,
    pool: 2,
  }),
  "demo-large": Object.freeze({
    ...BASE,
    name: "demo-large",
    qg: resolveParams({ nx: 128, dt: 1800 }),
    warmupDays: 3 * 365,
    seedOffset: 10,
    seeds: 2,
    windowsPerSeed: 1300,
    window: 16,
    gap: 16,
    pool: 2,
  }),
  fine: Object.freeze({
    ...BASE,
    name: "fine",
    qg: resolveParams({ nx: 128, dt: 900, L: 250e3 }),
    warmupDays: 3 * 365,
    seedOffset: 20,
    seeds: 2,
    windowsPerSeed: 120,
    window: 16,
    gap: 16,
    pool: 2,
  }),
  tiny: Object.freeze({
    ...BASE,
    name: "tiny",
    qg: resolveParams({ nx: 32, dt: 7200 }),
    warmupDays: 20,
    seeds: 2,
    windowsPerSeed: 5,
    window: 10,
    gap: 12,
    pool: 2,
  }),
});

/** Names of the presets. */
export type DataPresetName = keyof typeof DATA_PRESETS;

/** Largest trajectory seed (`seedOffset + seeds - 1`): the `seed` array is int32. */
const MAX_SEED = 2 ** 31 - 1;

function intAtLeast(name: string, v: number, min: number): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${v}`);
  }
}

/**
 * Resolves a preset by name and applies overrides, then validates the result: counts are
 * integers > 0, the warm-up a whole number of days ≥ 0, a day a whole number of time steps, the
 * pooling factor divides the grid, a window fits before the next one starts, and the split
 * fractions lie in [0, 1] with train + valid ≤ 1. Throws {@link InvalidArgumentError}.
 *
 * @example
 * ```ts
 * import { resolveDataConfig } from "@soad/soad";
 * const c = resolveDataConfig("tiny", { seeds: 3, qg: { nx: 64 } });
 * console.log(c.seeds, c.qg.nx, c.qg.ny); // 3 64 64
 * ```
 */
export function resolveDataConfig(name: string, overrides: DataConfigOverrides = {}): DataConfig {
  if (!Object.hasOwn(DATA_PRESETS, name)) {
    throw new InvalidArgumentError(
      `unknown preset "${name}"; expected one of ${Object.keys(DATA_PRESETS).join(", ")}`,
    );
  }
  const base = DATA_PRESETS[name as DataPresetName];
  const { qg: qgOver, ...rest } = overrides;
  const qgIn: Partial<QGParams> = { ...base.qg, ...qgOver };
  // ny and W follow nx and L unless given explicitly
  if (qgOver?.nx !== undefined && qgOver.ny === undefined) qgIn.ny = qgOver.nx;
  if (qgOver?.L !== undefined && qgOver.W === undefined) qgIn.W = qgOver.L;
  const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  const config: DataConfig = { ...base, ...given, qg: resolveParams(qgIn) };
  validateDataConfig(config);
  return config;
}

/**
 * Validates a full configuration (see {@link resolveDataConfig}); throws
 * {@link InvalidArgumentError} naming the field.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { validateDataConfig } from "@soad/soad/internal";
 * validateDataConfig(DATA_PRESETS.tiny); // ok
 * try {
 *   validateDataConfig({ ...DATA_PRESETS.tiny, seeds: 0 });
 * } catch (e) {
 *   console.log((e as Error).message); // seeds must be an integer >= 1, got 0
 * }
 * ```
 */
export function validateDataConfig(c: DataConfig): void {
  intAtLeast("seeds", c.seeds, 1);
  intAtLeast("seedOffset", c.seedOffset, 0);
  intAtLeast("windowsPerSeed", c.windowsPerSeed, 1);
  intAtLeast("window", c.window, 1);
  intAtLeast("every", c.every, 1);
  intAtLeast("gap", c.gap, 1);
  intAtLeast("pool", c.pool, 1);
  intAtLeast("warmupDays", c.warmupDays, 0);
  if (c.seedOffset + c.seeds - 1 > MAX_SEED) {
    throw new InvalidArgumentError(
      `seeds are stored as int32: seedOffset + seeds - 1 must be <= ${MAX_SEED}, got ` +
        `${c.seedOffset} + ${c.seeds} - 1 = ${c.seedOffset + c.seeds - 1}`,
    );
  }
  if (typeof c.name !== "string") throw new InvalidArgumentError("name must be a string");
  resolveParams(c.qg);
  const spd = 86400 / c.qg.dt;
  if (!Number.isInteger(spd)) {
    throw new InvalidArgumentError(`dt must divide a day (86400 s) exactly, got ${c.qg.dt}`);
  }
  if (c.qg.nx % c.pool !== 0 || c.qg.ny % c.pool !== 0) {
    throw new InvalidArgumentError(
      `pool must divide nx and ny, got pool ${c.pool} for ${c.qg.ny}x${c.qg.nx}`,
    );
  }
  if ((c.window - 1) * c.every > c.gap) {
    throw new InvalidArgumentError(
      `a window spans ${(c.window - 1) * c.every} days but windows start every gap = ${c.gap} ` +
        `days; need (window - 1) * every <= gap`,
    );
  }
  for (const k of ["trainFraction", "validFraction"] as const) {
    if (!(c[k] >= 0 && c[k] <= 1)) {
      throw new InvalidArgumentError(`${k} must be in [0, 1], got ${c[k]}`);
    }
  }
  if (c.trainFraction + c.validFraction > 1 + 1e-12) {
    throw new InvalidArgumentError(
      `trainFraction + validFraction must be <= 1, got ${c.trainFraction + c.validFraction}`,
    );
  }
}

/**
 * The split by global window index (seed-major): the first `round(trainFraction·N)` windows
 * train, the next `round(validFraction·N)` validate, the rest test.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS, dataSplit } from "@soad/soad";
 * console.log(dataSplit(DATA_PRESETS.paper).train); // [ 0, 8000 ]
 * ```
 */
export function dataSplit(c: DataConfig): DataSplit {
  const n = c.seeds * c.windowsPerSeed;
  const nTrain = Math.min(n, Math.round(c.trainFraction * n));
  const nValid = Math.min(n - nTrain, Math.round(c.validFraction * n));
  return { train: [0, nTrain], valid: [nTrain, nTrain + nValid], test: [nTrain + nValid, n] };
}

/**
 * The canonical identity of a configuration: stable JSON of every field except `name`. Two
 * stores are compatible (for `--resume`, `--shard`) exactly when their keys are equal.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { configKey } from "@soad/soad/internal";
 * console.log(configKey(DATA_PRESETS.tiny) === configKey({ ...DATA_PRESETS.tiny, name: "x" })); // true
 * ```
 */
export function configKey(c: DataConfig): string {
  const { name: _name, ...rest } = c;
  return stableJson(rest);
}

/**
 * Pooled output grid `[ny, nx]` of a configuration.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { outputGrid } from "@soad/soad/internal";
 * console.log(outputGrid(DATA_PRESETS.paper)); // [ 256, 256 ]
 * ```
 */
export function outputGrid(c: DataConfig): [number, number] {
  return [c.qg.ny / c.pool, c.qg.nx / c.pool];
}
