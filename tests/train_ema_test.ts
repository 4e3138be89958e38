// EMA of the weights during training (--ema): the update against closed forms, the trainer's
// wiring (which weights, which step, what is validated and kept), bit-identical resume, and the
// refusal of a resume that would change the EMA setting.
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { readSafetensors, readSafetensorsMetadata } from "../src/io/safetensors.ts";
import { readCheckpoint } from "../src/train/checkpoint.ts";
import { resolveTrainConfig } from "../src/train/config.ts";
import { emaDecay, updateEma } from "../src/train/ema.ts";
import { LocalEngine } from "../src/train/engine.ts";
import { parseLogCsv } from "../src/train/log.ts";
import { ParamLayout } from "../src/train/param_layout.ts";
import { LOCAL, tempRun, TINY_BASE, TINY_SOURCE, TINY_UNET } from "./train_helpers.ts";
import { train, validTasks } from "../src/train/trainer.ts";

await selectBackend({ prefer: "wasm", quiet: true });

const unet = TINY_UNET, source = TINY_SOURCE, opts = LOCAL;
const base = { ...TINY_BASE, validEvery: 2 };
const tmp = () => tempRun("soad_ema_");
const layout = new ParamLayout(unet);
const flat = async (path: string) => layout.fromTorch(readSafetensors(await Deno.readFile(path)));
/** Asserts two arrays are equal element for element (no element-wise diff of large arrays). */
const sameValues = (a: Float32Array | undefined, b: Float32Array | undefined, what: string) => {
  assert.ok(a && b && a.length === b.length, `${what}: lengths differ`);
  const i = a.findIndex((x, k) => !Object.is(x, b[k]));
  assert.equal(i, -1, `${what}: first difference at ${i}: ${a[i]} vs ${b[i]}`);
};
const sameBytes = async (a: string, b: string) => {
  const [x, y] = [await Deno.readFile(a), await Deno.readFile(b)];
  assert.ok(x.length === y.length && x.every((v, i) => v === y[i]), `${a} and ${b} differ`);
};

Deno.test("emaDecay: min(decay, (1+s)/(10+s)); bad decays and steps are refused", () => {
  assert.equal(emaDecay(0.999, 1), 2 / 11);
  assert.equal(emaDecay(0.999, 90), 0.91);
  assert.equal(emaDecay(0.5, 7), 8 / 17);
  assert.equal(emaDecay(0.5, 8), 0.5); // (1+8)/(10+8) = 0.5: the cap takes over from here
  assert.equal(emaDecay(0.999, 10_000), 0.999);
  for (const d of [0, 1, -0.1, NaN]) assert.throws(() => emaDecay(d, 1), InvalidArgumentError);
  for (const s of [0, 1.5, -1]) assert.throws(() => emaDecay(0.9, s), InvalidArgumentError);
});

Deno.test("EMA of a constant during warm-up: c·(1 − 10!·(n+1)!/(n+10)!)", () => {
  // e_0 = 0, p_s = c: e_n = c·(1 − Π d_s), Π_{s=1..n} (1+s)/(10+s) = 10!·(n+1)!/(n+10)!
  const c = [0.75, -2, 3e-3];
  const e = new Float32Array(3);
  for (let n = 1; n <= 30; n++) {
    updateEma(e, new Float32Array(c), emaDecay(0.9999, n));
    let prod = 1; // 10!·(n+1)!/(n+10)! = Π_{k=2..10} k/(n+k)
    for (let k = 2; k <= 10; k++) prod *= k / (n + k);
    for (let i = 0; i < 3; i++) {
      const want = c[i] * (1 - prod);
      assert.ok(Math.abs(e[i] - want) <= 1e-6 * Math.abs(c[i]), `n=${n}: ${e[i]} vs ${want}`);
    }
  }
});

