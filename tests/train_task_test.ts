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

/** Asserts two files hold the same bytes (no element-wise diff of large arrays on failure). */
async function assertSameFile(a: string, b: string): Promise<void> {
  const [x, y] = [await Deno.readFile(a), await Deno.readFile(b)];
  assert.ok(x.length === y.length && x.every((v, i) => v === y[i]), `${a} and ${b} differ`);
}

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
  await assertSameFile(`${b}/model.safetensors`, `${a}/model.safetensors`);
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
  const opts = "--model sda --steps 4 --batch 2 --valid-every 2 --workers 0 --quiet".split(" ");
  const tr = await run("--data", d, ...small, ...opts, "--out", r);
  assert.equal(tr.code, 0, tr.err);
  const ship = (...args: string[]) => runTask("ship_prior.ts", "--run", r, "--out", out, ...args);
  const card = async () => JSON.parse(await Deno.readTextFile(`${out}/card.json`));

  const plain = await ship("--warm-start", "none");
  assert.equal(plain.code, 0, plain.err);
  await assertSameFile(`${out}/weights.safetensors`, `${r}/best.safetensors`);
  await assertSameFile(`${out}/checkpoint.safetensors`, `${r}/checkpoint.safetensors`);
  const c1 = await card();
  assert.equal(c1.model, "sda");
  assert.equal(c1.training.steps_done, 4);
  assert.match(c1.weights, /^best validation loss/);
  // how to resume names the run's own store and the prior folder (not the demo's)
  assert.ok(c1.resume.startsWith(`deno task train --data ${d} --out run/train-shipped --resume`));

  // other weights of the same network (the final ones, halved), with what they are
  const final = `${root}/chosen.safetensors`;
  const halved = readSafetensors(await Deno.readFile(`${r}/model.safetensors`));
  for (const t of halved.values()) t.data.forEach((v, i) => t.data[i] = v / 2);
  await Deno.writeFile(final, writeSafetensors(halved));
  await assert.rejects(assertSameFile(final, `${r}/best.safetensors`));
  // an existing prior folder is never replaced without --force (issue 18, case 1) …
  const refused = await ship("--weights", final, "--weights-note", "step 4, chosen by hand");
  assert.equal(refused.code, 1);
  assert.match(refused.err, /already exists and is not empty .*--force/);
  await assertSameFile(`${out}/weights.safetensors`, `${r}/best.safetensors`);
  // … and with --force its previous checkpoint is kept as a backup
  const chosen = await ship(
    "--weights",
    final,
    "--weights-note",
    "step 4, chosen by hand",
    "--force",
  );
  assert.equal(chosen.code, 0, chosen.err);
  const backups = [...Deno.readDirSync(out)].map((e) => e.name).filter((n) =>
    n.endsWith(".bak.safetensors")
  );
  assert.equal(backups.length, 1, backups.join());
  await assertSameFile(`${out}/${backups[0]}`, `${r}/checkpoint.safetensors`);
  await assertSameFile(`${out}/weights.safetensors`, final);
  assert.match(
    (await card()).weights,
    /^step 4, chosen by hand \(weights\.safetensors\); checkpoint/,
  );

  // a different network, or no note, is refused and leaves the shipped folder alone
  const w = readSafetensors(await Deno.readFile(final));
  const [name, t] = [...w.entries()][0];
  const n = t.data.length + 1;
  w.set(name, { shape: [n], data: new Float32Array(n) });
  await Deno.writeFile(`${root}/other.safetensors`, writeSafetensors(w));
  const other = await ship("--weights", `${root}/other.safetensors`, "--weights-note", "x");
  assert.equal(other.code, 1);
  assert.ok(other.err.includes("is not the run's network"), other.err);
  assert.ok(other.err.includes(`${name} has shape [${n}]`), other.err);
  const noNote = await ship("--weights", final);
  assert.equal(noNote.code, 1);
  assert.match(noNote.err, /--weights needs --weights-note/);
  const noWeights = await ship("--weights-note", "step 4");
  assert.equal(noWeights.code, 1);
  assert.match(noWeights.err, /--weights-note needs --weights/);
  await assertSameFile(`${out}/weights.safetensors`, final);
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

Deno.test("deno task train --ema --keep-every, ship-prior ships the EMA weights and says so", async () => {
  const r = `${root}/ema-run`, out = `${root}/ema-shipped`;
  const common = ["--synthetic", "8", "--model", "sda", ...small, "--batch", "2", "--workers", "0"];
  const tr = await run(
    ...common,
    ...["--steps", "4", "--valid-every", "2", "--ema", "0.99", "--keep-every", "2"],
    ...["--out", r, "--quiet"],
  );
  assert.equal(tr.code, 0, tr.err);
  for (const f of ["step-2.safetensors", "step-4.safetensors", "model-ema.safetensors"]) {
    assert.ok((await Deno.stat(`${r}/${f}`)).isFile, f);
  }
  assert.match((await Deno.readTextFile(`${r}/log.csv`)).split("\n")[0], /,valid_loss_ema$/);
  const changed = await run("--synthetic", "8", "--resume", "--ema", "0.9", "--out", r, "--quiet");
  assert.equal(changed.code, 1);
  assert.match(changed.err, /cannot resume: .*other ema \(ema=0\.99, given ema=0\.9\)/);
  const bad = await run(...common, "--steps", "2", "--ema", "1", "--out", `${root}/x1`, "--quiet");
  assert.equal(bad.code, 1);
  assert.match(bad.err, /ema \(the EMA decay\) must be in \(0, 1\)/);
  const ship = await runTask("ship_prior.ts", "--run", r, "--out", out);
  assert.equal(ship.code, 0, ship.err);
  await assertSameFile(`${out}/weights.safetensors`, `${r}/best.safetensors`);
  const md = readSafetensorsMetadata(await Deno.readFile(`${out}/weights.safetensors`));
  assert.deepEqual(JSON.parse(md.ema), { decay: 0.99, weights: "ema" });
  const card = JSON.parse(await Deno.readTextFile(`${out}/card.json`));
  assert.equal(card.training.ema, 0.99);
  assert.deepEqual(Object.keys(card.valid_loss_ema), ["2", "4"]);
  // the best validation loss of an EMA run is the EMA weights' (best.safetensors holds them)
  const emaLosses = Object.values(card.valid_loss_ema) as number[];
  assert.equal(Math.min(...emaLosses), Number(card.best_valid_loss.toFixed(4)));
  assert.match(card.weights, /^EMA weights \(decay 0\.99\) of the best EMA validation loss/);
});
