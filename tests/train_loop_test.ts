import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { BlowUpError, InvalidArgumentError, SoadError } from "../src/errors.ts";
import {
  readSafetensors,
  readSafetensorsMetadata,
  writeSafetensors,
} from "../src/io/safetensors.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { decodeCheckpoint, encodeCheckpoint, readCheckpoint } from "../src/train/checkpoint.ts";
import type { TrainConfig } from "../src/train/config.ts";
import { ParamLayout } from "../src/train/param_layout.ts";
import type { TrainSplit, WindowSource } from "../src/train/source.ts";
import { LOCAL, tempRun, TINY_BASE, TINY_SOURCE, TINY_UNET } from "./train_helpers.ts";
import { train } from "../src/train/trainer.ts";

await selectBackend({ prefer: "wasm", quiet: true });

const unet = TINY_UNET, source = TINY_SOURCE, base = TINY_BASE, opts = LOCAL;
const tmp = () => tempRun("soad_train_");

Deno.test("training lowers the loss on synthetic data with a tiny net", async () => {
  const out = await tmp();
  const r = await train({ out, source, config: { ...base, steps: 40, validEvery: 40 }, ...opts });
  const first = r.records.slice(0, 5).reduce((a, x) => a + x.loss, 0) / 5;
  const last = r.records.slice(-5).reduce((a, x) => a + x.loss, 0) / 5;
  assert.ok(last < 0.8 * first, `loss ${first} → ${last}`);
  assert.ok(r.records.every((x) => x.gradNorm > 0 && Number.isFinite(x.gradNorm)));
  assert.equal(r.records.at(-1)!.lr, 3e-3 * (1 - 39 / 40));
  const csv = await Deno.readTextFile(`${out}/log.csv`);
  assert.equal(csv.trim().split("\n").length, 41);
  assert.ok((await Deno.stat(`${out}/loss.png`)).size > 1000);
  const info = JSON.parse(await Deno.readTextFile(`${out}/train.json`));
  assert.equal(info.step, 40);
  assert.equal(info.finished, true);
});

Deno.test("resume: k steps + resume k steps = 2k uninterrupted, byte-identical weights", async () => {
  const a = await tmp(), b = await tmp();
  const config = { ...base, steps: 8, roll: true };
  await train({ out: a, source, config, ...opts });
  const r1 = await train({ out: b, source, config, until: 4, ...opts });
  assert.equal(r1.step, 4);
  assert.equal(r1.finished, false);
  await assert.rejects(
    train({ out: b, source, config, ...opts }),
    (e: Error) => e instanceof SoadError && /exists: pass resume/.test(e.message),
  );
  const r2 = await train({ out: b, source, resume: true, ...opts });
  assert.equal(r2.step, 8);
  for (const f of ["model.safetensors", "checkpoint.safetensors"]) {
    assert.deepEqual(await Deno.readFile(`${a}/${f}`), await Deno.readFile(`${b}/${f}`), f);
  }
  const la = (await Deno.readTextFile(`${a}/log.csv`)).split("\n").map((l) => l.split(",")[3]);
  const lb = (await Deno.readTextFile(`${b}/log.csv`)).split("\n").map((l) => l.split(",")[3]);
  assert.deepEqual(lb, la); // same losses, step by step
  // the checkpoint interval may change on resume (pure I/O): same weights
  const c = await tmp();
  await train({ out: c, source, config, until: 4, ...opts });
  const r3 = await train({ out: c, source, resume: true, config: { checkpointEvery: 1 }, ...opts });
  assert.equal(r3.config.checkpointEvery, 1);
  const wa = readSafetensors(await Deno.readFile(`${a}/model.safetensors`));
  const wc = readSafetensors(await Deno.readFile(`${c}/model.safetensors`));
  for (const [k, t] of wa) assert.deepEqual(wc.get(k)!.data, t.data, k);
  // a mismatching flag on resume is refused, naming it
  await assert.rejects(
    train({ out: b, source, resume: true, config: { batchSize: 5 }, ...opts }),
    (e: Error) => e instanceof InvalidArgumentError && /batchSize=3/.test(e.message),
  );
});

