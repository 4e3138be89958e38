/**
 * The cycle's prior reading: the same sources as `loadPrior` (shipped names, folders, paths,
 * URLs), the prior's metadata as the one source of sampler defaults (flags win), and the checks
 * of operator, window length and grid.
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import {
  cycleSampler,
  priorAssimilator,
  readCyclePrior,
} from "../src/harness/prior_assimilator.ts";
import { cycle } from "../src/harness/cycle.ts";
import { loadTruth } from "../src/harness/truth.ts";
import type { WindowAssimilator, WindowRequest } from "../src/harness/window_cycle.ts";
import { observeStack } from "../src/obs/observe.ts";
import { Rng } from "../src/rng.ts";
import { arctan3x } from "../src/obs/pointwise.ts";
import { loadPrior } from "../src/diffusion/prior.ts";
import { readPriorInfo } from "../src/diffusion/prior_info.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { ARCTAN3X_SAMPLER } from "./shipped_sampler.ts";

const models = new URL("../models/", import.meta.url).pathname;

Deno.test("readCyclePrior reads a shipped name, a folder, a path and a URL alike", async () => {
  const byName = await readCyclePrior("arctan3x", "arctan3x", [64, 64]);
  const folder = await readCyclePrior(`${models}arctan3x-small/`, "arctan3x", [64, 64]);
  const file = `${models}arctan3x-small/weights.safetensors`;
  const byPath = await readCyclePrior(file, "arctan3x", [64, 64]);
  const byUrl = await readCyclePrior(pathToFileURL(file).href, "arctan3x", [64, 64]);
  const bytes = await Deno.readFile(file);
  const digest = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  for (const p of [byName, folder, byPath, byUrl]) {
    assert.deepEqual(p.bytes, bytes);
    assert.equal(p.sha256, digest);
    assert.equal(p.trainedFor.model, "arctan3x");
  }
  // the metadata is exactly what loadPrior / readPriorInfo report for the same weights
  const info = readPriorInfo(bytes, "arctan3x");
  assert.deepEqual(byName.sampler, info.sampler);
  assert.deepEqual(byName.normalisation, info.normalisation);
  assert.deepEqual(byName.trainedFor, info.trainedFor);
  const prior = await loadPrior("arctan3x");
  try {
    assert.deepEqual(byName.sampler, prior.sampler);
  } finally {
    prior.dispose();
  }
  // the shipped priors' own sampler defaults (not the old loader's K = 32): t-max 0.85, K 128 and
  // the background in the likelihood for arctan3x (chosen on the valid split, sessions 16 and 17)
  // and K 64 for SDA
  assert.deepEqual(byName.sampler, ARCTAN3X_SAMPLER);
  const sda = await readCyclePrior("sda", "sda", [64, 64]);
  assert.equal(sda.trainedFor.method, "sda");
  assert.equal(sda.sampler.steps, 64);
});

Deno.test("cycleSampler: explicit flags win, else the prior's metadata", () => {
  const prior = { sampler: { tMax: 0.7, steps: 48 } };
  assert.deepEqual(cycleSampler(prior), {
    steps: 48,
    tMax: 0.7,
    corrections: 5,
    sigmaX: 1,
    clipScale: 1,
    backgroundLikelihood: false,
    backend: undefined,
  });
  assert.deepEqual(cycleSampler(prior, { steps: 32, corrections: 0, backend: "cpu" }), {
    steps: 32,
    tMax: 0.7,
    corrections: 0,
    sigmaX: 1,
    clipScale: 1,
    backgroundLikelihood: false,
    backend: "cpu",
  });
  assert.equal(cycleSampler(prior, { steps: 8, tMax: 1 }).tMax, 1);
  // the background likelihood: the flag, else off, even where the metadata says on (a cycle's
  // background is an analysis with an estimated σb; measured worse there)
  assert.equal(cycleSampler(prior).backgroundLikelihood, false);
  const on = { sampler: { ...prior.sampler, backgroundLikelihood: true } };
  assert.equal(cycleSampler(on).backgroundLikelihood, false);
  assert.equal(cycleSampler(prior, { backgroundLikelihood: true }).backgroundLikelihood, true);
  // SOAD's σx and the clip scale: the flags, else the spec's 1, even where the metadata names
  // others (chosen on single windows, not measured in cycling)
  const tuned = { sampler: { ...prior.sampler, sigmaX: 0.03, clipScale: 8 } };
  assert.equal(cycleSampler(tuned).sigmaX, 1);
  assert.equal(cycleSampler(tuned).clipScale, 1);
  assert.equal(cycleSampler(tuned, { sigmaX: 0.5 }).sigmaX, 0.5);
  assert.equal(cycleSampler(tuned, { clipScale: 4 }).clipScale, 4);
  // τ: the flag, else the metadata's (passed to the Worker explicitly); a prior's sparse settings
  // never reach a cycle, whatever the mask (one K and τ for every window)
  const sparse = {
    sampler: { ...prior.sampler, tau: 0.5, sparse: { below: 1, steps: 4, tau: 0.1 } },
  };
  assert.deepEqual(
    [cycleSampler(sparse).steps, cycleSampler(sparse).tau, cycleSampler(prior).tau],
    [48, 0.5, undefined],
  );
  assert.equal(cycleSampler(sparse, { tau: 0.3 }).tau, 0.3);
});

Deno.test("readCyclePrior refuses another operator, another grid and a missing prior", async () => {
  await assert.rejects(
    () => readCyclePrior("arctan3x", "vor2vel", [64, 64]),
    (e: Error) =>
      e instanceof InvalidArgumentError &&
      /trained for soad model "arctan3x", expected soad model "vor2vel"/.test(e.message),
  );
  await assert.rejects(
    () => readCyclePrior("sda", "arctan3x", [64, 64]),
    /trained for sda model "sda", expected soad model "arctan3x"/,
  );
  await assert.rejects(
    () => readCyclePrior("arctan3x", "sda", [64, 64]),
    /expected sda model "sda"/,
  );
  await assert.rejects(
    () => readCyclePrior("full", "arctan3x", [64, 64]),
    /trained for soad model "full"/,
  );
  await assert.rejects(
    () => readCyclePrior("sin3x", "sin3x", [32, 32]),
    /trained on a 64x64 grid \(its metadata\), the truth is 32x32/,
  );
  await assert.rejects(
    () => readCyclePrior(`${models}no-such-prior`, "arctan3x", [64, 64]),
    (e: Error) => e instanceof InvalidArgumentError && /cannot read prior/.test(e.message),
  );
});

Deno.test("cycle() with priorAssimilator(loadPrior(...)): K and t-max from the prior's metadata unless given", async () => {
  const dir = await Deno.makeTempDir();
  const prior = await loadPrior("arctan3x");
  try {
    const truth = await loadTruth(`${models}demo/window.npy`, `${models}demo/window.json`);
    // metadata says K = 3 (a copy of the shipped prior with its sampler defaults changed)
    const cheap = { ...prior, sampler: { tMax: 0.5, steps: 3 } };
    const counted = (inner: WindowAssimilator, calls: number[]): WindowAssimilator => (req, on) => {
      let n = 0;
      return inner(req, () => {
        n++;
        on();
      }).then((r) => {
        calls.push(n);
        return r;
      });
    };
    const fromMeta: number[] = [], fromFlag: number[] = [];
    const run = (name: string, a: WindowAssimilator) =>
      cycle({
        truth,
        methods: ["soad"],
        operator: arctan3x,
        ratio: 0.5,
        days: 9,
        samples: 1,
        normalisation: {
          offset: [prior.normalisation.offset[0], prior.normalisation.offset[1]],
          std: [prior.normalisation.std[0], prior.normalisation.std[1]],
        },
        assimilators: { soad: a },
        out: `${dir}/${name}`,
        progress: { writeSync: (b: Uint8Array) => b.length },
      });
    const r = await run("meta", counted(priorAssimilator(cheap, { corrections: 0 }), fromMeta));
    assert.deepEqual(fromMeta, [3]); // one window of 9 days, the metadata's K
    const rmse = r.summary.methods.soad.rmse;
    assert.equal(rmse.length, 9);
    assert.ok(rmse.every((v) => Number.isFinite(v) && v > 0), `${rmse}`);
    await run("flag", counted(priorAssimilator(cheap, { steps: 2, corrections: 0 }), fromFlag));
    assert.deepEqual(fromFlag, [2]); // the explicit value wins
  } finally {
    prior.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("priorAssimilator: a window's background enters SOAD's likelihood only where the flag says on, not by the metadata", async () => {
  const prior = await loadPrior("arctan3x");
  try {
    const n = 64, R = n * n;
    const truth = Float32Array.from({ length: 9 * 2 * R }, (_, i) => Math.sin(i / 37));
    const observations = observeStack(truth, 9, n, n, {
      operators: [arctan3x],
      ratio: 0.25,
      interval: 2,
      rng: new Rng(3),
    });
    const req: WindowRequest = {
      method: "soad",
      observations,
      background: truth.slice(0, 2 * R),
      sigmaB: 0.1,
      seed: 1,
      samples: 1,
      frames: 9,
    };
    const with_ = (on?: boolean) => ({
      ...prior,
      // as the shipped metadata: σx 0.03 and clip scale 8, which a cycle must not take
      sampler: { tMax: 0.85, steps: 2, backgroundLikelihood: on, sigmaX: 0.03, clipScale: 8 },
    });
    const go = (a: WindowAssimilator, r: WindowRequest = req) => a(r, () => {});
    // the Worker reads the prior's bytes, whose metadata says on (the shipped arctan3x): the
    // cycle's own default, off, must still reach it
    const off = await go(priorAssimilator(with_(false), { corrections: 0 }));
    const byMeta = await go(priorAssimilator(with_(true), { corrections: 0 }));
    const byFlag = await go(
      priorAssimilator(with_(false), { corrections: 0, backgroundLikelihood: true }),
    );
    const flagOff = await go(
      priorAssimilator(with_(true), { corrections: 0, backgroundLikelihood: false }),
    );
    assert.notDeepEqual(byFlag, off);
    assert.deepEqual(byMeta, off);
    assert.deepEqual(flagOff, off);
    // the metadata's σx 0.03 and clip scale 8 do not reach the Worker (the spec's do), the flags do
    const guided = await go(
      priorAssimilator(with_(false), { corrections: 0, sigmaX: 0.03, clipScale: 8 }),
    );
    assert.notDeepEqual(guided, off);
    // a first window has no background: the flag has nothing to act on and is not an error
    const first = await go(
      priorAssimilator(with_(false), { corrections: 0, backgroundLikelihood: true }),
      { ...req, background: undefined },
    );
    assert.equal(first.length, 9 * 2 * R);
  } finally {
    prior.dispose();
  }
});
