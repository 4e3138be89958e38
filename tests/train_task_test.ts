import assert from "node:assert/strict";
import { DATA_PRESETS } from "../src/data/config.ts";
import { generateDataset } from "../src/data/generate.ts";
import { readSafetensorsMetadata } from "../src/io/safetensors.ts";

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
