/**
 * The Gaspari–Cohn (1999) fifth-order piecewise-rational taper (their eq. 4.10), the usual
 * localisation function of ensemble Kalman filters.
 * @module
 */

/**
 * Gaspari–Cohn weight at r = distance / c (c = half-width): 1 at 0, 5/24 at 1, 0 for r ≥ 2;
 * C² continuous and compactly supported.
 *
 * @example
 * ```ts
 * import { gaspariCohn } from "@soad/soad";
 * console.log(gaspariCohn(0), gaspariCohn(1).toFixed(6), gaspariCohn(2)); // 1 "0.208333" 0
 * ```
 */
export function gaspariCohn(r: number): number {
  const x = Math.abs(r);
  if (x <= 1) {
    return (((-0.25 * x + 0.5) * x + 0.625) * x - 5 / 3) * x * x + 1;
  }
  if (x < 2) {
    return ((((x / 12 - 0.5) * x + 0.625) * x + 5 / 3) * x - 5) * x + 4 - 2 / (3 * x);
  }
  return 0;
}
