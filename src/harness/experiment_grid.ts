/**
 * The evaluation grid of spec §6.1 — setting × operators × mask × interval N × seed × method, with
 * test windows and ablation variants — as plain data: mask names, variant names, cell keys and
 * the grid enumeration in a fixed order (the order of the results file).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { NoiseLaw } from "../obs/noise.ts";

/** The paper's operators. */
export const EXPERIMENT_OPS = ["arctan3x", "sin3x", "vor2vel"] as const;
/** An operator of the paper. */
export type ExperimentOp = (typeof EXPERIMENT_OPS)[number];
/** The paper's masks (spec §2.2): random ratio p, uniform stride s. */
export const PAPER_MASKS = ["p1", "p0.25", "p0.0625", "p0.01", "s2", "s4", "s10"] as const;
/** The paper's intervals N. */
export const PAPER_INTERVALS = [1, 2, 4, 8] as const;
/** Settings: I (background on frame 0), II (none), III (several operators at once, none). */
export type Setting = "I" | "II" | "III";
/** Methods. */
export type Method = "soad" | "sda";

/** A parsed mask name. */
export interface MaskSpec {
  /** Canonical name: `p<ratio>` or `s<stride>`. */
  name: string;
  /** Random ratio p (exact count floor(p·H·W)). */
  ratio?: number;
  /** Uniform stride s. */
  stride?: number;
}

/**
 * Parses a mask name: `p<ratio>` with 0 < ratio ≤ 1 (also `p=0.25`) or `s<stride>` with an
 * integer stride ≥ 1 (also `s=4`).
 *
 * @example
 * ```ts
 * import { parseMask } from "@soad/soad/internal";
 * console.log(parseMask("p0.25").ratio, parseMask("s=10").stride); // 0.25 10
 * ```
 */
export function parseMask(name: string): MaskSpec {
  const m = /^([ps])=?([0-9]*\.?[0-9]+(?:e-?[0-9]+)?)$/.exec(String(name).trim());
  const v = m ? Number(m[2]) : NaN;
  if (m && m[1] === "p" && v > 0 && v <= 1) return { name: `p${v}`, ratio: v };
  if (m && m[1] === "s" && Number.isInteger(v) && v >= 1) return { name: `s${v}`, stride: v };
  throw new InvalidArgumentError(
    `unknown mask "${name}"; expected p<ratio> with 0 < ratio ≤ 1 (e.g. p0.25) or s<stride> ` +
      `with an integer stride ≥ 1 (e.g. s4); the paper's: ${PAPER_MASKS.join(", ")}`,
  );
}

/** An ablation / robustness variant of a cell. */
export interface VariantSpec {
  /**
   * Canonical name: `base`, `unknown-bg`, `no-fdc`, `jacobian-free`, `noise-laplace`,
   * `noise-uniform`, `noise-lognormal<s>`.
   */
  name: string;
  /** Observation noise law (Gaussian unless a noise variant). */
  noise: NoiseLaw;
  /** Setting I uses the unknown (QG forecast) background on a 10-frame chunk. */
  unknownBackground: boolean;
  /** SOAD without the forward-diffusion corrector (which also drops the background, spec §6.1). */
  noFdc: boolean;
  /** SOAD with ∂ε̂/∂z treated as zero in the likelihood term (no VJP; issue 7's comparison). */
  jacobianFree: boolean;
}

/**
 * Parses a variant name (see {@link VariantSpec.name}).
 *
 * @example
 * ```ts
 * import { parseVariant } from "@soad/soad/internal";
 * console.log(parseVariant("noise-lognormal0.5").noise); // { kind: "lognormal", shape: 0.5 }
 * ```
 */