Deno.test("EMA of a geometric sequence at a fixed decay: the closed form", () => {
  // e_n = d^n e_0 + (1−d)·r·(r^n − d^n)/(r − d) for p_s = r^s
  const d = 0.9, r = 1.05, e0 = 0.5;
  const e = new Float32Array([e0]);
  for (let n = 1; n <= 60; n++) {
    updateEma(e, new Float32Array([r ** n]), d);
    const want = d ** n * e0 + (1 - d) * r * (r ** n - d ** n) / (r - d);
    assert.ok(Math.abs(e[0] - want) <= 2e-6 * want, `n=${n}: ${e[0]} vs ${want}`);
  }
  assert.throws(() => updateEma(e, new Float32Array(2), 0.5), /EMA holds 1 values/);
});

Deno.test("config: ema in (0, 1); 0 = off leaves the configuration as it was", () => {
  const off = resolveTrainConfig({ model: "sda", steps: 1, ema: 0, keepEvery: 0 });
  assert.ok(!("ema" in off) && !("keepEvery" in off));
  assert.deepEqual(off, resolveTrainConfig({ model: "sda", steps: 1 }));
  assert.equal(resolveTrainConfig({ model: "sda", steps: 1, ema: 0.99 }).ema, 0.99);
  for (const ema of [1, -0.5, 2]) {
    assert.throws(() => resolveTrainConfig({ model: "sda", steps: 1, ema }), /ema .*\(0, 1\)/);
  }
  assert.throws(() => resolveTrainConfig({ model: "sda", steps: 1, keepEvery: 1.5 }), /keepEvery/);
});

Deno.test("trainer: EMA after every step from p_0; validated, kept and chosen as best", async () => {
  const out = await tmp();
  const config = { ...base, steps: 4, ema: 0.5, keepEvery: 2 };
  // step by step through resume: each checkpoint's EMA is the update of the previous one
  await train({ out, source, config, until: 0, ...opts });
  let prev = await readCheckpoint(`${out}/checkpoint.safetensors`);
  sameValues(prev.ema, prev.params, "e_0 = p_0");
  for (let s = 1; s <= 4; s++) {
    await train({ out, source, resume: true, until: s, ...opts });
    const st = await readCheckpoint(`${out}/checkpoint.safetensors`);
    assert.equal(st.step, s);
    const d = Math.min(0.5, (1 + s) / (10 + s));
    const want = new Float32Array(st.params.length);
    for (let i = 0; i < want.length; i++) want[i] = d * prev.ema![i] + (1 - d) * st.params[i];
    sameValues(st.ema, want, `step ${s}`);
    assert.ok(st.params.some((p, i) => p !== st.ema![i])); // the raw weights keep their own path
    prev = st;
  }
  // every step validates (resume ends each run with a validation): raw and EMA losses
  const recs = parseLogCsv(await Deno.readTextFile(`${out}/log.csv`));
  assert.equal(recs.length, 4);
  assert.ok(recs.every((r) => r.validLoss !== null && typeof r.validLossEma === "number"));
  // the EMA loss is the loss of the EMA weights on the validation samples
  const c = resolveTrainConfig(config);
  const engine = await LocalEngine.create(unet, { model: "sin3x", frames: 3, height: 8, width: 8 });
  await engine.setParams(prev.ema!);
  const ls = await engine.losses(validTasks(c, source));
  await engine.close();
  assert.equal(recs[3].validLossEma, ls.reduce((a, b) => a + b, 0) / ls.length);
  // best.safetensors: EMA weights of the step with the lowest EMA loss, saying so
  const best = recs.reduce((a, r) => (r.validLossEma! < a.validLossEma! ? r : a));
  const bestMeta = readSafetensorsMetadata(await Deno.readFile(`${out}/best.safetensors`));
  assert.equal(Number(bestMeta.step), best.step);
  assert.equal(JSON.parse(bestMeta.best_valid), best.validLossEma);
  assert.deepEqual(JSON.parse(bestMeta.ema), { decay: 0.5, weights: "ema" });
  // snapshots every 2 steps hold the EMA at that step; model-ema the final EMA
  sameValues(await flat(`${out}/step-4.safetensors`), prev.ema, "step-4");
  assert.ok((await Deno.stat(`${out}/step-2.safetensors`)).isFile);
  await assert.rejects(Deno.stat(`${out}/step-3.safetensors`));
  sameValues(await flat(`${out}/model-ema.safetensors`), prev.ema, "model-ema");
  sameValues(await flat(`${out}/model.safetensors`), prev.params, "model");
  const modelMeta = readSafetensorsMetadata(await Deno.readFile(`${out}/model.safetensors`));
  assert.deepEqual(JSON.parse(modelMeta.ema), { decay: 0.5, weights: "raw" });
  const info = JSON.parse(await Deno.readTextFile(`${out}/train.json`));
  assert.equal(info.best_weights, "ema");
  assert.equal(info.best_valid, best.validLossEma);
});

