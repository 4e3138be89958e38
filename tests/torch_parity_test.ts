// The PyTorch bridge (python/soad_torch) against the Deno trainer and loaders: one training
// step's loss and parameter gradients from the same weights and batch, the observation channels
// of the augmented state on a store's windows, and a checkpoint written by the PyTorch trainer
// loaded the way the tasks load priors (same eps-hat). Skipped with a printed reason where
// /usr/bin/python3 lacks torch or zarr (apt-get install -y python3-torch python3-zarr).
import { equal, ok } from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { loadExperimentCheckpoint } from "../src/harness/experiment_inputs.ts";
import { initUNetWeights } from "../src/diffusion/unet_config.ts";
import {
  readSafetensors,
  readSafetensorsMetadata,
  writeSafetensors,
} from "../src/io/safetensors.ts";
import { augmentedLayout, augmentState, type ModelName } from "../src/obs/layout.ts";
import { ParamLayout } from "../src/train/param_layout.ts";
import { SampleComputer } from "../src/train/sample_step.ts";
import { StoreSource } from "../src/train/store_source.ts";
import { normals } from "../src/train/stream_rng.ts";
import { averageGradients } from "../src/train/trainer.ts";
import { tempDir, tinyStore } from "./experiment_helpers.ts";
import { python, relErr, torchReason } from "./torch_helpers.ts";

const reason = await torchReason();
if (reason) console.log(`skipping PyTorch bridge tests: ${reason}`);

const L = 3, H = 16, W = 16;

/** Training windows of the tiny store, first L frames of window i. */
function chunk(src: StoreSource, i: number): Float32Array {
  return src.window("train", i).slice(0, L * 2 * H * W);
}

Deno.test({
  name: "torch bridge: one training step's loss and gradients equal the Deno trainer's",
  ignore: reason !== null,
  fn: async () => {
    await selectBackend({ prefer: "wasm", quiet: true, threads: 1 });
    const dir = tempDir("soad_torch_grad_");
    const src = StoreSource.open(await tinyStore());
    // the 10-channel model: the state and every operator's channels (arctan3x, sin3x, vor2vel)
    for (const model of ["full", "sda"] as ModelName[]) {
      const C = augmentedLayout(model).channels;
      const unet = { channels: C, widths: [4, 8], blocks: 1, kernel: 3, frames: L };
      const weights = initUNetWeights(unet, 3);
      const wPath = `${dir}/${model}.weights.safetensors`;
      Deno.writeFileSync(wPath, writeSafetensors(weights, { unet: JSON.stringify(unet), model }));
      const tasks = [
        { x: chunk(src, 0), t: 0.375, noiseSeed: 11 },
        { x: chunk(src, 3), t: 0.8125, noiseSeed: 12 },
        { x: chunk(src, 5), t: 0.0625, noiseSeed: 13 },
      ];
      const comp = await SampleComputer.create(unet, { model, frames: L, height: H, width: W });
      const layout = new ParamLayout(unet);
      comp.setParams(layout.fromTorch(weights));
      const res = [];
      for (const t of tasks) res.push(await comp.gradient(t));
      comp.dispose();
      const grad = averageGradients(res.map((r) => r.grad));
      const loss = res.reduce((a, r) => a + r.loss, 0) / res.length;
      const n = L * C * H * W;
      const cat = (xs: Float32Array[]): Float32Array => {
        const out = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
        let o = 0;
        for (const x of xs) out.set(x, (o += x.length) - x.length);
        return out;
      };
      const bPath = `${dir}/${model}.batch.safetensors`, oPath = `${dir}/${model}.out.safetensors`;
      Deno.writeFileSync(
        bPath,
        writeSafetensors({
          x: { shape: [3, L, 2, H, W], data: cat(tasks.map((t) => t.x)) },
          t: { shape: [3], data: new Float32Array(tasks.map((t) => t.t)) },
          eps: { shape: [3, L, C, H, W], data: cat(tasks.map((t) => normals(t.noiseSeed, n))) },
        }, { model }),
      );
      await python(["-m", "soad_torch.parity", "grad", wPath, bPath, oPath]);
      const out = readSafetensors(Deno.readFileSync(oPath));
      // the observation channels as src/obs computes them (vor2vel: a spectral inversion)
      const z0 = cat(tasks.map((t) => augmentState(t.x, L, H, W, augmentedLayout(model))));
      const zErr = relErr(out.get("z0")!.data, z0);
      ok(zErr < 1e-6, `${model}: augmented state differs by ${zErr}`);
      const lossErr = Math.abs(out.get("loss")!.data[0] - loss) / loss;
      ok(lossErr < 1e-5, `${model}: loss ${out.get("loss")!.data[0]} vs ${loss}`);
      const g = layout.fromTorch(out, "grad.");
      equal(g.length, grad.length);
      // per tensor: the largest difference within float32 accumulation error of the largest entry
      for (const s of layout.slots) {
        const e = relErr(
          g.subarray(s.offset, s.offset + s.size),
          grad.subarray(s.offset, s.offset + s.size),
        );
        ok(
          e < 5e-5,
          `${model}: gradient of ${s.name} differs by ${e} (relative to its largest entry)`,
        );
      }
      ok(relErr(g, grad) < 2e-5, `${model}: gradients differ by ${relErr(g, grad)}`);
    }
  },
});

