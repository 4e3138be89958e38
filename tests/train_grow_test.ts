// Growing a trained U-Net (--init into a wider, deeper, wider-kernel network): same output at the
// start, and copies that training separates.
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { initUNetWeights, type UNetConfig } from "../src/diffusion/unet_config.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import { describeGrowth, growthProblem, growUNetWeights } from "../src/train/grow.ts";
import { LOCAL, tempRun, TINY_SOURCE } from "./train_helpers.ts";
import { train } from "../src/train/trainer.ts";
import { warmStartWeights } from "../src/train/warm_start.ts";
import { Rng } from "../src/rng.ts";

await selectBackend({ prefer: "wasm", quiet: true });

const small: UNetConfig = { channels: 2, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 };
const big: UNetConfig = { ...small, widths: [8, 24], blocks: [2, 3], kernel: 5 };

/** Trained-looking weights: random everywhere, norms and biases included. */
function trained(c: UNetConfig, seed: number) {
  const w = initUNetWeights(c, seed);
  const rng = new Rng(seed + 100);
  for (const [name, t] of w) {
    if (name.includes(".norm.")) t.data.forEach((v, i) => t.data[i] = v + 0.3 * rng.normal());
  }
  return w;
}

async function eps(c: UNetConfig, w: ReturnType<typeof initUNetWeights>, t: number) {
  const net = await createUNet(c, { weights: w });
  const rng = new Rng(7);
  const z = Float32Array.from({ length: 2 * 3 * 2 * 16 * 16 }, () => rng.normal());
  const e = await net.denoise(z, [2, 3, 2, 16, 16], new Float32Array([t, 0.8]));
  net.dispose();
  return e;
}

Deno.test("grow: the grown network computes what the trained one did (widths ×2 and ×3, blocks, kernel 3 → 5)", async () => {
  const src = trained(small, 1);
  const fresh = initUNetWeights(big, 9);
  const r = warmStartWeights(fresh, big, src, 4);
  assert.deepEqual(r.grown?.widthFactors, [2, 3]);
  assert.deepEqual(r.grown?.newBlocks, [
    "down.0.rb.1",
    "down.1.rb.1",
    "down.1.rb.2",
    "up.0.rb.1",
    "up.1.rb.1",
    "up.1.rb.2",
  ]);
  for (const t of [0.05, 0.5]) {
    const a = await eps(small, src, t), b = await eps(big, fresh, t);
    let err = 0, scale = 0;
    for (let i = 0; i < a.length; i++) {
      err = Math.max(err, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(a[i]));
    }
    assert.ok(scale > 0.1 && err < 2e-5 * scale, `t = ${t}: max |Δε| ${err} (scale ${scale})`);
  }
  // the copies' consumer weights differ (the split), their sum is the trained weight
  const w = fresh.get("down.1.conv.weight")!, s = src.get("down.1.conv.weight")!; // [24, 8, 5, 5] ← [8, 4, 3, 3]
  const at = (o: number, i: number, y: number, x: number) => w.data[((o * 8 + i) * 5 + y) * 5 + x];
  assert.notEqual(at(0, 1, 2, 2), at(0, 5, 2, 2));
  assert.ok(Math.abs(at(0, 1, 2, 2) + at(0, 5, 2, 2) - s.data[(0 * 4 + 1) * 9 + 4]) < 1e-6);
  assert.ok(Math.abs(at(9, 1, 1, 3) + at(9, 5, 1, 3) - s.data[(1 * 4 + 1) * 9 + 2]) < 1e-6);
  assert.equal(Math.abs(at(0, 1, 0, 0) + at(0, 5, 0, 0)) < 1e-7, true); // new taps: zero sum
  // without the split the copies are equal
  const flat = initUNetWeights(big, 9);
  growUNetWeights(flat, big, src, { split: 0 });
  const f = flat.get("down.1.conv.weight")!.data;
  assert.equal(f[((0 * 8 + 1) * 5 + 2) * 5 + 2], f[((0 * 8 + 5) * 5 + 2) * 5 + 2]);
});

Deno.test("grow: training separates the copies (a grown run through train())", async () => {
  const out = await tempRun("soad_grow_");
  const src = trained(small, 2);
  const c2 = { ...small, widths: [8, 16] };
  const source = TINY_SOURCE;
  const config = {
    model: "sda" as const,
    unet: c2,
    frames: 3,
    batchSize: 2,
    steps: 2,
    validEvery: 0,
  };
  await train({ out, source, config, init: src, ...LOCAL });
  const w = readSafetensors(await Deno.readFile(`${out}/model.safetensors`));
  // down.0.conv output channels o and o + 4 started as copies
  const d0 = w.get("down.0.conv.weight")!; // [8, 2, 3, 3]
  const row = (o: number) => [...d0.data.subarray(o * 18, (o + 1) * 18)];
  assert.notDeepEqual(row(0), row(4));
  await Deno.remove(out, { recursive: true });
});

Deno.test("grow: what cannot grow is refused with the reason", () => {
  assert.equal(growthProblem(small, big), null);
  assert.equal(
    describeGrowth(small, big),
    "widths [4,8], blocks [1,1], kernel 3 into widths [8,24], blocks [2,3], kernel 5",
  );
  assert.equal(describeGrowth(small, small), null);
  assert.equal(describeGrowth(small, { ...small, widths: [6, 8] }), null);
  assert.match(
    growthProblem(small, { ...small, widths: [6, 8] })!,
    /6 of level 0 is not a multiple of 4/,
  );
  assert.match(growthProblem(big, small)!, /not a multiple|lose/);
  assert.match(growthProblem(small, { ...small, kernel: 1 })!, /kernel would shrink/);
  assert.match(growthProblem(small, { ...small, channels: 4 })!, /channels differ/);
  assert.match(growthProblem(small, { ...small, widths: [4, 8, 8] })!, /number of levels/);
  const bad = { ...small, widths: [6, 8] };
  assert.throws(
    () => warmStartWeights(initUNetWeights(bad, 0), bad, initUNetWeights(small, 1)),
    /grows into this one \(width 6 of level 0 is not a multiple of 4\)/,
  );
  assert.throws(
    () => growUNetWeights(initUNetWeights(big, 0), big, initUNetWeights(small, 1), { split: -1 }),
    /split must be a finite number >= 0/,
  );
});
