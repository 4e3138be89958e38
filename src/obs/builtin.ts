/**
 * The paper's observation operators by name (spec §2.1), for CLIs and Workers that receive names.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { ObservationOperator } from "./operator.ts";
import { arctan3x, sin3x } from "./pointwise.ts";
import { vor2vel } from "./vor2vel.ts";

/** The built-in operators: `arctan3x`, `sin3x` (amplitude 1.5) and `vor2vel`. */
export const BUILTIN_OPERATORS: Readonly<Record<string, ObservationOperator>> = Object.freeze({
  arctan3x,
  sin3x,
  vor2vel,
});

/**
 * The built-in operator called `name`; throws an `InvalidArgumentError` listing the names otherwise.
 *
 * @example
 * ```ts
 * import { builtinOperator } from "@soad/soad/internal";
 * console.log(builtinOperator("sin3x").outChannels); // 2
 * ```
 */
export function builtinOperator(name: string): ObservationOperator {
  const op = Object.hasOwn(BUILTIN_OPERATORS, name) ? BUILTIN_OPERATORS[name] : undefined;
  if (!op) {
    throw new InvalidArgumentError(
      `unknown operator "${name}"; expected ${Object.keys(BUILTIN_OPERATORS).join(", ")}`,
    );
  }
  return op;
}
