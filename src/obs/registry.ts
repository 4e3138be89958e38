/**
 * The operator registry: observation operators by name — the paper's (`arctan3x`, `sin3x`,
 * `vor2vel`) and the user's (element-wise, linear or any function with a declared channel count,
 * added with {@link registerOperator}). Priors record the names of the operators they were trained
 * for; training, `loadPrior` and `assimilate` look them up here, and the layout of a prior's
 * augmented state is built from them ({@link layoutForOperators}).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { BUILTIN_OPERATORS } from "./builtin.ts";
import { type AugmentedLayout, augmentedLayout, customLayout, type ModelName } from "./layout.ts";
import type { ObservationOperator } from "./operator.ts";

const registry = new Map<string, ObservationOperator>(Object.entries(BUILTIN_OPERATORS));

/** Names of the paper's models (their layouts are fixed, spec §3). */
export const MODEL_NAMES: readonly ModelName[] = ["sda", "arctan3x", "sin3x", "vor2vel", "full"];

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/**
 * Registers a user operator under its `name` so that training (`--operator NAME`), priors and
 * Workers can refer to it. Re-registering the same object is a no-op; another operator under a
 * taken name (or a built-in's or model's name) is refused unless `replace` is set (never for
 * built-ins). Returns the operator.
 *
 * @example
 * ```ts
 * import { getOperator, registerOperator } from "@soad/soad";
 * import { elementwiseOperator } from "@soad/soad";
 * registerOperator(elementwiseOperator({ name: "x2", f: (v) => v * v, df: (v) => 2 * v }));
 * console.log(getOperator("x2").outChannels); // 2
 * ```
 */
export function registerOperator(
  op: ObservationOperator,
  options: { replace?: boolean } = {},
): ObservationOperator {
  if (!op || typeof op.apply !== "function" || typeof op.name !== "string") {
    throw new InvalidArgumentError(
      "registerOperator expects an ObservationOperator (elementwiseOperator, linearOperator or " +
        "functionOperator builds one)",
    );
  }
  if (!NAME_RE.test(op.name)) {
    throw new InvalidArgumentError(
      `operator name "${op.name}" must start with a letter and hold only letters, digits, _ . -`,
    );
  }
  if (op.inChannels !== 2 || !(Number.isInteger(op.outChannels) && op.outChannels >= 1)) {
    throw new InvalidArgumentError(
      `operator "${op.name}" reads ${op.inChannels} channels and writes ${op.outChannels}; a ` +
        `registered operator reads the 2 QG layers and writes a positive integer of channels`,
    );
  }
  const old = registry.get(op.name);
  if (old === op) return op;
  if (Object.hasOwn(BUILTIN_OPERATORS, op.name) || (MODEL_NAMES as string[]).includes(op.name)) {
    throw new InvalidArgumentError(
      `"${op.name}" is a built-in operator or model name; register yours under another name`,
    );
  }
  if (old && !options.replace) {
    throw new InvalidArgumentError(
      `an operator named "${op.name}" is already registered; pick another name or pass ` +
        `{ replace: true }`,
    );
  }
  registry.set(op.name, op);
  return op;
}

/**
 * The registered operator called `name` (built-ins included); throws an `InvalidArgumentError`
 * listing the registered names and how to add one otherwise.
 *
 * @example
 * ```ts
 * import { getOperator } from "@soad/soad";
 * console.log(getOperator("vor2vel").outChannels); // 4
 * ```
 */
export function getOperator(name: string): ObservationOperator {
  const op = registry.get(name);
  if (!op) {
    throw new InvalidArgumentError(
      `unknown operator "${name}"; registered: ${[...registry.keys()].join(", ")} ` +
        `(register yours with registerOperator(), or on the command line with ` +
        `--operator-module ./my_op.ts)`,
    );
  }
  return op;
}

/**
 * Whether an operator called `name` is registered.
 *
 * @example
 * ```ts
 * import { hasOperator } from "@soad/soad";
 * console.log(hasOperator("sin3x"), hasOperator("nope")); // true false
 * ```
 */
export function hasOperator(name: string): boolean {
  return registry.has(name);
}

/**
 * The names of every registered operator, built-ins first.
 *
 * @example
 * ```ts
 * import { registeredOperators } from "@soad/soad";
 * console.log(registeredOperators().slice(0, 3)); // ["arctan3x", "sin3x", "vor2vel"]
 * ```
 */
export function registeredOperators(): string[] {
  return [...registry.keys()];
}

/**
 * The operators (by name) whose outputs a prior's augmented state holds after the 2 state
 * channels: a paper model name gives its fixed list (`sda` → none, `full` → all three);
 * otherwise `model` is a registered operator name, or several joined with `+`.
 *
 * @example
 * ```ts
 * import { modelOperators } from "@soad/soad/internal";
 * console.log(modelOperators("full"), modelOperators("sda")); // ["arctan3x", "sin3x", "vor2vel"] []
 * ```
 */
export function modelOperators(model: string): string[] {
  if ((MODEL_NAMES as string[]).includes(model)) {
    return augmentedLayout(model as ModelName).entries.map((e) => e.operator.name);
  }
  const names = model.split("+").map((s) => s.trim());
  for (const n of names) getOperator(n);
  return names;
}

/**
 * The augmented-state layout of a model or operator list: a paper model name gives its layout;
 * any other name (or `a+b`) is a list of registered operators ({@link modelOperators}).
 *
 * @example
 * ```ts
 * import { modelLayout } from "@soad/soad/internal";
 * console.log(modelLayout("vor2vel").channels, modelLayout("arctan3x+sin3x").channels); // 6 6
 * ```
 */
export function modelLayout(model: string): AugmentedLayout {
  if ((MODEL_NAMES as string[]).includes(model)) return augmentedLayout(model as ModelName);
  return customLayout(modelOperators(model).map(getOperator), model);
}

/**
 * The layout of a prior trained on the state plus the operators named (in that order), the
 * operator objects taken from `given` when one has the name, else from the registry.
 *
 * @example
 * ```ts
 * import { layoutForOperators } from "@soad/soad/internal";
 * console.log(layoutForOperators(["sin3x"]).channels); // 4
 * ```
 */
export function layoutForOperators(
  names: string[],
  given: ObservationOperator[] = [],
  layoutName: string = names.length === 0 ? "sda" : names.join("+"),
): AugmentedLayout {
  const ops = names.map((n) => given.find((o) => o.name === n) ?? getOperator(n));
  return customLayout(ops, layoutName);
}
