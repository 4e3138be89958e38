/**
 * Training throughput on wasm with 0 (main thread), 1 and 2 data-parallel Workers, at a 64×64
 * grid, 9 frames, C = 4 (arctan3x), for the small (4, 8, 16)×2 network and the paper's widths
 * (16, 32, 64)×3. Prints seconds per step and samples/s (first step excluded: warm-up).
 *
 *     deno run -A bench/train_speed.ts [--paper-steps 2] [--small-steps 3] [--batch 4]
 */
import { parseArgs } from "node:util";
import { defaultThreads, selectBackend } from "../src/backend/select.ts";
import { paperUNetConfig, type UNetConfig } from "../src/diffusion/unet_config.ts";
import { SyntheticSource } from "../src/train/source.ts";
import { train } from "../src/train/trainer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "paper-steps": { type: "string", default: "2" },
    "small-steps": { type: "string", default: "3" },
    batch: { type: "string", default: "4" },
    workers: { type: "string", default: "0,1,2" },
  },
});
// workers = 0 trains on this thread with the conv engine on the cores (at most 2)
await selectBackend({ prefer: "wasm", quiet: true, threads: defaultThreads() });
const batch = Number(values.batch);
const source = new SyntheticSource({ height: 64, width: 64, length: 10 });
const configs: [string, UNetConfig, number][] = [
  ["small (4,8,16)x2", { channels: 4, widths: [4, 8, 16], blocks: 2, kernel: 5, frames: 9 }, 0],
  ["paper (16,32,64)x3", paperUNetConfig(4), 0],
];
configs[0][2] = Number(values["small-steps"]);
configs[1][2] = Number(values["paper-steps"]);

for (const [label, unet, steps] of configs) {
  for (const workers of values.workers.split(",").map(Number)) {
    const out = await Deno.makeTempDir({ prefix: "soad_train_bench_" });
    const r = await train({
      out,
      source,
      config: { model: "arctan3x", unet, steps: steps + 1, batchSize: batch, validEvery: 0 },
      workers,
      progress: false,
    });
    const timed = r.records.slice(1);
    const s = timed.reduce((a, x) => a + x.seconds, 0) / timed.length;
    console.log(
      `${label} 64x64 B=${batch} workers=${workers}: ${s.toFixed(2)} s/step, ` +
        `${(1 / s).toFixed(3)} steps/s, ${(batch / s).toFixed(2)} samples/s`,
    );
    await Deno.remove(out, { recursive: true });
  }
}
