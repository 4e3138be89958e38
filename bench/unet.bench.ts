/**
 * U-Net throughput on wasm, the matrix of issue 4: forward (denoise), forward + input VJP
 * (denoiseVjp, the sampler's unit of work) and a training step (ε̂ and the weights' gradients,
 * computed per window as the trainer does), paper widths (16, 32, 64) × 3, C = 4, 9 frames, on
 * grids 32 and 64 with batch 1 and 8; plus the small fixture config at 64, batch 1, for scale.
 * The paper-width cases take seconds to minutes per iteration on single-threaded wasm.
 *
 *     deno bench -A bench/unet.bench.ts
 *     deno bench -A bench/unet.bench.ts --filter "32x32"   # a subset
 */
import { defaultThreads, selectBackend } from "../src/backend/select.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { createUNet, type UNet } from "../src/diffusion/unet.ts";
import { paperUNetConfig, type UNetConfig } from "../src/diffusion/unet_config.ts";
import { Rng } from "../src/rng.ts";

// the conv engine on the cores (at most 2), as the tasks run it; SOAD_THREADS=1 for one thread
const threads = Number(Deno.env.get("SOAD_THREADS") ?? defaultThreads());
await selectBackend({ prefer: "wasm", quiet: true, threads });

const SMALL: UNetConfig = { channels: 4, widths: [4, 8, 16], blocks: 2, kernel: 5, frames: 9 };
const cases: [string, UNetConfig, number, number][] = [
  ["small", SMALL, 64, 1],
  ["paper", paperUNetConfig(4), 32, 1],
  ["paper", paperUNetConfig(4), 32, 8],
  ["paper", paperUNetConfig(4), 64, 1],
  ["paper", paperUNetConfig(4), 64, 8],
];

const nets = new Map<string, UNet>();
for (const [label, config, grid, batch] of cases) {
  if (!nets.has(label)) nets.set(label, await createUNet(config, { seed: 1 }));
  const net = nets.get(label)!;
  const shape: WindowShape = [batch, 9, 4, grid, grid];
  const one: WindowShape = [1, 9, 4, grid, grid];
  const per = 9 * 4 * grid * grid;
  const rng = new Rng(grid * 100 + batch);
  const z = new Float32Array(batch * per).map(() => rng.normal());
  const w = new Float32Array(batch * per).map(() => rng.normal());
  const t = new Float32Array(batch).map(() => rng.uniform());
  const heavy = label === "paper" && (grid === 64 || batch === 8);
  const iters = { n: heavy ? 1 : 3, warmup: 1 };
  const group = `${label} ${batch}x9x4x${grid}x${grid}`;
  Deno.bench({
    name: `forward ${group}`,
    group,
    baseline: true,
    ...iters,
    fn: async () => {
      await net.denoise(z, shape, t);
    },
  });
  Deno.bench({
    name: `forward+VJP ${group}`,
    group,
    ...iters,
    fn: async () => {
      await net.denoiseVjp(z, shape, t, w);
    },
  });
  Deno.bench({
    name: `training step ${group}`,
    group,
    ...iters,
    fn: async () => {
      for (let b = 0; b < batch; b++) {
        const s = b * per;
        await net.denoiseParamVjp(
          z.subarray(s, s + per),
          one,
          t.subarray(b, b + 1),
          w.subarray(s, s + per),
        );
      }
    },
  });
}
