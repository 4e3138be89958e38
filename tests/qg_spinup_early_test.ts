// The cheap default companion of tests/slow/qg_spinup_test.ts: the first 150 days of the same
// 64² spin-up (pyqg's noise IC, dt = 900 s, 14 400 steps) follow pyqg's own run trajectory by
// trajectory: every 10-day diagnostic of tests/fixtures/qg/spinup64_dt900.json agrees to 1e-9
// relative (measured: ~3e-15 up to day 600). The slow test checks the equilibrium statistics.
import assert from "node:assert/strict";
import { QGModel } from "../src/qg/model.ts";
import { icNoise } from "../src/qg/initial.ts";

interface Row {
  day: number;
  ke: number;
  ape: number;
  energy: number;
  cfl: number;
  ke_layer: number[];
  ens_layer: number[];
}

const ref = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/qg/spinup64_dt900.json", import.meta.url)),
);

Deno.test("qg spin-up, first 150 days: every 10-day diagnostic equals pyqg's run", () => {
  assert.equal(ref.nx, 64);
  assert.equal(ref.dt, 900);
  assert.equal(ref.every_days, 10);
  const m = new QGModel({ nx: 64, dt: 900 });
  m.setQ(icNoise(64, 64, 0));
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
  const series = ref.series as Row[];
  for (let k = 0; k <= 15; k++) {
    if (k > 0) m.step(10 * 96);
    const d = m.diagnostics(), r = series[k];
    assert.equal(r.day, 10 * k);
    for (
      const [name, a, b] of [
        ["ke", d.ke, r.ke],
        ["ape", d.ape, r.ape],
        ["energy", d.energy, r.energy],
        ["cfl", d.cfl, r.cfl],
        ["ke upper", d.ke_layer[0], r.ke_layer[0]],
        ["ke lower", d.ke_layer[1], r.ke_layer[1]],
        ["enstrophy upper", d.ens_layer[0], r.ens_layer[0]],
      ] as const
    ) {
      assert.ok(rel(a, b) < 1e-9, `day ${r.day} ${name}: ${a} vs pyqg ${b}`);
    }
  }
  // the run left the initial decay: KE grows again by day 150 (baroclinic instability)
  assert.ok(series[15].ke > series[5].ke, "KE grows between day 50 and day 150");
});
