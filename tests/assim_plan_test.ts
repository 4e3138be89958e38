// Observation placement (spec §3): with σo → 0, the planned indices of every operator, in every
// augmented layout (full included), read back the observed values from the augmented truth
// z0 = [x, H(x)] that the prior was trained on.
import assert from "node:assert/strict";
import { planObservations } from "../src/assim/plan.ts";
import { augmentedLayout, augmentState, type ModelName } from "../src/obs/layout.ts";
import { randomMask } from "../src/obs/mask.ts";
import { observe } from "../src/obs/observe.ts";
import { Rng } from "../src/rng.ts";

Deno.test("planned observations read back y from the augmented truth in every layout", () => {
  const L = 5, H = 8, W = 8, rng = new Rng(8);
  const truth = Float32Array.from({ length: L * 2 * H * W }, () => 0.8 * rng.normal());
  const models: ModelName[] = ["arctan3x", "sin3x", "vor2vel", "full"];
  for (const model of models) {
    const layout = augmentedLayout(model);
    const z0 = augmentState(truth, L, H, W, layout);
    // observed frames 1 and 3 (not 0: a frame index used as a position would go unnoticed there)
    const obs = layout.entries.map((e, k) =>
      observe(truth, L, H, W, {
        operator: e.operator,
        mask: randomMask(H, W, 0.3, rng),
        frames: k % 2 === 0 ? [1, 3] : [2, 4],
        sigma: 1e-9,
        rng,
      })
    );
    const planned = planObservations(obs, layout, {
      frames: L,
      channels: layout.channels,
      height: H,
      width: W,
    });
    assert.equal(planned.length, layout.entries.length);
    planned.forEach((p, k) => {
      const name = `${model}/${layout.entries[k].operator.name}`;
      assert.equal(p.index.length, obs[k].values.length, name);
      assert.equal(new Set(p.index).size, p.index.length, `${name}: repeated indices`);
      for (let j = 0; j < p.index.length; j++) {
        const i = p.index[j];
        // never a state channel
        assert.ok(Math.floor(i / (H * W)) % layout.channels >= 2, `${name}: index ${i}`);
        assert.ok(
          Math.abs(z0[i] - p.y[j]) <= 1e-5 * Math.max(1, Math.abs(p.y[j])),
          `${name}: z0[${i}] = ${z0[i]} but y[${j}] = ${p.y[j]}`,
        );
      }
    });
  }
});
