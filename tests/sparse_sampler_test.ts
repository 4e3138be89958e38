// A prior's sampler settings for sparse observations (issue 19, session 19): the threshold on the
// observed fraction, the metadata check, assimilate's and the experiment's use of them, the flags.
import assert from "node:assert/strict";
import {
  agreedSparseSampler,
  checkSparseSampler,
  observedFraction,
  samplerForDensity,
} from "../src/diffusion/sparse_sampler.ts";
import {
  checkPriorMetadata,
  readPriorInfo,
  withPriorMetadata,
} from "../src/diffusion/prior_info.ts";
import type { SamplerDefaults } from "../src/diffusion/sampler_defaults.ts";
import { initUNetWeights } from "../src/diffusion/unet_config.ts";
import { writeSafetensors } from "../src/io/safetensors.ts";
import { assimilate, type AssimilationPrior } from "../src/assim/assimilate.ts";
import { augmentedIdentityDenoiser } from "../src/assim/gaussian.ts";
import { randomMask, strideMask } from "../src/obs/mask.ts";
import { arctan3x } from "../src/obs/pointwise.ts";
import { Rng } from "../src/rng.ts";
import { cellSampler, resolveExperimentConfig } from "../src/harness/experiment_config.ts";
import { parseSparseSamplerFlag, samplerPatch } from "../tasks/sampler_flags.ts";
import { sparseText } from "../tasks/assim_cli.ts";

const DENSE: SamplerDefaults = { tMax: 0.85, steps: 128, sigmaX: 0.03, clipScale: 8 };
const WITH_SPARSE: SamplerDefaults = {
  ...DENSE,
  sparse: { below: 0.125, steps: 64, sigmaX: 1, clipScale: 1 },
};

Deno.test("observedFraction: the densest mask's observed points over H·W", () => {
  assert.equal(observedFraction([strideMask(64, 64, 4)]), 0.0625);
  assert.equal(observedFraction([randomMask(64, 64, 0.25, new Rng(0))]), 0.25);
  assert.equal(observedFraction([strideMask(64, 64, 8), strideMask(64, 64, 2)]), 0.25);
  // a background observes all of frame 0: with it no mask is sparse
  assert.equal(observedFraction([strideMask(64, 64, 4)], true), 1);
  assert.throws(() => observedFraction([]), /at least one mask/);
});

Deno.test("samplerForDensity: the sparse settings strictly below the threshold, else the prior's own", () => {
  const sparse = samplerForDensity(WITH_SPARSE, 0.0625);
  assert.deepEqual(sparse, { tMax: 0.85, steps: 64, sigmaX: 1, clipScale: 1 });
  assert.deepEqual(samplerForDensity(WITH_SPARSE, 0.25), DENSE);
  assert.deepEqual(samplerForDensity(WITH_SPARSE, 0.125), DENSE); // at the threshold: dense
  assert.deepEqual(samplerForDensity(DENSE, 0.01), DENSE); // no sparse settings: one for all
  // only the fields the sparse settings name are replaced
  const onlyK = samplerForDensity({ ...DENSE, sparse: { below: 0.5, steps: 32 } }, 0.25);
  assert.deepEqual(onlyK, { ...DENSE, steps: 32 });
});

