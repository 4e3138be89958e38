import assert from "node:assert/strict";
import { DATA_PRESETS } from "../src/data/config.ts";
import { generateDataset } from "../src/data/generate.ts";
import {
  readSafetensors,
  readSafetensorsMetadata,
  writeSafetensors,
} from "../src/io/safetensors.ts";
import { runTask } from "./task_helpers.ts";

const root = await Deno.makeTempDir({ prefix: "soad_train_task_" });
const data = `${root}/tiny.zarr`;
let generated = false;
async function tinyStore(): Promise<string> {
  if (!generated) {
    await generateDataset({ out: data, config: DATA_PRESETS.tiny, workers: 0, progress: false });
    generated = true;
  }
  return data;
}

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../tasks/train.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  });
  const r = await cmd.output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

const small = ["--widths", "4,8", "--blocks", "1", "--kernel", "3", "--frames", "5"];

Deno.test("deno task train on the tiny store: 2 workers + resume = 1 thread uninterrupted", async () => {
  const d = await tinyStore();
  const a = `${root}/a`, b = `${root}/b`;
  const common = ["--data", d, "--model", "arctan3x", ...small, "--steps", "6", "--batch", "2"];
  const ra = await run(...common, "--workers", "0", "--out", a, "--quiet");
  assert.equal(ra.code, 0, ra.err);
  assert.match(ra.out, /finished at step 6\/6/);
  const rb1 = await run(...common, "--workers", "2", "--out", b, "--until", "3", "--quiet");
  assert.equal(rb1.code, 0, rb1.err);
  assert.match(rb1.out, /stopped at step 3\/6/);
  const rb2 = await run("--data", d, "--resume", "--workers", "2", "--out", b, "--quiet");
  assert.equal(rb2.code, 0, rb2.err);
  assert.deepEqual(
    await Deno.readFile(`${b}/model.safetensors`),
    await Deno.readFile(`${a}/model.safetensors`),
  );
  const md = readSafetensorsMetadata(await Deno.readFile(`${a}/checkpoint.safetensors`));
  const desc = JSON.parse(md.data);
  assert.equal(desc.kind, "store");
  assert.equal(desc.norm_std.length, 2);
  assert.equal(JSON.parse(md.config).unet.channels, 4);
  for (const f of ["log.csv", "loss.png", "train.json", "best.safetensors"]) {
    assert.ok((await Deno.stat(`${a}/${f}`)).isFile, f);
  }
});

Deno.test("deno task ship-prior: the run's best weights, or chosen ones with a note", async () => {
  const d = await tinyStore();
  const r = `${root}/ship-run`, out = `${root}/shipped`;
  const tr = await run(
    "--data",
    d,
    "--model",
    "sda",
    ...small,
    "--steps",
    "4",
    "--batch",
    "2",
    "--valid-every",
    "2",
    "--workers",
    "0",
    "--out",
    r,
    "--quiet",
  );
  assert.equal(tr.code, 0, tr.err);
  const plain = await runTask("ship_prior.ts", "--run", r, "--out", out, "--warm-start", "none");
  assert.equal(plain.code, 0, plain.err);
  assert.deepEqual(
    await Deno.readFile(`${out}/weights.safetensors`),
    await Deno.readFile(`${r}/best.safetensors`),
  );
  assert.deepEqual(
    await Deno.readFile(`${out}/checkpoint.safetensors`),
    await Deno.readFile(`${r}/checkpoint.safetensors`),
  );
  let card = JSON.parse(await Deno.readTextFile(`${out}/card.json`));
  assert.equal(card.model, "sda");
  assert.equal(card.training.steps_done, 4);
  assert.match(card.weights, /^best validation loss/);
  // other weights of the same network (the final ones), with what they are
  const chosen = await runTask(
    "ship_prior.ts",
    "--run",
    r,
    "--out",
    out,
    "--weights",
    `${r}/model.safetensors`,
    "--weights-note",
    "step 4, chosen by hand",
  );
  assert.equal(chosen.code, 0, chosen.err);
  assert.deepEqual(
    await Deno.readFile(`${out}/weights.safetensors`),
    await Deno.readFile(`${r}/model.safetensors`),
  );
  card = JSON.parse(await Deno.readTextFile(`${out}/card.json`));
  assert.match(card.weights, /^step 4, chosen by hand \(weights\.safetensors\); checkpoint/);
  // a different network, or no note, is refused and leaves the shipped folder alone
  const w = readSafetensors(await Deno.readFile(`${r}/model.safetensors`));
  const [name, t] = [...w.entries()][0];
  w.set(name, { shape: [t.data.length + 1], data: new Float32Array(t.data.length + 1) });
  await Deno.writeFile(`${root}/other.safetensors`, writeSafetensors(w));
  const other = await runTask(
    "ship_prior.ts",
    "--run",
    r,
    "--out",
    out,
    "--weights",
    `${root}/other.safetensors`,
    "--weights-note",
    "x",
  );
  assert.equal(other.code, 1);
  assert.match(
    other.err,
    new RegExp(
      `is not the run's network: tensor ${name.replaceAll(".", "\\.")} is \\[${
        t.data.length + 1
      }\\]`,
    ),
  );
  const noNote = await runTask(
    "ship_prior.ts",
    "--run",
    r,
    "--out",
    out,
    "--weights",
    `${r}/model.safetensors`,
  );
  assert.equal(noNote.code, 1);
  assert.match(noNote.err, /--weights needs --weights-note/);
  assert.deepEqual(
    await Deno.readFile(`${out}/weights.safetensors`),
    await Deno.readFile(`${r}/model.safetensors`),
  );
});

Deno.test("deno task train: bad input gives clear errors", async () => {
  const missing = await run("--data", `${root}/nope.zarr`, "--out", `${root}/x`, "--quiet");
  assert.equal(missing.code, 1);
  assert.match(missing.err, /cannot open dataset .*nope\.zarr.*deno task generate/);
  const unknown = await run("--synthetic", "8", "--bogus", "1");
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /bogus/);
  const badNum = await run("--synthetic", "8", "--steps", "ten");
  assert.equal(badNum.code, 2);
  assert.match(badNum.err, /--steps expects an integer >= 1, got "ten"/);
  const badModel = await run("--synthetic", "8", "--model", "vor3vel");
  assert.equal(badModel.code, 2);
  assert.match(badModel.err, /--model must be one of sda, arctan3x/);
  const none = await run("--steps", "3");
  assert.equal(none.code, 2);
  assert.match(none.err, /exactly one of --data PATH/);
  const resumeArch = await run("--synthetic", "8", "--resume", "--widths", "4");
  assert.equal(resumeArch.code, 2);
  assert.match(resumeArch.err, /come from the checkpoint/);
  const help = await run("--help");
  assert.equal(help.code, 0);
  assert.match(help.out, /--resume/);
});
