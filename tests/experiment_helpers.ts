// Helpers shared by the experiment tests (not a test file itself).

import { DATA_PRESETS } from "../src/data/config.ts";
import { generateDataset } from "../src/data/generate.ts";
import { initUNetWeights } from "../src/diffusion/unet_config.ts";
import { writeSafetensors } from "../src/io/safetensors.ts";

let store: Promise<string> | undefined;

/** A finalised tiny dataset store (16² grid, 10 snapshots per window, 1 test window), made once. */
export function tinyStore(): Promise<string> {
  store ??= (async () => {
    const dir = Deno.makeTempDirSync({ prefix: "soad_exp_" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const out = `${dir}/tiny.zarr`;
    await generateDataset({ out, config: DATA_PRESETS.tiny, workers: 0, progress: false });
    return out;
  })();
  return store;
}

/** Writes a small random-weight U-Net checkpoint for `model` (C from the model) and returns it. */
export function tinyCheckpoint(dir: string, model: string, channels: number, seed = 1): string {
  const w = initUNetWeights({ channels, widths: [4, 8], blocks: 1, kernel: 3, frames: 9 }, seed);
  const path = `${dir}/${model}.safetensors`;
  Deno.writeFileSync(path, writeSafetensors(w, { model }));
  return path;
}

/** A temporary directory removed when the test process ends. */
export function tempDir(prefix = "soad_exp_"): string {
  const dir = Deno.makeTempDirSync({ prefix });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  return dir;
}

/** Every file under `dir` by relative path, as text (for byte comparisons of results). */
export function readText(dir: string, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, Deno.readTextFileSync(`${dir}/${n}`)]));
}
