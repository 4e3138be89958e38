/**
 * `deno task prior-metadata --weights F [--t-max T] [--steps K] [--tau X] [--sigma-x X] [--clip-scale X]
 *   [--background-likelihood on|off] [--sparse-sampler below=F,steps=K,... | off]
 *   [--climatology mean1,mean2,std1,std2]
 *   [--note TEXT]` — prints what a prior's weights say about it (trained for, normalisation,
 * sampler defaults) and, with any setting flag, rewrites its `soad_prior` metadata in place
 * (header only: every tensor byte is kept; written atomically). How the shipped priors got their
 * sampler defaults (models/README.md).
 * @module
 */

import { parseArgs } from "node:util";
import { InvalidArgumentError } from "../src/errors.ts";
import { writeFileAtomic } from "../src/io/atomic.ts";
import { samplerPatch } from "./sampler_flags.ts";
import {
  type PriorMetadataPatch,
  readPriorInfo,
  withPriorMetadata,
} from "../src/diffusion/prior_info.ts";

const HELP = `deno task prior-metadata --weights FILE [flags]

Prints a prior's metadata (what it was trained for, normalisation, sampler defaults); with any
of the flags below, rewrites them in FILE (tensors unchanged).

  --weights F        a prior's weights (.safetensors)
  --t-max T          sampler start in (0, 1] (e.g. 0.85 when deno task eps-profile shows the
                     prior is poor at the noisiest times)
  --steps K          default sampler steps K (a positive integer)
  --tau X            default Langevin step scale τ (> 0; absent = the spec's 0.25), e.g. as
                     chosen on the valid split (docs/results.md)
  --sigma-x X        SOAD: σx of the likelihood coefficient (> 0; absent = the spec's 1)
  --clip-scale X     SOAD: κ of the likelihood clip c <= κ/max|grad| (> 0; absent = the spec's 1)
  --background-likelihood on|off
                     SOAD with a background: on = the background also enters the likelihood
                     (as an observation of frame 0 with error σb), off = the FDC only (the spec's
                     code; also what absent means)
  --sparse-sampler S where the observations cover less of the grid than F (the densest
                     operator's observed points over H·W), other sampler defaults:
                     below=F,steps=K,tau=X,sigma-x=X,clip-scale=X (below and at least one more);
                     off removes them
  --climatology LIST mean1,mean2,std1,std2: the training data's per-layer moments of q [1/s]
  --note TEXT        where these defaults come from
`;

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      help: { type: "boolean", short: "h" },
      weights: { type: "string" },
      "t-max": { type: "string" },
      steps: { type: "string" },
      tau: { type: "string" },
      "sigma-x": { type: "string" },
      "clip-scale": { type: "string" },
      "background-likelihood": { type: "string" },
      "sparse-sampler": { type: "string" },
      climatology: { type: "string" },
      note: { type: "string" },
    },
  });
  if (a.help) return console.log(HELP);
  if (!a.weights) throw new InvalidArgumentError("--weights is required (see --help)");
  const patch: PriorMetadataPatch = {};
  const sampler = samplerPatch(a);
  if (sampler) patch.sampler = sampler;
  if (a.climatology !== undefined) {
    const v = a.climatology.split(",").map(Number);
    if (v.length !== 4 || !v.every(Number.isFinite) || !(v[2] > 0 && v[3] > 0)) {
      throw new InvalidArgumentError(
        `--climatology expects mean1,mean2,std1,std2 (4 numbers, std > 0), got "${a.climatology}"`,
      );
    }
    patch.climatology = { mean: [v[0], v[1]], std: [v[2], v[3]] };
  }
  if (a.note !== undefined) patch.note = a.note;
  let bytes: Uint8Array = await Deno.readFile(a.weights);
  if (Object.keys(patch).length > 0) {
    bytes = withPriorMetadata(bytes, patch, a.weights);
    await writeFileAtomic(a.weights, bytes);
    console.log(`rewrote the soad_prior metadata of ${a.weights} (tensors unchanged)`);
  }
  const { weights: _w, metadata: _m, ...info } = readPriorInfo(bytes, a.weights);
  console.log(JSON.stringify(info, null, 2));
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`prior-metadata: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