export function parseVariant(name: string): VariantSpec {
  const base: VariantSpec = {
    name: "base",
    noise: { kind: "gaussian" },
    unknownBackground: false,
    noFdc: false,
    jacobianFree: false,
  };
  const n = String(name).trim();
  if (n === "base") return base;
  if (n === "unknown-bg") return { ...base, name: n, unknownBackground: true };
  if (n === "no-fdc") return { ...base, name: n, noFdc: true };
  if (n === "jacobian-free") return { ...base, name: n, jacobianFree: true };
  if (n === "noise-laplace" || n === "noise-uniform" || n === "noise-gaussian") {
    const kind = n.slice(6) as "laplace" | "uniform" | "gaussian";
    return kind === "gaussian" ? base : { ...base, name: n, noise: { kind } };
  }
  const m = /^noise-lognormal([0-9]*\.?[0-9]+)$/.exec(n);
  if (m && Number(m[1]) > 0) {
    return {
      ...base,
      name: `noise-lognormal${Number(m[1])}`,
      noise: { kind: "lognormal", shape: Number(m[1]) },
    };
  }
  throw new InvalidArgumentError(
    `unknown variant "${name}"; expected base, unknown-bg, no-fdc, jacobian-free, noise-laplace, ` +
      `noise-uniform or noise-lognormal<shape> (e.g. noise-lognormal0.5)`,
  );
}

/**
 * One run of the grid; its result is a pure function of these fields and the run config.
 *
 * @example
 * ```ts
 * import type { ExperimentCell } from "@soad/soad";
 * const cell: ExperimentCell = {
 *   setting: "II", ops: ["vor2vel"], mask: "s4", interval: 2, seed: 0, method: "soad", window: 0, variant: "base",
 * };
 * console.log(cell.mask); // "s4"
 * ```
 */
export interface ExperimentCell {
  /** Setting. */
  setting: Setting;
  /** Operators (one for I/II; all chosen ones for III). */
  ops: ExperimentOp[];
  /** Mask name (canonical). */
  mask: string;
  /** Interval N. */
  interval: number;
  /** Seed (chunk offset, masks, noises, sampler). */
  seed: number;
  /** Method. */
  method: Method;
  /** Test window (index within the store's test split). */
  window: number;
  /** Variant name (canonical). */
  variant: string;
}

/** What to enumerate; every list is used in the order given. */
export interface GridSpec {
  /** Operators (default all three). */
  ops?: readonly ExperimentOp[];
  /** Mask names (default the paper's seven). */
  masks?: readonly string[];
  /** Intervals (default 1, 2, 4, 8). */
  intervals?: readonly number[];
  /** Seeds (default 0..4). */
  seeds?: readonly number[];
  /** Methods (default soad, sda). */
  methods?: readonly Method[];
  /** Settings (default I, II). */
  settings?: readonly Setting[];
  /** Test windows (default [0]: the first test window, as the paper). */
  windows?: readonly number[];
  /** Variants (default ["base"]). */
  variants?: readonly string[];
}

/**
 * A cell's key: a stable, readable identifier used by resume and in the results file.
 *
 * @example
 * ```ts
 * import { cellKey } from "@soad/soad/internal";
 * const k = cellKey({ setting: "I", ops: ["sin3x"], mask: "p0.25", interval: 2, seed: 0, method: "soad", window: 0, variant: "base" });
 * console.log(k); // "I/sin3x/p0.25/N2/seed0/soad/w0/base"
 * ```
 */
export function cellKey(c: ExperimentCell): string {
  return `${c.setting}/${
    c.ops.join("+")
  }/${c.mask}/N${c.interval}/seed${c.seed}/${c.method}/w${c.window}/${c.variant}`;
}

function positiveInts(what: string, xs: readonly number[], min: number): void {
  for (const v of xs) {
    if (!(Number.isInteger(v) && v >= min)) {
      throw new InvalidArgumentError(`${what} must be integers ≥ ${min}, got ${v}`);
    }
  }
}

