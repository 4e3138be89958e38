// SOAD priors for user operators end to end (docs/user-operators.md): a registered operator is
// trained with `deno task train --operator-module … --operator NAME` (Workers import the module),
// shipped with ship-prior (sampler defaults in the metadata), loaded with loadPrior and
// assimilated with SOAD — in the API and with `deno task assimilate --operator-module`.
import assert from "node:assert/strict";
import { runTask } from "./task_helpers.ts";
import { tempDir, tinyStore } from "./experiment_helpers.ts";
import { tanh2x } from "../docs/examples/my_operator.ts";
import { loadPrior, normalise } from "../src/diffusion/prior.ts";
import { assimilate } from "../src/assim/assimilate.ts";
import { selectBackend } from "../src/backend/select.ts";
import { openDatasetStore, readWindow } from "../src/data/store.ts";
import { dataPhysics } from "../src/data/physics.ts";
import { observeStack } from "../src/obs/observe.ts";
import { arctan3x } from "../src/obs/pointwise.ts";
import { getOperator } from "../src/obs/registry.ts";
import { Rng } from "../src/rng.ts";

const MODULE = new URL("../docs/examples/my_operator.ts", import.meta.url).pathname;

Deno.test("user operator: train (2 Workers), ship with sampler defaults, loadPrior, assimilate", async () => {
  const data = await tinyStore();
  const dir = tempDir("soad_userop_");
  const train = await runTask(
    "train.ts",
    ...["--data", data, "--operator-module", MODULE, "--operator", "tanh2x"],
    ...["--widths", "4,8", "--blocks", "1", "--kernel", "3", "--steps", "2", "--batch", "2"],
    ...["--frames", "9", "--valid-every", "1", "--valid-samples", "2", "--workers", "2"],
    ...["--quiet", "--out", `${dir}/run`],
  );
  assert.equal(train.code, 0, train.err);
  const ship = await runTask(
    "ship_prior.ts",
    ...["--run", `${dir}/run`, "--out", `${dir}/prior`, "--t-max", "0.9", "--steps", "3"],
  );
  assert.equal(ship.code, 0, ship.err);
  const card = JSON.parse(await Deno.readTextFile(`${dir}/prior/card.json`));
  assert.deepEqual(card.sampler, { tMax: 0.9, steps: 3 });

  // the API: the module is imported (registered) here too
  assert.equal(getOperator("tanh2x"), tanh2x);
  await selectBackend({ prefer: "cpu", quiet: true });
  const prior = await loadPrior(`${dir}/prior/weights.safetensors`);
  try {
    const store = openDatasetStore(data);
    assert.deepEqual(prior.trainedFor, {
      physics: dataPhysics(store.config), // recorded by training: the fit is judged by physics
      method: "soad",
      model: "tanh2x",
      operators: [{ name: "tanh2x", channels: 2 }],
      channels: 4,
      grid: [16, 16],
      frames: 9,
      dataset: "tiny",
    });
    assert.deepEqual(prior.sampler, { tMax: 0.9, steps: 3 });
    const q = readWindow(store, store.attrs.split.test[0]).subarray(0, 9 * 2 * 256);
    const truth = normalise(q, prior);
    const observations = observeStack(truth, 9, 16, 16, {
      operators: [tanh2x],
      stride: 2,
      interval: 2,
      rng: new Rng(0),
    });
    const steps: number[] = [];
    const r = await assimilate({ prior, observations, truth, onStep: (s) => steps.push(s.t) });
    assert.deepEqual(r.shape, [1, 9, 4, 16, 16]);
    assert.equal(steps.length, 3); // K from the prior
    assert.ok(r.rmseMean!.every(Number.isFinite));
    // the prior has no arctan3x channels: refused, naming both
    const wrong = observeStack(truth, 9, 16, 16, {
      operators: [arctan3x],
      stride: 2,
      rng: new Rng(0),
    });
    await assert.rejects(
      () => assimilate({ prior, observations: wrong }),
      /operator "arctan3x" but the prior was trained for operators tanh2x \(2 ch\)/,
    );
  } finally {
    prior.dispose();
  }

  // the CLI
  const cli = await runTask(
    "assimilate.ts",
    ...["--prior", `${dir}/prior/weights.safetensors`, "--operator-module", MODULE],
    ...["--data", data, "--stride", "2", "--corrections", "1", "--out", `${dir}/assim`],
  );
  assert.equal(cli.code, 0, cli.err);
  assert.match(
    cli.out,
    /tanh2x, stride 2, interval 2, setting I; K = 3 \(prior's default\), t-max 0\.9 \(prior's default\)/,
  );
  const without = await runTask(
    "assimilate.ts",
    ...["--prior", `${dir}/prior/weights.safetensors`, "--data", data, "--out", `${dir}/a2`],
  );
  assert.equal(without.code, 1);
  assert.match(without.err, /unknown operator "tanh2x".*--operator-module/);
});
