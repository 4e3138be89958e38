// Training runs keep their identity (issue 18, cases 2, 3, 9, 8): no silent replacement of a
// run's files, --resume only on the checkpoint's own data (by fingerprint, not path), no resume
// to fewer steps than done, stray temporaries removed, and gradient accumulation in groups that
// gives the same bytes for any batch split.
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { OutputExistsError } from "../src/io/output_dir.ts";
import { resolveDataConfig } from "../src/data/config.ts";
import { generateDataset } from "../src/data/generate.ts";
import { StoreSource } from "../src/train/store_source.ts";
import { train } from "../src/train/trainer.ts";
import { tempStore } from "./data_helpers.ts";

await selectBackend({ prefer: "wasm", quiet: true });

const unet = { channels: 2, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 };
const base = { model: "sda" as const, unet, frames: 3, batchSize: 2, validEvery: 0 };
const opts = { workers: 0, progress: false as const };
const tmp = () => Deno.makeTempDir({ prefix: "soad_train_id_" });

async function store(seedOffset: number, out = tempStore()): Promise<string> {
  const config = resolveDataConfig("tiny", { seedOffset });
  await generateDataset({ out, config, workers: 0, progress: false });
  return out;
}
const a = await store(0);
const b = await store(7);

Deno.test("train: a new run never replaces a run's files without force (case 2)", async () => {
  for (const f of ["model.safetensors", "best.safetensors", "log.csv", "train.json"]) {
    const out = await tmp();
    Deno.writeTextFileSync(`${out}/${f}`, "user's file");
    await assert.rejects(
      train({ out, source: StoreSource.open(a), config: { ...base, steps: 1 }, ...opts }),
      (e: Error) =>
        e instanceof OutputExistsError && e.message.includes(f) && /--force/.test(e.message),
    );
    assert.equal(Deno.readTextFileSync(`${out}/${f}`), "user's file");
    const r = await train({
      out,
      source: StoreSource.open(a),
      config: { ...base, steps: 1 },
      force: true,
      ...opts,
    });
    assert.equal(r.step, 1);
  }
});

Deno.test("train: --resume refuses another dataset, a regenerated store, a foreign checkpoint (case 3)", async () => {
  const out = await tmp();
  await train({
    out,
    source: StoreSource.open(a),
    config: { ...base, steps: 4 },
    until: 2,
    ...opts,
  });
  const before = Deno.readFileSync(`${out}/checkpoint.safetensors`);
  // another store: named differences, the checkpoint is left as it was
  await assert.rejects(
    train({ out, source: StoreSource.open(b), resume: true, ...opts }),
    (e: Error) =>
      e instanceof InvalidArgumentError && /trained on other data/.test(e.message) &&
      /norm_std/.test(e.message) && /fingerprint/.test(e.message),
  );
  assert.deepEqual(Deno.readFileSync(`${out}/checkpoint.safetensors`), before);
  // the same path regenerated with another configuration
  const path = tempStore();
  await store(0, path);
  const run2 = await tmp();
  await train({
    out: run2,
    source: StoreSource.open(path),
    config: { ...base, steps: 4 },
    until: 2,
    ...opts,
  });
  Deno.removeSync(path, { recursive: true });
  await store(7, path);
  await assert.rejects(
    train({ out: run2, source: StoreSource.open(path), resume: true, ...opts }),
    /trained on other data.*fingerprint/,
  );
  // a checkpoint copied into another folder resumes only on its own data (any path)
  const foreign = await tmp();
  Deno.copyFileSync(`${out}/checkpoint.safetensors`, `${foreign}/checkpoint.safetensors`);
  await assert.rejects(
    train({ out: foreign, source: StoreSource.open(b), resume: true, ...opts }),
    /trained on other data/,
  );
  const moved = tempStore("moved.zarr");
  await new Deno.Command("cp", { args: ["-r", a, moved] }).output();
  const r = await train({ out: foreign, source: StoreSource.open(moved), resume: true, ...opts });
  assert.equal(r.step, 4);
});

Deno.test("train: resume to fewer steps than done is refused; stray temporaries go (case 9)", async () => {
  const out = await tmp();
  await train({ out, source: StoreSource.open(a), config: { ...base, steps: 3 }, ...opts });
  await assert.rejects(
    train({ out, source: StoreSource.open(a), config: { steps: 2 }, resume: true, ...opts }),
    /steps = 2: the checkpoint is at step 3 of 3; give --steps >= 3/,
  );
  Deno.writeFileSync(`${out}/.loss.png.k3j9x2a1b.tmp`, new Uint8Array(5));
  await train({ out, source: StoreSource.open(a), config: { steps: 4 }, resume: true, ...opts });
  assert.ok(![...Deno.readDirSync(out)].some((e) => e.name.endsWith(".tmp")));
});

Deno.test("train: gradients accumulated in groups give the same bytes for any grouping (case 8)", async () => {
  // batch 9: groups of 4, 4, 1 on the main thread (gradientGroupSize(0) = 4) and of 8, 1 with two
  // Workers (gradientGroupSize(2) = 8): float64 sums in sample order, so identical weights, while
  // only one group's gradients are held at a time
  const o1 = await tmp(), o2 = await tmp();
  const cfg = { ...base, steps: 2, batchSize: 9 };
  const r1 = await train({ out: o1, source: StoreSource.open(a), config: cfg, ...opts });
  const r2 = await train({
    out: o2,
    source: StoreSource.open(a),
    config: cfg,
    workers: 2,
    progress: false,
  });
  assert.deepEqual(r2.params, r1.params);
  assert.deepEqual(r2.records.map((x) => x.loss), r1.records.map((x) => x.loss));
});

Deno.test("train: a run that would not fit in memory is refused with the estimate (case 8)", async () => {
  const out = await tmp();
  await assert.rejects(
    train({
      out,
      source: StoreSource.open(a),
      config: { ...base, steps: 1, validEvery: 1, validSamples: 2 ** 30 },
      ...opts,
    }),
    (e: Error) =>
      e instanceof InvalidArgumentError &&
      /would hold about \d+\.\d+ GiB .* over the limit/.test(e.message),
  );
  // the batch does not enter the estimate: memory does not grow with it
  const { trainMemoryEstimate } = await import("../src/train/trainer.ts");
  const { resolveTrainConfig } = await import("../src/train/config.ts");
  const c = (batchSize: number) => resolveTrainConfig({ ...base, steps: 1, batchSize });
  assert.equal(
    trainMemoryEstimate(c(2), 1000, 16, 16, 2),
    trainMemoryEstimate(c(100000), 1000, 16, 16, 2),
  );
});

Deno.test("train: a checkpoint is never written before the log of its steps (found by the kill -9 harness)", async () => {
  // a run killed between its first checkpoint and its first log lost the log of those steps on
  // resume; here the log cannot be written (log.csv is a folder): no checkpoint may appear
  const out = await tmp();
  Deno.mkdirSync(`${out}/log.csv`);
  await assert.rejects(
    train({
      out,
      source: StoreSource.open(a),
      config: { ...base, steps: 2, checkpointEvery: 1 },
      force: true,
      ...opts,
    }),
  );
  assert.throws(() => Deno.statSync(`${out}/checkpoint.safetensors`), Deno.errors.NotFound);
});
