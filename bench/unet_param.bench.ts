/**
 * U-Net training throughput on wasm: ε̂ and the parameter gradients of Σ w ⊙ ε̂
 * (denoiseParamVjp, the per-sample training backward) for one 9-frame window of C = 4 channels
 * on a 64×64 grid, with the small fixture config and the paper's widths; denoise as baseline.
 *
 *     deno bench -A bench/unet_param.bench.ts
 */
import { selectBackend } from "../src/backend/select.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { paperUNetConfig, type UNetConfig } from "../src/diffusion/unet_config.ts";
import { Rng } from "../src/rng.ts";

await selectBackend({ prefer: "wasm", quiet: true });

const shape: WindowShape = [1, 9, 4, 64, 64];
const size = shape.reduce((a, b) => a * b, 1);
const rng = new Rng(1);
const z = new Float32Array(size).map(() => rng.normal());
const w = new Float32Array(size).map(() => rng.normal());
const t = new Float32Array([0.4]);

const configs: [string, UNetConfig, number][] = [
  ["small (4,8,16)x2", { channels: 4, widths: [4, 8, 16], blocks: 2, kernel: 5, frames: 9 }, 8],
  ["paper (16,32,64)x3", paperUNetConfig(4), 3],
];

for (const [label, config, n] of configs) {
  const net = await createUNet(config, { seed: 1 });
  await net.denoiseParamVjp(z, shape, t, w); // warm-up (XNNPACK operators, heap growth)
  Deno.bench({
    name: `denoise ${label} 1x9x4x64x64`,
    group: label,
    baseline: true,
    n,
    warmup: 1,
    fn: async () => {
      await net.denoise(z, shape, t);
    },
  });
  Deno.bench({
    name: `denoiseParamVjp ${label} 1x9x4x64x64`,
    group: label,
    n,
    warmup: 1,
    fn: async () => {
      await net.denoiseParamVjp(z, shape, t, w);
    },
  });
}
