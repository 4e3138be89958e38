// Prior sampling on the ORT engine: the sampler driven by ORT-wasm follows the one driven by the
// tfjs U-Net, and `deno task sample-prior` / `deno task export-onnx` run end to end.
import assert from "node:assert/strict";
import { runSampler } from "../src/assim/sampler.ts";
import { priorNoise } from "../src/assim/score.ts";
import { selectBackend } from "../src/backend/select.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { initUNetWeights, type UNetConfig } from "../src/diffusion/unet_config.ts";
import { parseNpy } from "../src/io/npy.ts";
import { createOrtDenoiser } from "../src/onnx/engine.ts";
import { exportOnnx } from "../src/onnx/export.ts";
import { loadOnnxModel } from "../src/onnx/model_file.ts";

const FIXTURE = new URL("./fixtures/unet/small.weights.safetensors", import.meta.url)
  .pathname;
const opts = { sanitizeOps: false, sanitizeResources: false };

async function task(name: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const path = new URL(`../tasks/${name}.ts`, import.meta.url).pathname;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout) + d.decode(r.stderr) };
}

Deno.test({
  name: "onnx prior: runSampler on ORT-wasm follows tfjs-wasm (4 steps, 2 corrections)",
  ...opts,
  fn: async () => {
    const config: UNetConfig = { channels: 2, widths: [4, 8], blocks: 1, kernel: 5, frames: 3 };
    // small weights so that ε̂ stays O(1) along the trajectory
    const weights = initUNetWeights(config, 2);
    for (const t of weights.values()) t.data.forEach((v, i, a) => (a[i] = 0.3 * v));
    const shape: WindowShape = [2, 3, 2, 8, 8];
    const o = { steps: 4, corrections: 2, seed: 5 };
    await selectBackend({ prefer: "wasm", quiet: true });
    const unet = await createUNet(config, { weights });
    const ref = await runSampler(priorNoise(unet), shape, o);
    unet.dispose();
    const ort = await createOrtDenoiser(await exportOnnx({ config, weights }), {
      provider: "wasm",
      quiet: true,
    });
    const got = await runSampler(priorNoise(ort), shape, o);
    await ort.dispose();
    assert.equal(got.evaluations, ref.evaluations);
    let err = 0, mag = 0;
    for (let i = 0; i < ref.samples.length; i++) {
      err = Math.max(err, Math.abs(got.samples[i] - ref.samples[i]));
      mag = Math.max(mag, Math.abs(ref.samples[i]));
    }
    assert.ok(err <= 1e-4 * Math.max(1, mag), `max error ${err} (max |ref| ${mag})`);
  },
});

Deno.test({
  name: "onnx tasks: export-onnx then sample-prior write model.onnx, prior.png, samples.npy",
  ...opts,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const e = await task("export_onnx", "--checkpoint", FIXTURE, "--out", `${dir}/m.onnx`);
      assert.equal(e.code, 0, e.out);
      const m = await loadOnnxModel(`${dir}/m.onnx`);
      assert.equal(m.source, "onnx");
      assert.deepEqual(m.config.widths, [4, 8, 16]);
      const st = await loadOnnxModel(FIXTURE);
      assert.equal(st.source, "safetensors");
      assert.deepEqual(st.config, m.config);
      await Deno.writeTextFile(`${dir}/junk.onnx`, "not a model");
      await assert.rejects(loadOnnxModel(`${dir}/junk.onnx`), /neither a safetensors|without soad/);
      const r = await task(
        "sample_prior",
        ...["--model", `${dir}/m.onnx`, "--samples", "1", "--steps", "3", "--grid", "16"],
        ...["--provider", "wasm", "--out", `${dir}/s`],
      );
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /RMS per channel \(normalised units\): (\d+\.\d{3}, ){3}\d+\.\d{3}/);
      assert.match(r.out, /K = 3, t-max 1, tau 0\.25, 16x16 \(no prior metadata: spec defaults\)/);
      const png = await Deno.readFile(`${dir}/s/prior.png`);
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
      const s = parseNpy(await Deno.readFile(`${dir}/s/samples.npy`));
      assert.deepEqual(s.shape, [1, 9, 4, 16, 16]);
      // the printed RMS per channel is that of the written samples
      const printed = r.out.match(/RMS per channel \(normalised units\): ([\d., ]+)/)![1]
        .split(",").map(Number);
      const data = s.data as Float32Array;
      for (let c = 0; c < 4; c++) {
        let sq = 0, k = 0;
        for (let f = 0; f < 9; f++) {
          for (let i = 0; i < 256; i++, k++) sq += data[(f * 4 + c) * 256 + i] ** 2;
        }
        const rms = Math.sqrt(sq / k);
        assert.ok(
          Math.abs(printed[c] - rms) <= 5e-4,
          `channel ${c}: printed ${printed[c]}, ${rms}`,
        );
      }
      const bad = await task(
        "sample_prior",
        "--model",
        `${dir}/m.onnx`,
        "--grid",
        "10",
        "--out",
        `${dir}/g`,
      );
      assert.equal(bad.code, 2, bad.out);
      assert.match(bad.out, /--grid must be a multiple of 4/);
      const late = await task("sample_prior", "--model", `${dir}/m.onnx`, "--t-max", "1.5");
      assert.equal(late.code, 2, late.out);
      assert.match(late.out, /--t-max must be in \(0, 1\], got 1\.5/);
      // an existing --out is refused without --force and kept (issue 18, case 6)
      const before = await Deno.readFile(`${dir}/m.onnx`);
      const again = await task("export_onnx", "--checkpoint", FIXTURE, "--out", `${dir}/m.onnx`);
      assert.equal(again.code, 2, again.out);
      assert.match(again.out, /m\.onnx already exists; .*--force/);
      assert.deepEqual(await Deno.readFile(`${dir}/m.onnx`), before);
      // an existing, non-empty --out is refused before any work
      const busy = await task("sample_prior", "--model", `${dir}/m.onnx`, "--out", `${dir}/s`);
      assert.equal(busy.code, 2, busy.out);
      assert.match(busy.out, /already exists and is not empty.*--force/);
      // a shipped prior by name: t-max, K and grid come from its metadata
      const shipped = await task(
        "sample_prior",
        ...["--model", "sda", "--samples", "1", "--steps", "1", "--corrections", "0"],
        ...["--provider", "wasm", "--out", `${dir}/sda`],
      );
      assert.equal(shipped.code, 0, shipped.out);
      assert.match(
        shipped.out,
        /K = 1, t-max 0\.85, tau 0\.25, 64x64 \(defaults from the prior's metadata\)/,
      );
      const none = await task("export_onnx", "--out", `${dir}/x.onnx`);
      assert.equal(none.code, 2);
      assert.match(none.out, /--checkpoint and --out are required/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
