/**
 * When two priors may be compared on one problem: their normalisations of physical q must agree.
 * Priors trained on different stores of the same physics (`demo`, `demo-large`) differ by a few
 * 1e-4 in their per-layer std; observations are made once, in the first prior's units, so a
 * difference that small changes nothing measurable, while a real one (another flow, mean removal)
 * would make the scores incomparable and is refused.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { Normalisation } from "./prior_info.ts";

/** Largest relative difference two normalisations may have and still be compared (1 %). */
export const NORMALISATION_TOLERANCE = 0.01;

/**
 * The largest relative difference between two normalisations over the layers: |Δstd| / std and
 * |Δoffset| / std.
 *
 * @example
 * ```ts
 * import { normalisationDifference } from "@soad/soad/internal";
 * const d = normalisationDifference({ offset: [0, 0], std: [1, 2] }, { offset: [0, 0], std: [1.01, 2] });
 * console.log(d.toFixed(4)); // 0.0100
 * ```
 */
export function normalisationDifference(a: Normalisation, b: Normalisation): number {
  let d = 0;
  const n = Math.max(a.std.length, b.std.length);
  for (let c = 0; c < n; c++) {
    const sa = a.std[c], sb = b.std[c];
    if (!(sa > 0 && sb > 0)) return Infinity;
    const s = Math.min(sa, sb);
    d = Math.max(d, Math.abs(sa - sb) / s, Math.abs((a.offset[c] ?? 0) - (b.offset[c] ?? 0)) / s);
  }
  return d;
}

/**
 * Checks that the priors named in `norms` (label → normalisation) may be scored together: throws
 * an `InvalidArgumentError` naming both and the difference when two differ by more than
 * {@link NORMALISATION_TOLERANCE}; returns notes (for stderr) for differences within it, which say
 * that everything is scored in the first prior's units.
 *
 * @example
 * ```ts
 * import { checkNormalisationsMatch } from "@soad/soad/internal";
 * const notes = checkNormalisationsMatch({
 *   soad: { offset: [0, 0], std: [1, 1] },
 *   sda: { offset: [0, 0], std: [1.0005, 1] },
 * });
 * console.log(notes.length); // 1
 * ```
 */
export function checkNormalisationsMatch(norms: Record<string, Normalisation>): string[] {
  const entries = Object.entries(norms);
  if (entries.length < 2) return [];
  const [firstName, first] = entries[0];
  const notes: string[] = [];
  for (const [name, n] of entries.slice(1)) {
    const d = normalisationDifference(first, n);
    if (d === 0) continue;
    const show = (x: Normalisation) => JSON.stringify({ offset: x.offset, std: x.std });
    if (!(d <= NORMALISATION_TOLERANCE)) {
      throw new InvalidArgumentError(
        `the ${firstName} and ${name} priors were trained with different normalisations ` +
          `(${show(first)} vs ${show(n)}: ${(100 * d).toPrecision(3)} % apart, more than ` +
          `${100 * NORMALISATION_TOLERANCE} %); their scores would not be comparable`,
      );
    }
    notes.push(
      `note: the ${name} prior's normalisation differs from the ${firstName} prior's by ` +
        `${(100 * d).toPrecision(2)} % (within ${100 * NORMALISATION_TOLERANCE} %: the same ` +
        `physics from another store); observations and scores use the ${firstName} prior's units`,
    );
  }
  return notes;
}
