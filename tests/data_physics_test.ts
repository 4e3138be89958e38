// A prior fits data by the physics of its training data, not by the configuration's name:
// demo-large (the demo's physics, ten times the windows) fits the demo window; a store made
// with `--preset demo --L 250000` (still named "demo") does not fit a demo prior.
import assert from "node:assert/strict";
import { DATA_PRESETS, resolveDataConfig } from "../src/data/config.ts";
import { dataPhysics, physicsMismatch } from "../src/data/physics.ts";
import { dataMismatches } from "../tasks/assim_cli.ts";
import { checkPriorMetadata } from "../src/diffusion/prior_info.ts";

Deno.test("physics: every QG parameter but dt, the pooling and the snapshot interval", () => {
  const p = dataPhysics(DATA_PRESETS.demo);
  assert.equal(p.L, 1e6);
  assert.equal(p.rd, 15000);
  assert.equal(p.nx, 128);
  assert.equal(p.pool, 2);
  assert.equal(p.every, 1);
  assert.ok(!("dt" in p), "dt is numerics");
  assert.deepEqual(dataPhysics(resolveDataConfig("demo", { qg: { dt: 900 } })), p);
  assert.notDeepEqual(dataPhysics(resolveDataConfig("demo", { qg: { L: 250000 } })), p);
});

Deno.test("physics: demo-large fits demo; other physics are refused naming the parameters", () => {
  assert.equal(physicsMismatch({ dataset: "demo-large" }, { dataset: "demo" }), undefined);
  assert.equal(
    physicsMismatch({ dataset: "demo" }, { physics: dataPhysics(DATA_PRESETS["demo-large"]) }),
    undefined,
  );
  // the same name, other physics: a demo prior on a 250 km store made from the demo preset
  const fine = resolveDataConfig("demo", { qg: { L: 250000, W: 250000 } });
  const m = physicsMismatch({ dataset: "demo" }, {
    dataset: fine.name,
    physics: dataPhysics(fine),
  });
  assert.match(
    m ?? "",
    /other physics \(data vs prior: L 250000 vs 1000000, W 250000 vs 1000000\)/,
  );
  // a prior that recorded its physics is judged by it, whatever its name says
  assert.match(
    physicsMismatch({ dataset: "demo", physics: dataPhysics(fine) }, { dataset: "demo" }) ?? "",
    /L 1000000 vs 250000/,
  );
  assert.match(physicsMismatch({ dataset: "tiny" }, { dataset: "demo" }) ?? "", /nx 128 vs 32/);
  // names only (user configurations): compared as names
  assert.equal(physicsMismatch({ dataset: "mine" }, { dataset: "mine" }), undefined);
  assert.match(physicsMismatch({ dataset: "mine" }, { dataset: "yours" }) ?? "", /"yours".*"mine"/);
  assert.equal(physicsMismatch({}, { dataset: "demo" }), undefined);
});

Deno.test("physics: the demo CLI's check lets a demo-large prior run on the demo window", () => {
  const trainedFor = {
    method: "soad" as const,
    model: "arctan3x",
    operators: [{ name: "arctan3x", channels: 2 }],
    channels: 4,
    grid: [64, 64] as [number, number],
    frames: 9,
    dataset: "demo-large",
    physics: dataPhysics(DATA_PRESETS["demo-large"]),
  };
  const truth = new Float32Array(9 * 2 * 64 * 64).fill(1);
  const data = { grid: [64, 64] as [number, number], dataset: "demo", truth };
  const norm = { offset: [0, 0], std: [1, 1] };
  assert.deepEqual(dataMismatches(trainedFor, norm, undefined, data), []);
  const fine = dataPhysics(resolveDataConfig("demo", { qg: { L: 250000 } }));
  assert.equal(dataMismatches({ ...trainedFor, physics: fine }, norm, undefined, data).length, 1);
});

Deno.test("physics: metadata with a malformed physics record is refused", () => {
  const m = {
    version: 1,
    trainedFor: { method: "sda", model: "sda", operators: [], channels: 2, frames: 9 },
    normalisation: { offset: [0, 0], std: [1, 1] },
    sampler: { tMax: 1, steps: 8 },
  };
  checkPriorMetadata({ ...m, trainedFor: { ...m.trainedFor, physics: { L: 1 } } });
  for (const physics of [null, [1], { L: "x" }, { L: NaN }]) {
    assert.throws(
      () => checkPriorMetadata({ ...m, trainedFor: { ...m.trainedFor, physics } }),
      /trainedFor.physics must be an object of finite numbers/,
    );
  }
});
