/**
 * Worker entry of {@link ForecastPool}: keeps one QG model and forecasts the member states it is
 * sent. Not part of the public API.
 * @module
 */

import { forecastStates } from "./forecast.ts";
import type { ForecastReply, ForecastRequest } from "./forecast_pool.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<ForecastRequest>) => void) | null;
  postMessage: (m: ForecastReply, transfer?: Transferable[]) => void;
};

scope.onmessage = (e: MessageEvent<ForecastRequest>) => {
  const { id, qg, states, steps } = e.data;
  try {
    const out = forecastStates(qg, states, steps);
    scope.postMessage({ id, states: out }, [out.buffer as ArrayBuffer]);
  } catch (err) {
    const er = err instanceof Error ? err : new Error(String(err));
    scope.postMessage({ id, error: `${er.name}: ${er.message}` });
  }
};
