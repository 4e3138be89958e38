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

Deno.test("U-Net weights: a missing, a misshaped or a non-finite tensor is named (cases 6, 9)", async () => {
  const { initUNetWeights, unetConfigFromWeights } = await import(
    "../src/diffusion/unet_config.ts"
  );
  const { createUNet } = await import("../src/diffusion/unet.ts");
  const { selectBackend } = await import("../src/backend/select.ts");
  await selectBackend({ prefer: "cpu", quiet: true });
  const config = { channels: 4, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 };
  const fresh = () => initUNetWeights(config, 1);
  // a missing residual block: named, not "config.blocks[0] must be a positive integer"
  const missing = fresh();
  for (const k of [...missing.keys()]) if (k.startsWith("down.0.rb.0.")) missing.delete(k);
  assert.throws(() => unetConfigFromWeights(missing), /down\.0\.rb\.0\.conv1\.weight is missing/);
  // a weight with swapped axes: the network is still inferred, and only that tensor is blamed
  const swapped = fresh();
  const t = swapped.get("down.1.conv.weight")!;
  swapped.set("down.1.conv.weight", { shape: [t.shape[1], t.shape[0], 3, 3], data: t.data });
  assert.deepEqual(unetConfigFromWeights(swapped).widths, [4, 8]);
  const net = await createUNet(unetConfigFromWeights(swapped, 3));
  try {
    assert.throws(
      () => net.setWeights(swapped),
      (e: Error) =>
        e instanceof InvalidArgumentError &&
        /wrong shape or values: down\.1\.conv\.weight: shape \[4,8,3,3\], expected \[8,4,3,3\]\./
          .test(e.message),
    );
    // a NaN weight is refused by default
    const nan = fresh();
    nan.get("up.0.conv.bias")!.data[1] = NaN;
    assert.throws(
      () => net.setWeights(nan),
      /up\.0\.conv\.bias: value NaN at index 1 is not finite/,
    );
  } finally {
    net.dispose();
  }
});
