import assert from "node:assert/strict";
import {
  parseBackgroundLikelihoodFlag,
  parseClipScaleFlag,
  parseSigmaXFlag,
  parseTauFlag,
  samplerPatch,
} from "../tasks/sampler_flags.ts";
import {
  agreedBackgroundLikelihood,
  agreedSamplerDefault,
} from "../src/diffusion/sampler_defaults.ts";
import { guidanceText, guidanceValues, samplerText, samplerValues } from "../tasks/assim_cli.ts";

Deno.test("sampler flags of ship-prior / prior-metadata: t-max, K and tau parsed, bad values refused", () => {
  assert.equal(samplerPatch({}), undefined);
  assert.deepEqual(samplerPatch({ "t-max": "0.85", steps: "64", tau: "0.5" }), {
    tMax: 0.85,
    steps: 64,
    tau: 0.5,
  });
  assert.deepEqual(samplerPatch({ tau: "1" }), { tau: 1 });
  assert.throws(() => samplerPatch({ tau: "0" }), /--tau must be a finite number > 0, got "0"/);
  assert.throws(() => samplerPatch({ tau: " " }), /--tau/);
  assert.throws(() => samplerPatch({ tau: "Infinity" }), /--tau/);
  assert.throws(() => samplerPatch({ "t-max": "1.5" }), /--t-max must be a number in \(0, 1\]/);
  assert.throws(() => samplerPatch({ steps: "2.5" }), /--steps must be an integer/);
});

Deno.test("assimilation CLIs: K, t-max and tau per method from the priors, a flag for all", () => {
  const priors = { SOAD: { tMax: 0.85, steps: 128, tau: 0.5 }, SDA: { tMax: 0.7, steps: 64 } };
  assert.deepEqual(samplerValues("tau", undefined, priors), { SOAD: 0.5, SDA: 0.25 });
  assert.deepEqual(samplerValues("tau", 1, priors), { SOAD: 1, SDA: 1 });
  // each prior keeps its own K and t-max (the SDA baseline must not run with SOAD's)
  assert.deepEqual(samplerValues("steps", undefined, priors), { SOAD: 128, SDA: 64 });
  assert.deepEqual(samplerValues("steps", 16, priors), { SOAD: 16, SDA: 16 });
  assert.deepEqual(samplerValues("tMax", undefined, priors), { SOAD: 0.85, SDA: 0.7 });
  // the spec's where a prior names none
  assert.deepEqual(samplerValues("steps", undefined, { x: {} }), { x: 256 });
  assert.deepEqual(samplerValues("tMax", undefined, { x: {} }), { x: 1 });
  assert.equal(
    samplerText("tau ", { SOAD: 0.5, SDA: 0.5 }, undefined),
    "tau 0.5 (prior's default)",
  );
  assert.equal(samplerText("tau ", { SOAD: 1, SDA: 1 }, 1), "tau 1");
  assert.equal(
    samplerText("tau ", { SOAD: 0.5, SDA: 0.25 }, undefined),
    "tau SOAD 0.5, SDA 0.25 (priors' defaults)",
  );
  assert.equal(
    samplerText("K = ", { SOAD: 128, SDA: 64 }, undefined),
    "K = SOAD 128, SDA 64 (priors' defaults)",
  );
});

Deno.test("--tau: one parser for every task (absent: undefined; not a finite number > 0: refused)", () => {
  assert.equal(parseTauFlag(undefined), undefined);
  assert.equal(parseTauFlag("0.5"), 0.5);
  for (const bad of ["0", "-1", "abc", "", "NaN", "Infinity"]) {
    assert.throws(() => parseTauFlag(bad), /--tau must be a finite number > 0/, bad);
  }
});