Deno.test({
  name: "torch bridge: a PyTorch-trained checkpoint loads like a prior and gives the same eps-hat",
  ignore: reason !== null,
  fn: async () => {
    await selectBackend({ prefer: "wasm", quiet: true, threads: 1 });
    const dir = tempDir("soad_torch_ckpt_");
    const store = await tinyStore();
    const run = `${dir}/run`;
    await python([
      "-m",
      "soad_torch.train",
      "--data",
      store,
      "--out",
      run,
      "--model",
      "arctan3x",
      "--steps",
      "2",
      "--batch-size",
      "2",
      "--frames",
      String(L),
      "--widths",
      "4,8",
      "--blocks",
      "1",
      "--kernel",
      "3",
      "--valid-every",
      "1",
      "--valid-samples",
      "2",
      "--quiet",
    ]);
    for (
      const f of [
        "checkpoint.safetensors",
        "model.safetensors",
        "best.safetensors",
        "log.csv",
        "train.json",
      ]
    ) {
      ok(Deno.statSync(`${run}/${f}`).isFile, `${f} written`);
    }
    const meta = readSafetensorsMetadata(Deno.readFileSync(`${run}/model.safetensors`));
    equal(meta.format, "soad-unet-weights/1");
    equal(meta.step, "2");
    const loaded = await loadExperimentCheckpoint(`${run}/model.safetensors`, "soad-arctan3x", L);
    ok(loaded.normalisation, "the checkpoint carries the store's normalisation");
    const C = 4, n = 2 * L * C * H * W;
    const z = normals(99, n), t = new Float32Array([0.25, 0.75]);
    const eps = await loaded.net.denoise(z, [2, L, C, H, W], t);
    loaded.net.dispose();
    Deno.writeFileSync(
      `${dir}/in.safetensors`,
      writeSafetensors({ z: { shape: [2, L, C, H, W], data: z }, t: { shape: [2], data: t } }),
    );
    await python([
      "-m",
      "soad_torch.parity",
      "eps",
      `${run}/model.safetensors`,
      `${dir}/in.safetensors`,
      `${dir}/out.safetensors`,
    ]);
    const ref = readSafetensors(Deno.readFileSync(`${dir}/out.safetensors`)).get("eps")!.data;
    const e = relErr(eps, ref);
    ok(e < 1e-5, `eps-hat differs by ${e}`);
    // the training checkpoint is soad's: its moments decode with the Deno checkpoint reader
    const { decodeCheckpoint } = await import("../src/train/checkpoint.ts");
    const st = decodeCheckpoint(Deno.readFileSync(`${run}/checkpoint.safetensors`));
    equal(st.step, 2);
    ok(st.v.some((x) => x > 0), "AdamW second moments are stored");
  },
});
