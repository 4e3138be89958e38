/**
 * Parameters of the two-layer QG model, by pyqg's names and with pyqg's defaults
 * (`../shared/spec/QG.md` §1), their validation, and the derived constants.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** Every physical and numerical parameter of pyqg's two-layer `QGModel`. */
export interface QGParams {
  /** Grid points in x; a power of two in 16..1024. Default 64. */
  nx: number;
  /** Grid points in y; a power of two in 16..1024. Default `nx`. */
  ny: number;
  /** Domain length in x [m]. Default 1e6. */
  L: number;
  /** Domain length in y [m]. Default `L`. */
  W: number;
  /** Time step [s]. Default 7200 (pyqg's `Model`); SOAD uses 900. */
  dt: number;
  /** Linear bottom drag on the lower layer [1/s]. Default 5.787e-7. */
  rek: number;
  /** Strength of the exponential spectral filter. Default 23.6. */
  filterfac: number;
  /** Meridional gradient of the Coriolis parameter [1/(m s)]. Default 1.5e-11. */
  beta: number;
  /** Deformation radius [m]. Default 15000. */
  rd: number;
  /** Layer thickness ratio H1/H2. Default 0.25. */
  delta: number;
  /** Upper layer thickness [m]. Default 500. */
  H1: number;
  /** Upper layer background zonal flow [m/s]. Default 0.025. */
  U1: number;
  /** Lower layer background zonal flow [m/s]. Default 0. */
  U2: number;
}

/**
 * pyqg's defaults (`nx` 64, `dt` 7200 s; `ny` and `W` follow `nx` and `L` unless given).
 *
 * @example
 * ```ts
 * import { QG_DEFAULTS } from "@soad/soad";
 * console.log(QG_DEFAULTS.rd); // 15000
 * ```
 */
export const QG_DEFAULTS: Readonly<QGParams> = Object.freeze({
  nx: 64,
  ny: 64,
  L: 1e6,
  W: 1e6,
  dt: 7200,
  rek: 5.787e-7,
  filterfac: 23.6,
  beta: 1.5e-11,
  rd: 15000,
  delta: 0.25,
  H1: 500,
  U1: 0.025,
  U2: 0,
});

/** Quantities derived from the parameters (spec §1). */
export interface QGDerived {
  /** F1 = 1 / (rd² (1 + δ)) [1/m²]. */
  F1: number;
  /** F2 = δ F1 [1/m²]. */
  F2: number;
  /** Background PV gradients [Qy1, Qy2] [1/(m s)]. */
  Qy: [number, number];
  /** Lower layer thickness H2 = H1 / δ [m]. */
  H2: number;
  /** Total depth H = H1 + H2 [m]. */
  H: number;
  /** Layer weights [H1/H, H2/H]. */
  weights: [number, number];
  /** Grid spacing in x [m]. */
  dx: number;
  /** Grid spacing in y [m]. */
  dy: number;
}

const NON_NEGATIVE: (keyof QGParams)[] = ["rek", "filterfac", "beta"];
const POSITIVE: (keyof QGParams)[] = ["L", "W", "dt", "rd", "delta", "H1"];

/**
 * Fills in defaults and validates: grid sizes must be powers of two in 16..1024, every value
 * finite, lengths/time step/thicknesses/rd/δ positive, drag/filter/β non-negative.
 * Throws {@link InvalidArgumentError} naming the parameter and what is expected.
 *
 * @example
 * ```ts
 * import { resolveParams } from "@soad/soad";
 * const p = resolveParams({ nx: 128, dt: 900 });
 * console.log(p.ny, p.W); // 128 1000000
 * ```
 */
export function resolveParams(params: Partial<QGParams> = {}): QGParams {
  for (const [key, value] of Object.entries(params)) {
    if (!(key in QG_DEFAULTS)) {
      throw new InvalidArgumentError(
        `unknown QG parameter "${key}"; expected one of ${Object.keys(QG_DEFAULTS).join(", ")}`,
      );
    }
    if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value))) {
      throw new InvalidArgumentError(`QG parameter ${key} must be a finite number, got ${value}`);
    }
  }
  const nx = params.nx ?? QG_DEFAULTS.nx;
  const L = params.L ?? QG_DEFAULTS.L;
  const p: QGParams = { ...QG_DEFAULTS, ny: nx, W: L };
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) (p as unknown as Record<string, number>)[key] = value;
  }
  for (const key of ["nx", "ny"] as const) {
    const n = p[key];
    if (!Number.isInteger(n) || n < 16 || n > 1024 || (n & (n - 1)) !== 0) {
      throw new InvalidArgumentError(
        `QG parameter ${key} must be a power of two in 16..1024, got ${n}`,
      );
    }
  }
  for (const key of POSITIVE) {
    if (!(p[key] > 0)) {
      throw new InvalidArgumentError(`QG parameter ${key} must be > 0, got ${p[key]}`);
    }
  }
  for (const key of NON_NEGATIVE) {
    if (!(p[key] >= 0)) {
      throw new InvalidArgumentError(`QG parameter ${key} must be >= 0, got ${p[key]}`);
    }
  }
  return p;
}

/**
 * The derived constants of spec §1 (F1, F2, Qy, H2, H, layer weights, grid spacing).
 *
 * @example
 * ```ts
 * import { resolveParams } from "@soad/soad";
 * import { derivedConstants } from "@soad/soad/internal";
 * const d = derivedConstants(resolveParams());
 * console.log(d.F1.toExponential(4)); // 3.5556e-9
 * ```
 */
export function derivedConstants(p: QGParams): QGDerived {
  const F1 = 1 / (p.rd * p.rd * (1 + p.delta));
  const F2 = p.delta * F1;
  const H2 = p.H1 / p.delta;
  const H = p.H1 + H2;
  return {
    F1,
    F2,
    Qy: [p.beta + F1 * (p.U1 - p.U2), p.beta - F2 * (p.U1 - p.U2)],
    H2,
    H,
    weights: [p.H1 / H, H2 / H],
    dx: p.L / p.nx,
    dy: p.W / p.ny,
  };
}
