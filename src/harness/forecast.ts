/**
 * Member forecasts with the QG model: each state restarts the time stepper (`setQ`), so a forecast
 * is a pure function of its initial state (what makes a resumed cycling run byte-identical).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { QGModel } from "../qg/model.ts";
import type { QGParams } from "../qg/params.ts";

const models = new Map<string, QGModel>();

/**
 * Forecasts every state of `states` (`[n, 2, ny, nx]`, float64) by `steps` model steps.
 *
 * @example
 * ```ts
 * import { forecastStates } from "./forecast.ts";
 * import { resolveParams } from "@soad/soad";
 * import { icNoise } from "@soad/soad";
 * const qg = resolveParams({ nx: 32, dt: 7200 });
 * const out = forecastStates(qg, icNoise(32, 32, 0), 12);
 * console.log(out.length); // 2048
 * ```
 */
export function forecastStates(qg: QGParams, states: Float64Array, steps: number): Float64Array {
  const n = 2 * qg.nx * qg.ny;
  if (states.length % n !== 0) {
    throw new InvalidArgumentError(
      `states must be [k, 2, ${qg.ny}, ${qg.nx}], got ${states.length} values`,
    );
  }
  const key = JSON.stringify(qg);
  let model = models.get(key);
  if (!model) {
    model = new QGModel(qg);
    models.set(key, model);
  }
  const out = new Float64Array(states.length);
  for (let k = 0; k < states.length / n; k++) {
    model.setQ(states.subarray(k * n, (k + 1) * n));
    model.step(steps);
    out.set(model.q, k * n);
  }
  return out;
}