Deno.test("--sigma-x, --clip-scale: parsed into the metadata patch; SOAD priors' sigmaX (absent: 1) must agree", () => {
  assert.equal(parseSigmaXFlag(undefined), undefined);
  assert.equal(parseSigmaXFlag("0.03"), 0.03);
  for (const bad of ["0", "-1", "abc", "", "NaN", "Infinity"]) {
    assert.throws(() => parseSigmaXFlag(bad), /--sigma-x must be a finite number > 0/, bad);
  }
  assert.deepEqual(samplerPatch({ "sigma-x": "0.03", tau: "0.5" }), { tau: 0.5, sigmaX: 0.03 });
  const priors = { SOAD: { tMax: 0.85, steps: 128, sigmaX: 0.03 }, SDA: { tMax: 0.85, steps: 64 } };
  assert.deepEqual(samplerValues("sigmaX", undefined, priors), { SOAD: 0.03, SDA: 1 });
  assert.equal(guidanceText({}, priors.SOAD), ", sigma-x 0.03 (prior's default)");
  assert.equal(guidanceText({ sigmaX: 0.5 }, priors.SOAD), ", sigma-x 0.5");
  assert.equal(guidanceText({}, priors.SDA), ""); // the spec's, not named
  const tuned = { ...priors.SOAD, clipScale: 2 };
  assert.equal(
    guidanceText({ sigmaX: 1 }, tuned),
    ", sigma-x 1, clip scale 2 (prior's default)",
  );
  assert.deepEqual(guidanceValues({}, tuned), { sigmaX: 0.03, clipScale: 2 });
  assert.equal(
    guidanceText({}, { tMax: 0.85, steps: 64, clipScale: 4 }, "SDA "),
    ", SDA clip scale 4 (prior's default)",
  );
  assert.deepEqual(guidanceValues({ clipScale: 4 }, priors.SDA), { sigmaX: 1, clipScale: 4 });
  // --clip-scale: the same parser rules and patch key
  assert.equal(parseClipScaleFlag("2"), 2);
  assert.throws(() => parseClipScaleFlag("0"), /--clip-scale must be a finite number > 0/);
  assert.deepEqual(samplerPatch({ "clip-scale": "2" }), { clipScale: 2 });
  assert.equal(agreedSamplerDefault("sigmaX", [["a", priors.SOAD]], "priors'"), 0.03);
  assert.throws(
    () => agreedSamplerDefault("sigmaX", [["a", priors.SOAD], ["b", priors.SDA]], "priors'"),
    /different sigma-x \(a: 0\.03, b: 1\); pass --sigma-x/,
  );
});

Deno.test("--background-likelihood: on / off, absent = the priors', which must agree", () => {
  assert.equal(parseBackgroundLikelihoodFlag(undefined), undefined);
  assert.equal(parseBackgroundLikelihoodFlag("on"), true);
  assert.equal(parseBackgroundLikelihoodFlag("off"), false);
  assert.throws(() => parseBackgroundLikelihoodFlag("true"), /must be on or off, got "true"/);
  assert.equal(parseBackgroundLikelihoodFlag("on", "I"), true);
  assert.equal(parseBackgroundLikelihoodFlag("off", "II"), false);
  assert.throws(() => parseBackgroundLikelihoodFlag("on", "II"), /needs a background/);
  assert.deepEqual(samplerPatch({ "background-likelihood": "on" }), { backgroundLikelihood: true });
  assert.deepEqual(samplerPatch({ "background-likelihood": "off" }), {
    backgroundLikelihood: false,
  });
  const s = (b?: boolean) => ({
    tMax: 0.85,
    steps: 128,
    ...(b === undefined ? {} : { backgroundLikelihood: b }),
  });
  assert.equal(agreedBackgroundLikelihood(undefined, [["a", s(true)], ["b", s(true)]], "x"), true);
  assert.equal(agreedBackgroundLikelihood(undefined, [["a", s()], ["b", s(false)]], "x"), false);
  assert.equal(agreedBackgroundLikelihood(undefined, [], "x"), false);
  assert.throws(
    () => agreedBackgroundLikelihood(undefined, [["a", s(true)], ["b", s()]], "priors'"),
    /priors' metadata disagree on the background likelihood \(a: on, b: off\); pass --background-likelihood/,
  );
  assert.equal(agreedBackgroundLikelihood(false, [["a", s(true)], ["b", s()]], "x"), false);
});
