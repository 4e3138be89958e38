/**
 * The physics of a data configuration — what decides the distribution its windows are drawn
 * from — and the check that a prior's training data and the data it is used on share it. The
 * configuration's *name* is not the identity: `demo-large` has the demo's physics, and a store
 * made with `--preset demo --L 250000` does not.
 * @module
 */

import { DATA_PRESETS, type DataConfig } from "./config.ts";

/**
 * Every QG parameter but the time step (numerics, not physics), the pooling factor and the
 * snapshot interval in days, as plain numbers.
 */
export type DataPhysics = Record<string, number>;

/**
 * The {@link DataPhysics} of a configuration.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { dataPhysics } from "@soad/soad/internal";
 * console.log(dataPhysics(DATA_PRESETS.demo).L, dataPhysics(DATA_PRESETS.demo).pool); // 1000000 2
 * ```
 */
export function dataPhysics(c: Pick<DataConfig, "qg" | "pool" | "every">): DataPhysics {
  const out: DataPhysics = {};
  const qg = c.qg as unknown as Record<string, unknown>;
  for (const k of Object.keys(qg).sort()) {
    if (k !== "dt" && typeof qg[k] === "number") out[k] = qg[k] as number;
  }
  out.pool = c.pool;
  out.every = c.every;
  return out;
}

/** What a prior was trained on, or what data are: a configuration name and/or its physics. */
export interface DataIdentity {
  /** The configuration's name (`demo`, …). */
  dataset?: string;
  /** Its physics (recorded by soad ≥ priors v2; else looked up from a preset's name). */
  physics?: DataPhysics;
}

function physicsOf(d: DataIdentity): DataPhysics | undefined {
  if (d.physics) return d.physics;
  if (d.dataset && Object.hasOwn(DATA_PRESETS, d.dataset)) {
    return dataPhysics(DATA_PRESETS[d.dataset as keyof typeof DATA_PRESETS]);
  }
  return undefined;
}

/**
 * Why a prior trained on `prior` does not fit `data`, or `undefined` when it does (or when too
 * little is known to tell). Compares the physics (recorded, or a preset's by name) when both sides
 * have it, naming the parameters that differ; else the configuration names.
 *
 * @example
 * ```ts
 * import { physicsMismatch } from "@soad/soad/internal";
 * console.log(physicsMismatch({ dataset: "demo-large" }, { dataset: "demo" })); // undefined
 * console.log(physicsMismatch({ dataset: "tiny" }, { dataset: "demo" }) !== undefined); // true
 * ```
 */
export function physicsMismatch(prior: DataIdentity, data: DataIdentity): string | undefined {
  const p = physicsOf(prior), d = physicsOf(data);
  const name = (x: DataIdentity) => x.dataset ? `"${x.dataset}"` : "an unnamed configuration";
  if (p && d) {
    const keys = [...new Set([...Object.keys(p), ...Object.keys(d)])].sort();
    const diff = keys.filter((k) => p[k] !== d[k]).map((k) => `${k} ${d[k]} vs ${p[k]}`);
    if (diff.length === 0) return undefined;
    return `the data are of configuration ${name(data)}, the prior was trained on ${
      name(prior)
    } with other physics (data vs prior: ${diff.join(", ")})`;
  }
  if (prior.dataset && data.dataset && prior.dataset !== data.dataset) {
    return `the data are of configuration "${data.dataset}", the prior was trained on "${prior.dataset}"`;
  }
  return undefined;
}
