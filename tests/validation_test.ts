// Argument validation of the API (issue 18, case 9): typed errors naming what is expected.
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../src/errors.ts";
import { Rng } from "../src/rng.ts";
import { QGModel } from "../src/qg/model.ts";
import { assimilate } from "../src/assim/assimilate.ts";

Deno.test("Rng: seeds outside 32 bits, NaN or fractions are refused, not folded onto 0", () => {
  for (const bad of [NaN, Infinity, 0.5, 2 ** 32, -(2 ** 31) - 1, 1e20]) {
    assert.throws(() => new Rng(bad), InvalidArgumentError, String(bad));
  }
  assert.throws(() => new Rng(NaN), /32-bit integer .* got NaN/);
  // the extremes are valid, and an unsigned seed equals its signed view
  assert.equal(new Rng(2 ** 32 - 1).nextUint32(), new Rng(-1).nextUint32());
  assert.notEqual(new Rng(1).nextUint32(), new Rng(0).nextUint32());
  assert.throws(() => new Rng(0).int(0), InvalidArgumentError);
});

Deno.test("QGModel.setQ(null) and other non-arrays are typed errors", () => {
  const m = new QGModel({ nx: 16, dt: 3600 });
  for (const bad of [null, undefined, 3, "q", {}]) {
    assert.throws(
      () => m.setQ(bad as unknown as Float64Array),
      (e: Error) => e instanceof InvalidArgumentError && /q must be a Float64Array/.test(e.message),
      String(bad),
    );
  }
});

Deno.test("assimilate: sigmaB must be > 0", async () => {
  for (const sigmaB of [0, -1, NaN, Infinity]) {
    await assert.rejects(
      assimilate(
        {
          method: "soad",
          denoiser: { denoise: () => Promise.reject(), denoiseVjp: () => Promise.reject() },
          observations: [],
          sigmaB,
        } as unknown as Parameters<typeof assimilate>[0],
      ),
      (e: Error) =>
        e instanceof InvalidArgumentError && /sigmaB .* must be finite and > 0/.test(e.message),
    );
  }
});
