// The shipped arctan3x prior's sampler metadata, as the tests that load it by name expect it.
import type { SamplerDefaults } from "../src/diffusion/sampler_defaults.ts";

/**
 * `models/arctan3x-small`'s sampler defaults, each chosen on the valid split: t-max 0.85, K 128
 * (session 16), the background in the likelihood (17), σx 0.03 and clip scale 8 (18), and K 64 with
 * clip scale 2 where the observations cover less than 12.5 % of the grid (19).
 */
export const ARCTAN3X_SAMPLER: SamplerDefaults = {
  tMax: 0.85,
  steps: 128,
  backgroundLikelihood: true,
  sigmaX: 0.03,
  clipScale: 8,
  sparse: { below: 0.125, steps: 64, clipScale: 2 },
};
