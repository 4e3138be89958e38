/**
 * Profile of one U-Net training sample on wasm: kernel time by kernel name (with `--profile`;
 * `--shapes` adds the top kernels by input shapes), and the min wall and CPU times of denoise /
 * denoiseVjp / denoiseParamVjp at Bx9x4xGxG (G = `--grid`, default 64; B = `--batch`, default 1) over `reps` repetitions.
 *
 *     deno run -A bench/unet_profile.ts [small|paper] [reps] [--profile] [--shapes] [--threads N] [--grid G] [--batch B]
 */
import process from "node:process";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend/select.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { paperUNetConfig, type UNetConfig } from "../src/diffusion/unet_config.ts";
import { Rng } from "../src/rng.ts";

import { setConvThreads } from "../src/backend/wasm_conv.ts";

await selectBackend({ prefer: "wasm", quiet: true });
const ti = Deno.args.indexOf("--threads");
console.log("conv threads", await setConvThreads(ti >= 0 ? Number(Deno.args[ti + 1]) : 1));
const which = Deno.args[0] ?? "paper";
const reps = Number(Deno.args[1] ?? 3);
const config: UNetConfig = which === "small"
  ? { channels: 4, widths: [4, 8, 16], blocks: 2, kernel: 5, frames: 9 }
  : paperUNetConfig(4);
const gi = Deno.args.indexOf("--grid");
const grid = gi >= 0 ? Number(Deno.args[gi + 1]) : 64;
const bi = Deno.args.indexOf("--batch");
const batch = bi >= 0 ? Number(Deno.args[bi + 1]) : 1;
const shape: WindowShape = [batch, 9, 4, grid, grid];
const size = shape.reduce((a, b) => a * b, 1);
const rng = new Rng(1);
const z = new Float32Array(size).map(() => rng.normal());
const w = new Float32Array(size).map(() => rng.normal());
const t = new Float32Array(batch).fill(0.4);
const net = await createUNet(config, { seed: 1 });
await net.denoiseParamVjp(z, shape, t, w);

if (Deno.args.includes("--profile")) {
  const prof = await tf.profile(async () => {
    await net.denoiseParamVjp(z, shape, t, w);
  });
  const by = new Map<string, { ms: number; n: number }>();
  let total = 0;
  for (const k of prof.kernels) {
    const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const key2 = k.name;
    for (const kk of [key2]) {
      const e = by.get(kk) ?? { ms: 0, n: 0 };
      e.ms += ms;
      e.n++;
      by.set(kk, e);
    }
    total += ms;
    void key;
  }
  console.log(`kernels ${prof.kernels.length}, total kernel ms ${total.toFixed(0)}`);
  for (const [k, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) {
    console.log(`${k.padEnd(28)} ${e.ms.toFixed(1).padStart(8)} ms  x${e.n}`);
  }
  if (Deno.args.includes("--shapes")) {
    const bs = new Map<string, { ms: number; n: number }>();
    for (const k of prof.kernels) {
      const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
      const e = bs.get(key) ?? { ms: 0, n: 0 };
      e.ms += k.kernelTimeMs as number;
      e.n++;
      bs.set(key, e);
    }
    for (const [k, e] of [...bs].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40)) {
      console.log(`${e.ms.toFixed(1).padStart(8)} ms x${e.n}  ${k}`);
    }
  }
}

// wall time, and process CPU time (user + system): tfjs-wasm runs on one thread, so on a
// machine shared with other jobs the CPU time is the steadier measure
async function time(label: string, f: () => Promise<unknown>): Promise<void> {
  const ts: number[] = [];
  const cs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cs.push((c.user + c.system) / 1000);
  }
  const s = (x: number) => (x / 1000).toFixed(3);
  console.log(
    `${which} ${label.padEnd(16)} wall min ${s(Math.min(...ts))} s, cpu min ${
      s(Math.min(...cs))
    } s  (wall ${ts.map(s).join(" ")})`,
  );
}
await time("denoise", () => net.denoise(z, shape, t));
await time("denoiseVjp", () => net.denoiseVjp(z, shape, t, w));
await time("denoiseParamVjp", () => net.denoiseParamVjp(z, shape, t, w));
console.log("tensors", tf.memory().numTensors);
net.dispose();
