/**
 * Forecasts of ensemble members in parallel Workers (contiguous chunks of members per Worker); with
 * 0 Workers, in this thread. The result does not depend on the number of Workers.
 * @module
 */

import { InvalidArgumentError, SoadError } from "../errors.ts";
import type { QGParams } from "../qg/params.ts";
import { forecastStates } from "./forecast.ts";

/** A job for a forecast Worker. */
export interface ForecastRequest {
  /** Job id. */
  id: number;
  /** QG parameters. */
  qg: QGParams;
  /** States `[k, 2, ny, nx]`. */
  states: Float64Array;
  /** Model steps. */
  steps: number;
}

/** A forecast Worker's answer. */
export type ForecastReply = { id: number; states: Float64Array } | { id: number; error: string };

/** A pool of forecast Workers. */
export class ForecastPool {
  #workers: Worker[] = [];
  #next = 0;
  #pending = new Map<number, { resolve: (s: Float64Array) => void; reject: (e: Error) => void }>();
  readonly #qg: QGParams;

  /**
   * Starts `workers` Workers (0: forecast in this thread).
   *
   * @example
   * ```ts
   * import { ForecastPool } from "./forecast_pool.ts";
   * import { resolveParams } from "@soad/soad";
   * const pool = new ForecastPool(resolveParams({ nx: 32, dt: 7200 }), 0);
   * const out = await pool.forecast(new Float64Array(2 * 2048), 1);
   * pool.close();
   * console.log(out.length); // 4096
   * ```
   */
  constructor(qg: QGParams, workers: number) {
    if (!(Number.isInteger(workers) && workers >= 0)) {
      throw new InvalidArgumentError(`forecast workers must be an integer >= 0, got ${workers}`);
    }
    this.#qg = qg;
    for (let i = 0; i < workers; i++) {
      const w = new Worker(new URL("./forecast_worker.ts", import.meta.url).href, {
        type: "module",
      });
      w.onmessage = (e: MessageEvent<ForecastReply>) => {
        const p = this.#pending.get(e.data.id);
        if (!p) return;
        this.#pending.delete(e.data.id);
        if ("error" in e.data) p.reject(new SoadError(`forecast worker: ${e.data.error}`));
        else p.resolve(e.data.states);
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        for (const p of this.#pending.values()) {
          p.reject(new SoadError(`forecast worker crashed: ${e.message}`));
        }
        this.#pending.clear();
      };
      this.#workers.push(w);
    }
  }

  /**
   * Forecasts `states` (`[n, 2, ny, nx]`) by `steps` model steps.
   *
   * @example
   * ```ts ignore
   * const next = await pool.forecast(ensemble, 48); // one day at dt = 1800 s
   * ```
   */
  async forecast(states: Float64Array, steps: number): Promise<Float64Array> {
    const per = 2 * this.#qg.nx * this.#qg.ny, n = states.length / per;
    if (this.#workers.length === 0 || n <= 1) return forecastStates(this.#qg, states, steps);
    const k = Math.min(this.#workers.length, n);
    const jobs: Promise<Float64Array>[] = [];
    let start = 0;
    for (let w = 0; w < k; w++) {
      const count = Math.floor(n / k) + (w < n % k ? 1 : 0);
      const chunk = states.slice(start * per, (start + count) * per);
      start += count;
      const id = this.#next++;
      jobs.push(
        new Promise((resolve, reject) => {
          this.#pending.set(id, { resolve, reject });
          this.#workers[w].postMessage({ id, qg: this.#qg, states: chunk, steps }, [
            chunk.buffer as ArrayBuffer,
          ]);
        }),
      );
    }
    const parts = await Promise.all(jobs);
    const out = new Float64Array(states.length);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /**
   * Terminates the Workers.
   *
   * @example
   * ```ts ignore
   * pool.close();
   * ```
   */
  close(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }
}
