// Slow (deno task test:slow): a 6-year spin-up at nx = 64, dt = 900 s from pyqg's noise IC
// stays finite and reaches pyqg's equilibrium energy level and KE spectrum shape
// (tests/fixtures/qg/spinup64_dt900.json: time means after year 3).
import assert from "node:assert/strict";
import { QGModel } from "../../src/qg/model.ts";
import { icNoise } from "../../src/qg/initial.ts";

const ref = JSON.parse(
  await Deno.readTextFile(
    new URL("../fixtures/qg/spinup64_dt900.json", import.meta.url),
  ),
);

Deno.test("qg spin-up at nx=64 reaches pyqg's equilibrium energy and spectrum", () => {
  const dt = 900, perDay = 86400 / dt, years = 6, every = 10;
  const m = new QGModel({ nx: 64, dt });
  m.setQ(icNoise(64, 64, 0));
  const days: number[] = [], ke: number[] = [];
  let maxCfl = 0;
  const specSum = [new Float64Array(23), new Float64Array(23)];
  let specN = 0;
  for (let day = 0; day <= years * 365; day += every) {
    if (day > 0) m.step(every * perDay);
    const d = m.diagnostics();
    assert.ok(Number.isFinite(d.energy), `non-finite energy at day ${day}`);
    days.push(day);
    ke.push(d.ke);
    maxCfl = Math.max(maxCfl, d.cfl);
    if (day >= 0.8 * years * 365) {
      const s = m.keSpectrum().spectrum;
      for (const layer of [0, 1]) s[layer].forEach((v, i) => (specSum[layer][i] += v));
      specN++;
    }
  }
  const after3 = ke.filter((_, i) => days[i] >= 3 * 365);
  const mean = after3.reduce((a, b) => a + b, 0) / after3.length;
  const refSeries = ref.series.filter((s: { day: number }) => s.day >= 3 * 365);
  const refMean = refSeries.reduce((a: number, s: { ke: number }) => a + s.ke, 0) /
    refSeries.length;
  console.log(
    `KE after year 3: ${mean.toExponential(3)} (pyqg ${
      refMean.toExponential(3)
    }), max CFL ${maxCfl}`,
  );
  assert.ok(Math.abs(mean - refMean) < 0.1 * refMean, `equilibrium KE ${mean} vs pyqg ${refMean}`);
  assert.ok(maxCfl < 0.03, `max CFL ${maxCfl}`);
  // spin-up time: first day at 90 % of the equilibrium mean (pyqg: day ~770)
  const first = days[ke.findIndex((v) => v >= 0.9 * refMean)];
  assert.ok(first > 500 && first < 1100, `reached 90 % of equilibrium KE on day ${first}`);
  // spectrum shape: normalised time-mean spectra agree bin by bin where they carry energy
  for (const layer of [0, 1]) {
    const ours = specSum[layer].map((v) => v / specN);
    const theirs = Float64Array.from(ref.ke_spec_last20pct[layer] as number[]);
    const so = ours.reduce((a, b) => a + b, 0), st = theirs.reduce((a, b) => a + b, 0);
    let peakO = 0, peakT = 0;
    for (let i = 0; i < 23; i++) {
      if (ours[i] > ours[peakO]) peakO = i;
      if (theirs[i] > theirs[peakT]) peakT = i;
      const a = ours[i] / so, b = theirs[i] / st;
      if (b > 0.01) assert.ok(Math.abs(a - b) < 0.35 * b, `layer ${layer} bin ${i}: ${a} vs ${b}`);
    }
    assert.ok(
      Math.abs(peakO - peakT) <= 1,
      `layer ${layer} spectral peak bin ${peakO} vs ${peakT}`,
    );
  }
});
