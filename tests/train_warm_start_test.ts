// Warm start (--init) and the high-t oversampling option of training.
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { initUNetWeights } from "../src/diffusion/unet_config.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import { resolveTrainConfig } from "../src/train/config.ts";
import { SyntheticSource } from "../src/train/source.ts";
import { LOCAL, tempRun, TINY_SOURCE } from "./train_helpers.ts";
import { stepTasks, train } from "../src/train/trainer.ts";
import { warmStartWeights } from "../src/train/warm_start.ts";
import { Rng } from "../src/rng.ts";

await selectBackend({ prefer: "wasm", quiet: true });

const arch = { widths: [4, 8], blocks: 1, kernel: 3, frames: 3 };

Deno.test("warm start: an SDA net from a SOAD net computes the SOAD net's state channels", async () => {
  const src = initUNetWeights({ channels: 4, ...arch }, 5);
  // make the observation channels irrelevant to the source: zero their input weights
  const w0 = src.get("down.0.conv.weight")!; // [w0, C, k, k]
  const [o, C, k] = [w0.shape[0], w0.shape[1], w0.shape[2]];
  for (let a = 0; a < o; a++) {
    for (let c = 2; c < C; c++) w0.data.fill(0, ((a * C + c) * k) * k, ((a * C + c + 1) * k) * k);
  }
  const dstCfg = { channels: 2, ...arch };
  const fresh = initUNetWeights(dstCfg, 9);
  const untouched = initUNetWeights(dstCfg, 9);
  const r = warmStartWeights(fresh, dstCfg, src);
  assert.deepEqual(r.partial, ["down.0.conv.weight", "up.0.conv.weight", "up.0.conv.bias"]);
  assert.equal(r.copied + r.partial.length, fresh.size);
  assert.notDeepEqual(fresh.get("up.1.conv.weight")!.data, untouched.get("up.1.conv.weight")!.data);

  const big = await createUNet({ channels: 4, ...arch });
  big.setWeights(src);
  const small = await createUNet(dstCfg);
  small.setWeights(fresh);
  const R = 64, L = 3, rng = new Rng(2);
  const z4 = Float32Array.from({ length: L * 4 * R }, () => rng.normal());
  const z2 = new Float32Array(L * 2 * R);
  for (let f = 0; f < L; f++) z2.set(z4.subarray(f * 4 * R, f * 4 * R + 2 * R), f * 2 * R);
  const t = new Float32Array([0.3]);
  const e4 = await big.denoise(z4, [1, L, 4, 8, 8], t);
  const e2 = await small.denoise(z2, [1, L, 2, 8, 8], t);
  let err = 0;
  for (let f = 0; f < L; f++) {
    for (let i = 0; i < 2 * R; i++) {
      err = Math.max(err, Math.abs(e2[f * 2 * R + i] - e4[f * 4 * R + i]));
    }
  }
  assert.ok(err < 1e-5, `state channels differ by ${err}`);
  big.dispose();
  small.dispose();

  // the other direction keeps the fresh init on the new channels
  const up = initUNetWeights({ channels: 6, ...arch }, 1);
  const upFresh = initUNetWeights({ channels: 6, ...arch }, 1);
  warmStartWeights(up, { channels: 6, ...arch }, src);
  const b6 = up.get("up.0.conv.bias")!.data, b6f = upFresh.get("up.0.conv.bias")!.data;
  assert.deepEqual([...b6.subarray(0, 4)], [...src.get("up.0.conv.bias")!.data]);
  assert.deepEqual([...b6.subarray(4)], [...b6f.subarray(4)]);
  assert.throws(
    () =>
      warmStartWeights(initUNetWeights({ channels: 2, ...arch, widths: [8, 8] }, 0), {
        channels: 2,
        ...arch,
        widths: [8, 8],
      }, src),
    /same widths, blocks, kernel and frames/,
  );
});

Deno.test("train: init starts from the given weights (lr 0 keeps them); init with resume is refused", async () => {
  const out = await tempRun("soad_warm_");
  const src = initUNetWeights({ channels: 4, ...arch }, 3);
  const source = TINY_SOURCE;
  const config = {
    model: "sda" as const,
    unet: { channels: 2, ...arch },
    frames: 3,
    batchSize: 2,
    lr: 0,
    weightDecay: 0,
    steps: 1,
    validEvery: 0,
  };
  await train({ out, source, config, init: src, ...LOCAL });
  const w = readSafetensors(await Deno.readFile(`${out}/model.safetensors`));
  assert.deepEqual([...w.get("down.1.conv.weight")!.data], [
    ...src.get("down.1.conv.weight")!.data,
  ]);
  await assert.rejects(
    train({ out, source, resume: true, init: src, ...LOCAL }),
    /init \(--init\) starts a new run/,
  );
});

Deno.test("train: highTimeFraction oversamples t ≥ highTimeFrom; 0 keeps the spec's draws", () => {
  const source = new SyntheticSource({ height: 4, width: 4, length: 5 });
  const base = { model: "sda" as const, steps: 10, batchSize: 8, frames: 3 };
  const spec = resolveTrainConfig(base);
  const off = resolveTrainConfig({ ...base, highTimeFraction: 0 });
  const half = resolveTrainConfig({ ...base, highTimeFraction: 0.5, highTimeFrom: 0.8 });
  const all = resolveTrainConfig({ ...base, highTimeFraction: 1, highTimeFrom: 0.9 });
  // a checkpoint written before the option existed has no such fields: same draws
  const legacy = { ...spec } as Record<string, unknown>;
  delete legacy.highTimeFraction;
  delete legacy.highTimeFrom;
  const ts = (c: unknown, s: number) => stepTasks(c as typeof spec, source, s).map((x) => x.t);
  let high = 0, n = 0;
  for (let s = 0; s < 250; s++) {
    assert.deepEqual(ts(off, s), ts(spec, s));
    assert.deepEqual(ts(legacy, s), ts(spec, s));
    assert.ok(ts(all, s).every((t) => t >= 0.9 && t <= 1));
    for (const t of ts(half, s)) {
      n++;
      if (t >= 0.8) high++;
    }
  }
  // P(t ≥ 0.8) = 0.5 + 0.5 · 0.2 = 0.6; 2000 draws → sd 0.011
  assert.ok(Math.abs(high / n - 0.6) < 0.04, `fraction ${high / n}`);
  assert.throws(() => resolveTrainConfig({ ...base, highTimeFraction: 1.5 }), /highTimeFraction/);
  assert.throws(() => resolveTrainConfig({ ...base, highTimeFrom: 1 }), /highTimeFrom/);
});