/**
 * Enumerates the grid in a fixed order: variant, setting, operators, method, mask, N, window,
 * seed (outermost first). Setting III takes all chosen operators at once; `unknown-bg` applies
 * to setting I only and `no-fdc`, `jacobian-free` to SOAD only (other combinations are skipped).
 * SDA does not use the background (spec §5.1) and a cell's draws do not depend on the setting,
 * so SDA's setting-II cells would repeat its setting-I cells exactly: they are skipped when
 * setting I is in the grid (the report says so). Validates every name before returning.
 *
 * @example
 * ```ts
 * import { enumerateGrid } from "@soad/soad";
 * const cells = enumerateGrid({ ops: ["arctan3x"], masks: ["p1", "s4"], intervals: [1, 8], seeds: [0], settings: ["I"] });
 * console.log(cells.length); // 8 (2 masks × 2 N × 2 methods)
 * ```
 */
export function enumerateGrid(spec: GridSpec = {}): ExperimentCell[] {
  const ops = [...(spec.ops ?? EXPERIMENT_OPS)];
  for (const op of ops) {
    if (!(EXPERIMENT_OPS as readonly string[]).includes(op)) {
      throw new InvalidArgumentError(
        `unknown operator "${op}"; expected ${EXPERIMENT_OPS.join(", ")}`,
      );
    }
  }
  const masks = (spec.masks ?? PAPER_MASKS).map((m) => parseMask(m).name);
  const intervals = [...(spec.intervals ?? PAPER_INTERVALS)];
  const seeds = [...(spec.seeds ?? [0, 1, 2, 3, 4])];
  const windows = [...(spec.windows ?? [0])];
  positiveInts("intervals", intervals, 1);
  positiveInts("seeds", seeds, 0);
  positiveInts("windows", windows, 0);
  const methods = [...(spec.methods ?? ["soad", "sda"])];
  for (const m of methods) {
    if (m !== "soad" && m !== "sda") {
      throw new InvalidArgumentError(`unknown method "${m}"; expected soad or sda`);
    }
  }
  const settings = [...(spec.settings ?? ["I", "II"])];
  for (const s of settings) {
    if (s !== "I" && s !== "II" && s !== "III") {
      throw new InvalidArgumentError(`unknown setting "${s}"; expected I, II or III`);
    }
  }
  const variants = (spec.variants ?? ["base"]).map((v) => parseVariant(v));
  for (const list of [ops, masks, intervals, seeds, windows, methods, settings] as unknown[][]) {
    if (list.length === 0) throw new InvalidArgumentError("every grid dimension needs a value");
    if (new Set(list).size !== list.length) {
      throw new InvalidArgumentError(`duplicate values in a grid dimension: ${list.join(", ")}`);
    }
  }
  const cells: ExperimentCell[] = [];
  for (const v of variants) {
    for (const setting of settings) {
      if (v.unknownBackground && setting !== "I") continue;
      const opSets: ExperimentOp[][] = setting === "III" ? [ops] : ops.map((o) => [o]);
      for (const opSet of opSets) {
        for (const method of methods) {
          if ((v.noFdc || v.jacobianFree) && method !== "soad") continue;
          if (method === "sda" && setting === "II" && settings.includes("I")) continue;
          for (const mask of masks) {
            for (const interval of intervals) {
              for (const window of windows) {
                for (const seed of seeds) {
                  cells.push({
                    setting,
                    ops: [...opSet],
                    mask,
                    interval,
                    seed,
                    method,
                    window,
                    variant: v.name,
                  });
                }
              }
            }
          }
        }
      }
    }
  }
  return cells;
}

/**
 * The model (checkpoint) a cell needs: `sda`, `soad-<op>` (settings I/II) or `soad-full` (III).
 *
 * @example
 * ```ts
 * import { modelOf } from "@soad/soad/internal";
 * console.log(modelOf({ setting: "III", ops: ["arctan3x", "sin3x"], method: "soad" })); // "soad-full"
 * ```
 */
export function modelOf(c: Pick<ExperimentCell, "setting" | "ops" | "method">): string {
  if (c.method === "sda") return "sda";
  return c.setting === "III" ? "soad-full" : `soad-${c.ops[0]}`;
}
