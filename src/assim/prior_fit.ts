/**
 * Whether a prior fits an assimilation: the method, operators (with their channel counts) and
 * grid it was trained for against the ones asked for. `assimilate({ prior })` and the CLIs refuse
 * a mismatch, naming both sides and the override, before any sampling.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { TrainedFor } from "../diffusion/prior_info.ts";

/** What an assimilation asks of a prior. */
export interface PriorFitQuery {
  /** `"soad"` or `"sda"`. */
  method: "soad" | "sda";
  /** The observation operators (name and output channels). */
  operators: { name: string; outChannels: number }[];
  /** Grid height (ny). */
  height: number;
  /** Grid width (nx). */
  width: number;
}

/**
 * The ways a prior trained for `trainedFor` does not fit `query` (empty when it fits): another
 * method, an operator it has no channels for (or other channel counts), or another grid.
 *
 * @example
 * ```ts
 * import { priorMismatches } from "@soad/soad";
 * const t = { method: "soad" as const, model: "arctan3x", operators: [{ name: "arctan3x", channels: 2 }], channels: 4, grid: [64, 64] as [number, number], frames: 9 };
 * console.log(priorMismatches(t, { method: "soad", operators: [{ name: "x2", outChannels: 2 }], height: 64, width: 64 }).length); // 1
 * ```
 */
export function priorMismatches(trainedFor: TrainedFor, query: PriorFitQuery): string[] {
  const out: string[] = [];
  const ops = trainedFor.operators;
  const trained = ops.length ? ops.map((o) => `${o.name} (${o.channels} ch)`).join(" + ") : "none";
  if (query.method !== trainedFor.method) {
    out.push(
      `the prior is a ${trainedFor.method.toUpperCase()} prior (model "${trainedFor.model}", ` +
        `C = ${trainedFor.channels}) but method "${query.method}" was asked for`,
    );
  } else if (query.method === "soad") {
    for (const o of query.operators) {
      const e = ops.find((x) => x.name === o.name);
      if (!e) {
        out.push(
          `the observations use operator "${o.name}" but the prior was trained for operators ` +
            `${trained}: its channels would be read as another operator's`,
        );
      } else if (e.channels !== o.outChannels) {
        out.push(
          `operator "${o.name}" writes ${o.outChannels} channels but the prior was trained with ` +
            `${e.channels} for it`,
        );
      }
    }
  }
  const g = trainedFor.grid;
  if (g && (g[0] !== query.height || g[1] !== query.width)) {
    out.push(
      `the prior was trained on a ${g[0]}x${g[1]} grid but the observations are on ` +
        `${query.height}x${query.width}`,
    );
  }
  return out;
}

/**
 * Throws an `InvalidArgumentError` listing {@link priorMismatches} (and naming `override`, the
 * option or flag that runs anyway) unless there are none.
 *
 * @example
 * ```ts
 * import { checkPriorFit } from "@soad/soad";
 * const t = { method: "sda" as const, model: "sda", operators: [], channels: 2, frames: 9 };
 * checkPriorFit(t, { method: "sda", operators: [], height: 8, width: 8 }, "sda prior"); // fits
 * ```
 */
export function checkPriorFit(
  trainedFor: TrainedFor,
  query: PriorFitQuery,
  what = "prior",
  override = "allowPriorMismatch: true",
): void {
  const m = priorMismatches(trainedFor, query);
  if (m.length) {
    throw new InvalidArgumentError(
      `${what} does not fit this assimilation: ${m.join("; ")}. Use a prior trained for these ` +
        `observations (deno task train --operator …), or pass ${override} to run anyway`,
    );
  }
}
