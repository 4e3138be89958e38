// Background priors (spec §2.4) against an independent re-computation: the unknown background is
// de-normalise (std [9.7e-6, 1.19e-6], spec §1.2) → QGModel.setQ → 95 steps of 900 s → normalise,
// with the same perturbation draws; the known background is frame 0 plus N(0, σb²).
import assert from "node:assert/strict";
import { knownBackground, Q_STD, unknownBackground } from "../src/obs/background.ts";
import { icNoise } from "../src/qg/initial.ts";
import { QGModel } from "../src/qg/model.ts";
import { Rng } from "../src/rng.ts";

const STD = [9.7e-6, 1.19e-6];

Deno.test("unknown background = explicit de-normalise → setQ → 95 steps of 900 s → normalise", () => {
  assert.deepEqual([...Q_STD], STD);
  const n = 16, R = n * n;
  const q0 = icNoise(n, n, 3);
  const previous = Float32Array.from(q0, (v, i) => v / STD[Math.floor(i / R)]);
  for (const perturbation of [0, 0.01]) {
    const got = unknownBackground(previous, n, n, { rng: new Rng(5), perturbation });
    const rng = new Rng(5);
    const q = new Float64Array(2 * R);
    for (let c = 0; c < 2; c++) {
      for (let i = 0; i < R; i++) {
        q[c * R + i] = (previous[c * R + i] + perturbation * rng.normal()) * STD[c];
      }
    }
    const model = new QGModel({ nx: n, dt: 900 });
    model.setQ(q);
    model.step(95);
    const out = model.q;
    let err = 0, mag = 0, moved = 0;
    for (let c = 0; c < 2; c++) {
      for (let i = 0; i < R; i++) {
        const want = out[c * R + i] / STD[c];
        err = Math.max(err, Math.abs(got[c * R + i] - want));
        mag = Math.max(mag, Math.abs(want));
        moved = Math.max(moved, Math.abs(want - previous[c * R + i]));
      }
    }
    assert.ok(err <= 1e-6 * mag, `perturbation ${perturbation}: max error ${err} (max ${mag})`);
    // the forecast is a real day of dynamics, not the input
    assert.ok(moved > 1e-3 * mag, `the forecast barely moved (${moved})`);
  }
});

Deno.test("known background: frame 0 plus N(0, σb²)", () => {
  const L = 3, H = 16, W = 16, n = 2 * H * W, rng = new Rng(2);
  const truth = Float32Array.from({ length: L * n }, () => rng.normal());
  for (const sb of [0.1, 0.3]) {
    const xb = knownBackground(truth, L, H, W, new Rng(9), sb);
    assert.equal(xb.length, n);
    let m = 0, v = 0;
    for (let i = 0; i < n; i++) m += xb[i] - truth[i];
    m /= n;
    for (let i = 0; i < n; i++) v += (xb[i] - truth[i] - m) ** 2;
    const sd = Math.sqrt(v / (n - 1));
    assert.ok(Math.abs(m) < 5 * sb / Math.sqrt(n), `σb ${sb}: mean residual ${m}`);
    assert.ok(Math.abs(sd / sb - 1) < 5 / Math.sqrt(2 * n), `σb ${sb}: residual sd ${sd}`);
  }
});