Deno.test("checkSparseSampler and the prior metadata refuse bad sparse settings, naming the field", () => {
  assert.deepEqual(checkSparseSampler({ below: 0.1, tau: 0.5 }), { below: 0.1, tau: 0.5 });
  assert.throws(() => checkSparseSampler({ below: 0, steps: 64 }), /sampler\.sparse\.below/);
  assert.throws(() => checkSparseSampler({ below: 1.5, steps: 64 }), /in \(0, 1\]/);
  assert.throws(() => checkSparseSampler({ below: 0.1, steps: 6.5 }), /\.steps must be/);
  assert.throws(() => checkSparseSampler({ below: 0.1, sigmaX: -1 }), /\.sigmaX must be/);
  assert.throws(() => checkSparseSampler({ below: 0.1, tMax: 0.5 }), /\.tMax must be absent/);
  assert.throws(() => checkSparseSampler([0.1]), /must be an object/);
  const m = {
    version: 1,
    trainedFor: { method: "sda", model: "sda", operators: [], channels: 2, frames: 9 },
    normalisation: { offset: [0, 0], std: [1, 1] },
    sampler: { tMax: 1, steps: 64, sparse: { below: 0.1, clipScale: 0 } },
  };
  assert.throws(() => checkPriorMetadata(m), /sampler\.sparse\.clipScale must be/);
  const sdaSx = { ...m, sampler: { tMax: 1, steps: 64, sparse: { below: 0.1, sigmaX: 1 } } };
  assert.throws(() => checkPriorMetadata(sdaSx), /sparse\.sigmaX must be absent for an SDA prior/);
  // written by withPriorMetadata, read back, and removed by a patch of undefined ("off")
  const w = initUNetWeights({ channels: 4, widths: [4], blocks: 1, kernel: 3, frames: 9 }, 3);
  const base = writeSafetensors(w, {
    model: "arctan3x",
    normalisation: JSON.stringify({ offset: [0, 0], std: [1, 1] }),
  });
  const tuned = withPriorMetadata(base, { sampler: WITH_SPARSE });
  assert.deepEqual(readPriorInfo(tuned).sampler.sparse, WITH_SPARSE.sparse);
  const off = withPriorMetadata(tuned, samplerPatchOf("off"));
  assert.equal(readPriorInfo(off).sampler.sparse, undefined);
  assert.equal(readPriorInfo(off).sampler.steps, 128);
});

function samplerPatchOf(flag: string): { sampler: Partial<SamplerDefaults> } {
  return { sampler: samplerPatch({ "sparse-sampler": flag })! };
}

Deno.test("--sparse-sampler parses below and the defaults it replaces; off removes; bad input is refused", () => {
  assert.deepEqual(parseSparseSamplerFlag("below=0.125,steps=64,sigma-x=1,clip-scale=1"), {
    below: 0.125,
    steps: 64,
    sigmaX: 1,
    clipScale: 1,
  });
  assert.equal(parseSparseSamplerFlag("off"), undefined);
  assert.throws(() => parseSparseSamplerFlag("below=0.1"), /sets no default to replace/);
  assert.throws(() => parseSparseSamplerFlag("steps=64"), /below must be/);
  assert.throws(() => parseSparseSamplerFlag("below=0.1,K=64"), /expects off or below=F/);
  assert.throws(() => parseSparseSamplerFlag("below=0.1,steps="), /expects off or below=F/);
  assert.throws(() => parseSparseSamplerFlag("below=0.1,steps=6.5"), /steps must be/);
  assert.deepEqual(samplerPatch({ "sparse-sampler": "below=0.2,tau=0.5" }), {
    sparse: { below: 0.2, tau: 0.5 },
  });
});

function prior(sampler: SamplerDefaults): AssimilationPrior {
  return {
    denoiser: augmentedIdentityDenoiser(),
    trainedFor: {
      method: "soad",
      model: "arctan3x",
      operators: [{ name: "arctan3x", channels: 2 }],
      channels: 4,
      grid: [8, 8],
      frames: 1,
    },
    sampler,
  };
}

const obsOn = (stride: number) => [{
  operator: arctan3x,
  mask: strideMask(8, 8, stride),
  frames: [0],
  values: new Float32Array((8 / stride) * (8 / stride) * 2).fill(0.3),
  sigma: 0.1,
}];

Deno.test("assimilate: sparse observations run with the prior's sparse settings, dense ones (or any with a background) with its own; explicit options win", async () => {
  const p = {
    tMax: 0.85,
    steps: 8,
    sparse: { below: 0.2, steps: 4, sigmaX: 0.03, clipScale: 4 },
  };
  const run = (sampler: SamplerDefaults, stride: number, o: Record<string, unknown> = {}) =>
    assimilate({ prior: prior(sampler), observations: obsOn(stride), seed: 3, ...o });
  // stride 4 on 8x8: 4 of 64 points (0.0625 < 0.2) → K 4, σx 0.03, κ 4, as if given explicitly
  const sparse = await run(p, 4);
  assert.equal(sparse.sparseSampler, true);
  const explicit = await run({ tMax: 0.85, steps: 8 }, 4, { steps: 4, sigmaX: 0.03, clipScale: 4 });
  assert.equal(explicit.sparseSampler, false);
  assert.equal(sparse.evaluations, explicit.evaluations);
  assert.deepEqual(sparse.samples, explicit.samples);
  const dense = await run({ tMax: 0.85, steps: 8 }, 4);
  assert.notDeepEqual(sparse.samples, dense.samples);
  assert.ok(sparse.evaluations < dense.evaluations);
  // stride 2: 16 of 64 (0.25, not below 0.2) → the prior's own settings
  const d2 = await run(p, 2);
  assert.equal(d2.sparseSampler, false);
  assert.deepEqual(d2.samples, (await run({ tMax: 0.85, steps: 8 }, 2)).samples);
  // an explicit option wins over the sparse setting too
  const k8 = await run(p, 4, { steps: 8, sigmaX: 1, clipScale: 1 });
  assert.deepEqual(k8.samples, dense.samples);
  assert.equal(k8.sparseSampler, false); // every value they replace was given
  assert.equal((await run(p, 4, { steps: 8 })).sparseSampler, true);
  // with a background (SOAD, setting I) the same mask is not sparse: the prior's own settings
  const background = new Float32Array(2 * 64).fill(0.1);
  const withBg = await run(p, 4, { background });
  assert.equal(withBg.sparseSampler, false);
  assert.deepEqual(
    withBg.samples,
    (await run({ tMax: 0.85, steps: 8 }, 4, { background })).samples,
  );
});