Deno.test("EMA resume: stopped and resumed = uninterrupted, byte for byte", async () => {
  const a = await tmp(), b = await tmp();
  const config = { ...base, steps: 8, ema: 0.9, keepEvery: 3 };
  await train({ out: a, source, config, ...opts });
  await train({ out: b, source, config, until: 4, ...opts });
  const r = await train({ out: b, source, resume: true, ...opts });
  assert.equal(r.step, 8);
  for (
    const f of [
      "checkpoint.safetensors",
      "model.safetensors",
      "model-ema.safetensors",
      "best.safetensors",
      "step-3.safetensors",
      "step-6.safetensors",
    ]
  ) await sameBytes(`${a}/${f}`, `${b}/${f}`);
  const ck = await readCheckpoint(`${a}/checkpoint.safetensors`);
  assert.equal(ck.config.ema, 0.9);
  sameValues(r.ema, ck.ema, "returned EMA");
});

Deno.test("EMA resume refuses a changed decay, EMA added to a run without it, and EMA dropped", async () => {
  const withEma = await tmp(), without = await tmp();
  await train({ out: withEma, source, config: { ...base, steps: 4, ema: 0.9 }, until: 2, ...opts });
  await train({ out: without, source, config: { ...base, steps: 4 }, until: 2, ...opts });
  const refused = (out: string, ema: number, stored: string, given: string) =>
    assert.rejects(
      train({ out, source, resume: true, config: { ema }, ...opts }),
      (e: Error) =>
        e instanceof InvalidArgumentError &&
        e.message.includes(`other ema (ema=${stored}, given ema=${given})`) &&
        /keeps the EMA setting it started with/.test(e.message),
    );
  await refused(withEma, 0.99, "0.9", "0.99");
  await refused(without, 0.999, '"off"', "0.999");
  await refused(withEma, 0, "0.9", '"off"');
  // the same setting (or "off" = 0 on a run without EMA) continues
  assert.equal(
    (await train({ out: withEma, source, resume: true, config: { ema: 0.9 }, ...opts })).step,
    4,
  );
  const r = await train({ out: without, source, resume: true, config: { ema: 0 }, ...opts });
  assert.equal(r.step, 4);
  assert.equal(r.ema, undefined);
});

Deno.test("without --ema nothing changes: no EMA tensors, keys, files or log column", async () => {
  const out = await tmp();
  await train({ out, source, config: { ...base, steps: 2 }, ...opts });
  const bytes = await Deno.readFile(`${out}/checkpoint.safetensors`);
  const md = readSafetensorsMetadata(bytes);
  assert.ok(!("ema" in JSON.parse(md.config)) && !("keepEvery" in JSON.parse(md.config)));
  assert.ok(![...readSafetensors(bytes).keys()].some((k) => k.startsWith("ema.")));
  assert.equal(
    (await Deno.readTextFile(`${out}/log.csv`)).split("\n")[0],
    "step,epoch,lr,loss,grad_norm,valid_loss,seconds",
  );
  const files = [...Deno.readDirSync(out)].map((e) => e.name).sort();
  assert.deepEqual(files, [
    "best.safetensors",
    "checkpoint.safetensors",
    "log.csv",
    "loss.png",
    "model.safetensors",
    "train.json",
  ]);
  assert.ok(!("ema" in readSafetensorsMetadata(await Deno.readFile(`${out}/best.safetensors`))));
});
