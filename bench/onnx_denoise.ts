/**
 * `deno run -A bench/onnx_denoise.ts [--reps 5] [--rounds 2] [--grid 64] [--configs small,paper]`
 *
 * Forward throughput of the denoiser, ORT-wasm with 1 and 2 threads (and the "wrap" padding
 * variant) vs tfjs-wasm, for z [1, 9, 4, grid, grid]. ORT fixes its wasm thread count once per
 * process, so every engine runs in its own child process; the engines are run in turn for
 * `--rounds` rounds (so that a burst of load from other processes hits all of them alike) and the
 * parent prints, per engine, the best of the rounds' medians of ms per forward, the speed-up over
 * tfjs-wasm, and the load average before and after.
 * @module
 */

import { parseArgs } from "node:util";
import { selectBackend } from "../src/backend/select.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { initUNetWeights, paperUNetConfig, type UNetConfig } from "../src/diffusion/unet_config.ts";
import { createOrtDenoiser } from "../src/onnx/engine.ts";
import { exportOnnx } from "../src/onnx/export.ts";
import { Rng } from "../src/rng.ts";

const CONFIGS: Record<string, UNetConfig> = {
  small: { channels: 4, widths: [4, 8, 16], blocks: 2, kernel: 5, frames: 9 },
  paper: paperUNetConfig(4),
};
const ENGINES = ["tfjs-wasm", "ort-wasm-1", "ort-wasm-2", "ort-wasm-2-wrap"] as const;
type Engine = typeof ENGINES[number];

interface Timing {
  engine: Engine;
  config: string;
  ms: number[];
}

/** One engine in this process: median-able list of ms per forward (after one warm-up). */
async function child(engine: Engine, name: string, grid: number, reps: number): Promise<Timing> {
  const config = CONFIGS[name];
  const weights = initUNetWeights(config, 0);
  const shape: WindowShape = [1, 9, config.channels, grid, grid];
  const rng = new Rng(1);
  const z = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => rng.normal());
  const t = new Float32Array([0.5]);
  let run: () => Promise<Float32Array>;
  let done: () => Promise<void>;
  if (engine === "tfjs-wasm") {
    await selectBackend({ prefer: "wasm", quiet: true });
    const net = await createUNet(config, { weights });
    run = () => net.denoise(z, shape, t);
    done = () => Promise.resolve(net.dispose());
  } else {
    const bytes = await exportOnnx({ config, weights }, {
      circularPad: engine.endsWith("wrap") ? "wrap" : "slice",
    });
    const net = await createOrtDenoiser(bytes, {
      provider: "wasm",
      numThreads: engine.startsWith("ort-wasm-1") ? 1 : 2,
      quiet: true,
    });
    run = () => net.denoise(z, shape, t);
    done = () => net.dispose();
  }
  await run();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    ms.push(performance.now() - t0);
  }
  await done();
  return { engine, config: name, ms };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      child: { type: "string" },
      config: { type: "string", default: "small" },
      configs: { type: "string", default: "small,paper" },
      grid: { type: "string", default: "64" },
      reps: { type: "string", default: "5" },
      rounds: { type: "string", default: "2" },
    },
  });
  const grid = Number(a.grid), reps = Number(a.reps);
  if (a.child) {
    console.log(JSON.stringify(await child(a.child as Engine, a.config!, grid, reps)));
    return;
  }
  const self = new URL(import.meta.url).pathname;
  const rounds = Number(a.rounds);
  const load = (): string => Deno.loadavg().map((v) => v.toFixed(2)).join(" ");
  console.log(
    `denoiser forward, z [1, 9, 4, ${grid}, ${grid}]: best of ${rounds} rounds of (median of ` +
      `${reps} after 1 warm-up); ${navigator.hardwareConcurrency} cores; load ${load()}`,
  );
  const names = a.configs!.split(",");
  const best = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      for (const engine of ENGINES) {
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", self, "--child", engine, "--config", name]
            .concat(["--grid", String(grid), "--reps", String(reps)]),
          stdout: "piped",
          stderr: "piped",
        }).output();
        const key = `${name}|${engine}`;
        if (!out.success) {
          console.log(`${key}: failed: ${new TextDecoder().decode(out.stderr)}`);
          continue;
        }
        const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
        const r = JSON.parse(text) as Timing;
        best.set(key, [...(best.get(key) ?? []), median(r.ms)]);
      }
    }
  }
  console.log("config | engine          | ms/forward | rounds' medians | speed-up vs tfjs-wasm");
  for (const name of names) {
    const base = Math.min(...(best.get(`${name}|tfjs-wasm`) ?? [NaN]));
    for (const engine of ENGINES) {
      const m = best.get(`${name}|${engine}`);
      if (!m) continue;
      const b = Math.min(...m);
      console.log(
        `${name.padEnd(6)} | ${engine.padEnd(15)} | ${b.toFixed(1).padStart(10)} | ${
          m.map((v) => v.toFixed(0)).join(", ").padEnd(15)
        } | ${(base / b).toFixed(2)}×`,
      );
    }
  }
  console.log(`load average after: ${load()}`);
}

if (import.meta.main) await main();
