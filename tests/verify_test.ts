// deno task verify and random corruptions (issue 18): stores, checkpoints, weights files and
// .npy files fed bit flips, truncations and NaNs give the original numbers or a clear error —
// never other numbers without one.
import assert from "node:assert/strict";
import { SoadError } from "../src/errors.ts";
import { DATA_PRESETS } from "../src/data/config.ts";
import { generateDataset } from "../src/data/generate.ts";
import { openDatasetStore, readWindow } from "../src/data/store.ts";
import { Rng } from "../src/rng.ts";
import { encodeNpy, parseNpy } from "../src/io/npy.ts";
import { resolveTrainConfig } from "../src/train/config.ts";
import { decodeCheckpoint, encodeCheckpoint, writeWeights } from "../src/train/checkpoint.ts";
import { ParamLayout } from "../src/train/param_layout.ts";
import { verifyPath } from "../tasks/verify.ts";
import { tempStore } from "./data_helpers.ts";

const store = tempStore();
await generateDataset({ out: store, config: DATA_PRESETS.tiny, workers: 0, progress: false });

function corrupt(bytes: Uint8Array, rng: Rng, kind: number): Uint8Array {
  const b = bytes.slice();
  if (kind === 0) {
    const i = rng.int(b.length);
    b[i] ^= 1 << rng.int(8);
    return b;
  }
  if (kind === 1) return b.slice(0, rng.int(b.length));
  // a NaN (float32, little-endian) at a random 4-byte-aligned place
  const i = 4 * rng.int(Math.floor(b.length / 4));
  b.set([0x00, 0x00, 0xc0, 0x7f], i);
  return b;
}

Deno.test("verify: a clean store, prior folder and checkpoint are ok; damage is named, exit 1", async () => {
  const lines = await verifyPath(store);
  assert.equal(lines.length, 1);
  assert.ok(lines[0].ok, lines[0].detail);
  assert.match(lines[0].detail, /10\/10 windows intact, complete, sha256:/);
  for (const l of await verifyPath("models/sin3x-small")) assert.ok(l.ok, `${l.path}: ${l.detail}`);
  const copy = tempStore();
  await new Deno.Command("cp", { args: ["-r", store, copy] }).output();
  const p = `${copy}/q/2.0.0.0.0`;
  Deno.writeFileSync(p, corrupt(Deno.readFileSync(p), new Rng(1), 0));
  const bad = await verifyPath(copy);
  assert.equal(bad[0].ok, false);
  assert.match(bad[0].detail, /1 of 10 windows damaged \(first: 2\).*--resume/);
  const cli = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/verify.ts", copy, store],
    stdout: "piped",
  }).output();
  assert.equal(cli.code, 1);
  const out = new TextDecoder().decode(cli.stdout).trim().split("\n");
  assert.equal(out.length, 2);
  assert.match(out[0], /^DAMAGED {2}store/);
  assert.match(out[1], /^ok {7}store/);
});

Deno.test("property: 60 random corruptions of store chunks, checkpoints, weights and npy", async () => {
  const rng = new Rng(2024);
  const s = openDatasetStore(store);
  const chunkPath = `${store}/q/4.0.0.0.0`;
  const chunk = Deno.readFileSync(chunkPath);
  const good = readWindow(s, 4);
  const unet = { channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 };
  const config = resolveTrainConfig({ model: "sda", steps: 10, unet });
  const n = new ParamLayout(unet).size;
  const rnd = () => Float32Array.from({ length: n }, () => rng.normal());
  const state = { config, step: 3, params: rnd(), m: rnd(), v: rnd(), bestValid: null, data: {} };
  const ckpt = encodeCheckpoint(state);
  const dir = await Deno.makeTempDir();
  await writeWeights(`${dir}/w.safetensors`, state);
  const weights = Deno.readFileSync(`${dir}/w.safetensors`);
  const arr = Float64Array.from({ length: 64 }, (_, i) => i / 7);
  const npy = encodeNpy(arr, [2, 4, 8]);
  const tally = { errors: 0, same: 0 };
  const outcome = async (f: () => boolean | Promise<boolean>): Promise<void> => {
    let same: boolean;
    try {
      same = await f();
    } catch (e) {
      assert.ok(
        e instanceof SoadError,
        `untyped error ${(e as Error).name}: ${(e as Error).message}`,
      );
      tally.errors++;
      return;
    }
    assert.ok(same, "a corrupted input was read as other numbers without an error");
    tally.same++;
  };
  try {
    for (let k = 0; k < 15; k++) {
      const kind = k % 3;
      // store chunk
      Deno.writeFileSync(chunkPath, corrupt(chunk, rng, kind));
      await outcome(() => readWindow(s, 4).every((v, i) => Object.is(v, good[i])));
      // checkpoint
      const c = corrupt(ckpt, rng, kind);
      await outcome(() => {
        const d = decodeCheckpoint(c);
        return d.params.every((v, i) => Object.is(v, state.params[i])) &&
          d.v.every((v, i) => Object.is(v, state.v[i]));
      });
      // weights file, read as deno task verify reads it
      const wp = `${dir}/c${k}.safetensors`;
      Deno.writeFileSync(wp, corrupt(weights, rng, kind));
      await outcome(async () => {
        const [l] = await verifyPath(wp);
        if (!l.ok) throw new SoadError(l.detail);
        return true;
      });
      // npy: header damage and truncation are errors (the format has no checksum of its data,
      // so only the header and the length are checked here)
      if (kind === 1) {
        const t = corrupt(npy, rng, 1);
        await outcome(() => {
          const r = parseNpy(t);
          return r.data.length === 64 && (r.data as Float64Array).every((v, i) => v === arr[i]);
        });
      }
    }
  } finally {
    Deno.writeFileSync(chunkPath, chunk);
  }
  assert.ok(tally.errors > 30, JSON.stringify(tally));
});

Deno.test("verify: a checkpoint's EMA weights are checked too (a NaN there is named)", async () => {
  const unet = { channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 };
  const config = resolveTrainConfig({ model: "sda", steps: 4, unet, ema: 0.99 });
  const n = new ParamLayout(unet).size;
  const z = () => new Float32Array(n);
  const ema = z();
  ema[3] = NaN; // with a matching CRC: only the value check can tell
  const dir = Deno.makeTempDirSync({ prefix: "soad_verify_ema_" });
  const path = `${dir}/checkpoint.safetensors`;
  const state = { config, step: 1, params: z(), m: z(), v: z(), bestValid: null, data: {}, ema };
  Deno.writeFileSync(path, encodeCheckpoint(state));
  const [line] = await verifyPath(path);
  assert.equal(line.ok, false);
  assert.equal(line.detail, "ema value NaN at flat index 3 is not finite");
  ema[3] = 0;
  Deno.writeFileSync(path, encodeCheckpoint(state));
  assert.ok((await verifyPath(path))[0].ok);
  Deno.removeSync(dir, { recursive: true });
});
