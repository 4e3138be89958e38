// Priors of the same physics from different stores (demo, demo-large) differ in their std by a
// few 1e-4 and may be compared (with a note); a real difference is refused naming both.
import assert from "node:assert/strict";
import {
  checkNormalisationsMatch,
  NORMALISATION_TOLERANCE,
  normalisationDifference,
} from "../src/diffusion/normalisation_match.ts";
import { fetchPriorBytes } from "../src/diffusion/prior.ts";
import { readPriorInfo } from "../src/diffusion/prior_info.ts";
import { InvalidArgumentError } from "../src/errors.ts";

const n = (std: number[], offset = [0, 0]) => ({ offset, std });

Deno.test("normalisationDifference: the largest |Δstd|/std and |Δoffset|/std over the layers", () => {
  assert.equal(normalisationDifference(n([1, 2]), n([1, 2])), 0);
  assert.ok(Math.abs(normalisationDifference(n([1, 2]), n([1, 2.1])) - 0.05) < 1e-12);
  assert.ok(Math.abs(normalisationDifference(n([2, 2]), n([2, 2], [0.1, 0])) - 0.05) < 1e-12);
  assert.equal(normalisationDifference(n([1, 0]), n([1, 1])), Infinity);
});

Deno.test("checkNormalisationsMatch: equal → nothing; within 1 % → a note; beyond → refused", () => {
  assert.deepEqual(checkNormalisationsMatch({ a: n([1, 1]), b: n([1, 1]) }), []);
  const notes = checkNormalisationsMatch({ SOAD: n([1, 1]), SDA: n([1.0005, 1]) });
  assert.equal(notes.length, 1);
  assert.match(
    notes[0],
    /SDA prior's normalisation differs from the SOAD prior's by 0\.050 %.*SOAD prior's units/,
  );
  assert.throws(
    () =>
      checkNormalisationsMatch({ SOAD: n([1, 1]), SDA: n([1 + 2 * NORMALISATION_TOLERANCE, 1]) }),
    (e: unknown) =>
      e instanceof InvalidArgumentError && /SOAD and SDA priors .* 2\.00 % apart/.test(e.message),
  );
  // mean removal is a real difference
  assert.throws(
    () => checkNormalisationsMatch({ a: n([1, 1]), b: n([1, 1], [0.5, 0]) }),
    InvalidArgumentError,
  );
});

Deno.test("shipped priors: arctan3x and SDA share demo-large's normalisation; a demo prior is near it", async () => {
  const info = async (name: string) => readPriorInfo((await fetchPriorBytes(name)).bytes, name);
  const soad = await info("arctan3x"), sda = await info("sda"), sin3x = await info("sin3x");
  // the demo's pair (issue 19, session 11): the same store, so the same normalisation, no note
  assert.equal(normalisationDifference(soad.normalisation, sda.normalisation), 0);
  assert.deepEqual(
    checkNormalisationsMatch({ SOAD: soad.normalisation, SDA: sda.normalisation }),
    [],
  );
  // a prior of the demo store (same physics, other trajectories): within 1 %, a note
  const d = normalisationDifference(soad.normalisation, sin3x.normalisation);
  assert.ok(d > 0 && d < 1e-3, `difference ${d}`);
  assert.equal(
    checkNormalisationsMatch({ SOAD: soad.normalisation, other: sin3x.normalisation }).length,
    1,
  );
});