Deno.test("experiment: sparse and sdaSparse are in the identity only when given and pick each cell's settings by its masks", () => {
  assert.equal("sparse" in resolveExperimentConfig({ steps: 128 }), false);
  const c = resolveExperimentConfig({
    steps: 128,
    sigmaX: 0.03,
    clipScale: 8,
    sdaClipScale: 4,
    sparse: { below: 0.125, steps: 64, sigmaX: 1, clipScale: 1 },
    sdaSparse: { below: 0.125, clipScale: 1 },
  });
  assert.deepEqual(c.sparse, { below: 0.125, steps: 64, sigmaX: 1, clipScale: 1 });
  const s4 = [strideMask(64, 64, 4)], p25 = [randomMask(64, 64, 0.25, new Rng(1))];
  const soadSparse = cellSampler(c, "soad", s4);
  assert.deepEqual(
    [soadSparse.steps, soadSparse.sigmaX, soadSparse.clipScale, soadSparse.sdaClipScale],
    [64, 1, 1, 4],
  );
  assert.equal(soadSparse.sparseSampler, true);
  assert.equal(cellSampler(c, "soad", p25), c); // dense: unchanged
  const sdaSparse = cellSampler(c, "sda", s4);
  assert.deepEqual(
    [sdaSparse.steps, sdaSparse.sigmaX, sdaSparse.clipScale, sdaSparse.sdaClipScale],
    [128, 0.03, 8, 1],
  );
  assert.equal(cellSampler(resolveExperimentConfig({ steps: 128 }), "soad", s4).steps, 128);
  assert.throws(
    () => resolveExperimentConfig({ sdaSparse: { below: 0.1, sigmaX: 1 } }),
    /SDA baseline has none/,
  );
  assert.throws(() => resolveExperimentConfig({ sparse: { below: 2, steps: 8 } }), /sparse\.below/);
});

Deno.test("agreedSparseSampler: priors must agree; keys a flag fixes are dropped; nothing left is none", () => {
  const a: [string, SamplerDefaults][] = [["a", WITH_SPARSE], ["b", WITH_SPARSE]];
  assert.deepEqual(agreedSparseSampler(a, "priors'"), WITH_SPARSE.sparse);
  assert.deepEqual(agreedSparseSampler(a, "priors'", ["steps", "sigmaX"]), {
    below: 0.125,
    clipScale: 1,
  });
  assert.equal(agreedSparseSampler(a, "priors'", ["steps", "sigmaX", "clipScale"]), undefined);
  assert.equal(agreedSparseSampler([["a", DENSE]], "priors'"), undefined);
  assert.throws(
    () => agreedSparseSampler([["a", WITH_SPARSE], ["b", DENSE]], "SOAD priors'"),
    /SOAD priors' metadata give different sparse-observation settings \(a: \{.*\}, b: none\); pass --sparse off/,
  );
});

Deno.test("sparseText names the observed fraction and each prior whose sparse settings apply", () => {
  assert.equal(
    sparseText(0.0625, { SOAD: WITH_SPARSE, SDA: DENSE }),
    "; sparse observations (6.25 % of the grid; SOAD's sparse settings below 12.5 %)",
  );
  assert.equal(sparseText(0.25, { SOAD: WITH_SPARSE }), "");
});
