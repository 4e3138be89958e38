// One QG time step (AB3 regime, multi-mode state) at nx = 64 … 512, with the SIMD WASM FFT
// and with the TypeScript fallback. Run: deno task bench (or deno bench -A bench/qg_step.bench.ts).
import { QGModel } from "../src/qg/model.ts";
import { icModes } from "../src/qg/initial.ts";

for (const nx of [64, 128, 256, 512]) {
  for (const fft of ["wasm", "ts"] as const) {
    const m = new QGModel({ nx, dt: 900 }, { fft });
    m.setQ(icModes(nx));
    m.step(3);
    Deno.bench({
      name: `qg step nx=${nx} (${fft} fft)`,
      group: `qg step nx=${nx}`,
      baseline: fft === "wasm",
      fn: () => m.step(),
    });
  }
}