Deno.test("checkpoint round trip; weights load into a UNet; wrong architecture is refused", async () => {
  const out = await tmp();
  await train({ out, source, config: { ...base, steps: 2 }, ...opts });
  const bytes = await Deno.readFile(`${out}/checkpoint.safetensors`);
  const s = decodeCheckpoint(bytes);
  assert.equal(s.step, 2);
  assert.equal(s.config.model, "sin3x");
  assert.deepEqual(encodeCheckpoint(s), bytes);
  assert.ok(s.m.some((x) => x !== 0) && s.v.some((x) => x > 0));
  assert.deepEqual((s.data as { kind: string }).kind, "synthetic");
  const net = await createUNet(unet);
  net.setWeights(readSafetensors(await Deno.readFile(`${out}/model.safetensors`)));
  const w = await net.getWeights();
  assert.deepEqual(new ParamLayout(unet).fromTorch(w), s.params);
  net.dispose();
  // tensors of this network under the config of another one (a checkpoint of another
  // architecture) are refused, naming a mismatching parameter
  const md = readSafetensorsMetadata(bytes);
  const other: TrainConfig = { ...s.config, unet: { ...unet, widths: [4, 4] } };
  const forged = writeSafetensors(readSafetensors(bytes), { ...md, config: JSON.stringify(other) });
  assert.throws(
    () => decodeCheckpoint(forged),
    (e: Error) => e instanceof InvalidArgumentError && /does not match its network/.test(e.message),
  );
  assert.throws(() => decodeCheckpoint(writeSafetensors({})), /not a soad training checkpoint/);
  await assert.rejects(
    readCheckpoint(`${out}/nonexistent.safetensors`),
    (e: Error) => e instanceof SoadError && /cannot read checkpoint/.test(e.message),
  );
});

class PoisonSource implements WindowSource {
  readonly height = 8;
  readonly width = 8;
  readonly length = 5;
  readonly channels = 2;
  count(split: TrainSplit): number {
    return source.count(split);
  }
  window(split: TrainSplit, i: number): Float32Array {
    return source.window(split, i).fill(NaN);
  }
  describe(): Record<string, unknown> {
    return source.describe(); // poisoned copies of the same data (a resume accepts them)
  }
}

Deno.test("NaN loss stops with a BlowUpError and keeps the last good checkpoint", async () => {
  const out = await tmp();
  await train({ out, source, config: { ...base, steps: 10 }, until: 4, ...opts });
  const before = await Deno.readFile(`${out}/checkpoint.safetensors`);
  await assert.rejects(
    train({ out, source: new PoisonSource(), resume: true, ...opts }),
    (e: Error) => e instanceof BlowUpError && /diverged at step 5/.test(e.message),
  );
  assert.deepEqual(await Deno.readFile(`${out}/checkpoint.safetensors`), before);
});

Deno.test("bad input: config errors name the field; resume without checkpoint is explained", async () => {
  const out = await tmp();
  await assert.rejects(
    train({ out, source, config: { ...base, steps: 2, batchSize: 0 }, ...opts }),
    /batchSize must be an integer >= 1/,
  );
  await assert.rejects(
    train({ out, source, config: { ...base, model: "sda", steps: 2 }, ...opts }),
    /model sda trains on C = 2 channels, but the network has 4/,
  );
  await assert.rejects(
    train({ out, source, config: { ...base, steps: 2, frames: 7 }, ...opts }),
    /5 snapshots, fewer than frames = 7/,
  );
  await assert.rejects(
    train({ out, source, resume: true, ...opts }),
    /cannot resume: .*checkpoint.safetensors does not exist/,
  );
});
