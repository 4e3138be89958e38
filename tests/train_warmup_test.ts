// Learning-rate warm-up (--warmup): the schedule against its closed form, the rate the trainer
// actually applied (log.csv), a stopped-and-resumed run equal to an uninterrupted one, the refusal
// of a resume that changes it, and a default configuration that does not change.
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { linearDecay, lrFactor } from "../src/train/adamw.ts";
import { resolveTrainConfig } from "../src/train/config.ts";
import { parseLogCsv } from "../src/train/log.ts";
import { LOCAL, tempRun, TINY_BASE, TINY_SOURCE } from "./train_helpers.ts";
import { train } from "../src/train/trainer.ts";
import { runTask } from "./task_helpers.ts";

await selectBackend({ prefer: "wasm", quiet: true });

const source = TINY_SOURCE, opts = LOCAL;
const base = { ...TINY_BASE, lr: 2e-3, checkpointEvery: 3, validEvery: 0 };
const tmp = () => tempRun("soad_warmup_");

Deno.test("lrFactor: min(1, (k+1)/W) · (1 − k/total); W = 0 is the decay alone", () => {
  for (let k = 0; k < 12; k++) assert.equal(lrFactor(k, 10), linearDecay(k, 10));
  assert.equal(lrFactor(0, 10, 4), 0.25);
  assert.equal(lrFactor(1, 10, 4), 0.5 * 0.9);
  assert.equal(lrFactor(3, 10, 4), 0.7);
  assert.equal(lrFactor(9, 10, 4), 1 - 9 / 10);
  assert.equal(lrFactor(0, 10, 1), 1); // one warm-up step = no warm-up
  for (const w of [-1, 1.5, NaN]) assert.throws(() => lrFactor(0, 10, w), /warmup/);
});

Deno.test("config: warmup an integer >= 1; 0 = off leaves the configuration as it was", () => {
  const off = resolveTrainConfig({ model: "sda", steps: 5, warmup: 0 });
  assert.ok(!("warmup" in off));
  assert.deepEqual(off, resolveTrainConfig({ model: "sda", steps: 5 }));
  assert.equal(resolveTrainConfig({ model: "sda", steps: 5, warmup: 3 }).warmup, 3);
  for (const warmup of [-2, 2.5]) {
    assert.throws(
      () => resolveTrainConfig({ model: "sda", steps: 5, warmup }),
      (e: Error) =>
        e instanceof InvalidArgumentError && /warmup must be an integer/.test(e.message),
    );
  }
});

Deno.test("trainer applies the warm-up: log lr = lr · lrFactor; resumed = uninterrupted", async () => {
  const a = await tmp(), b = await tmp();
  const config = { ...base, steps: 6, warmup: 4 };
  await train({ out: a, source, config, ...opts });
  const recs = parseLogCsv(await Deno.readTextFile(`${a}/log.csv`));
  assert.deepEqual(recs.map((r) => r.lr), [0, 1, 2, 3, 4, 5].map((k) => 2e-3 * lrFactor(k, 6, 4)));
  assert.ok(recs[0].lr < recs[1].lr && recs[1].lr < recs[2].lr && recs[5].lr < recs[3].lr);
  // stopped inside the warm-up and resumed: the same bytes
  await train({ out: b, source, config, until: 2, ...opts });
  assert.equal((await train({ out: b, source, resume: true, ...opts })).step, 6);
  for (const f of ["checkpoint.safetensors", "model.safetensors"]) {
    assert.deepEqual(await Deno.readFile(`${a}/${f}`), await Deno.readFile(`${b}/${f}`), f);
  }
  // without warm-up the first step runs at the full rate: the weights differ
  const c = await tmp();
  await train({ out: c, source, config: { ...base, steps: 6 }, ...opts });
  const lr0 = parseLogCsv(await Deno.readTextFile(`${c}/log.csv`))[0].lr;
  assert.equal(lr0, 2e-3);
  assert.notDeepEqual(
    await Deno.readFile(`${a}/model.safetensors`),
    await Deno.readFile(`${c}/model.safetensors`),
  );
});

Deno.test("resume refuses a changed warm-up; the same (or 0 on a run without) continues", async () => {
  const w = await tmp(), none = await tmp();
  await train({ out: w, source, config: { ...base, steps: 4, warmup: 2 }, until: 1, ...opts });
  await train({ out: none, source, config: { ...base, steps: 4 }, until: 1, ...opts });
  const refused = (out: string, warmup: number, msg: string) =>
    assert.rejects(
      train({ out, source, resume: true, config: { warmup }, ...opts }),
      (e: Error) => e instanceof InvalidArgumentError && e.message.includes(msg),
    );
  await refused(w, 3, "other warmup (warmup=2, given warmup=3)");
  await refused(none, 2, 'other warmup (warmup="off", given warmup=2)');
  assert.equal(
    (await train({ out: w, source, resume: true, config: { warmup: 2 }, ...opts })).step,
    4,
  );
  assert.equal(
    (await train({ out: none, source, resume: true, config: { warmup: 0 }, ...opts })).step,
    4,
  );
});

Deno.test("deno task train --warmup: in the help, refused when not an integer", async () => {
  const help = await runTask("train.ts", "--help");
  assert.match(help.out, /--warmup N +linear learning-rate warm-up/);
  const bad = await runTask("train.ts", "--synthetic", "8", "--warmup", "1.5", "--steps", "2");
  assert.equal(bad.code, 2); // a usage error
  assert.match(bad.err, /--warmup expects an integer >= 0, got "1.5"/);
});
