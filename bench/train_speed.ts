/**
 * Training throughput on wasm with 0 (main thread), 1 and 2 data-parallel Workers, at a 64×64
 * grid, 9 frames, C = 4 (arctan3x), for the small (4, 8, 16)×2 network and the paper's widths
 * (16, 32, 64)×3. Prints seconds per step and samples/s (first step excluded: warm-up), and the
 * same training step (ε-MSE, backward, AdamW) of the PyTorch peer (`../shared/peers/unet_torch.py`,
 * 2 threads, same batch) run in the same process tree, with the ratio of throughputs.
 *
 *     deno run -A bench/train_speed.ts [--paper-steps 2] [--small-steps 3] [--batch 4]
 *       [--workers 0,1,2] [--no-peer]
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
    "no-peer": { type: "boolean", default: false },
  },
});

const PEER_DIR = new URL("../../shared/peers/", import.meta.url).pathname;
const PEER = `
import sys, time, torch
sys.path.insert(0, ${JSON.stringify(PEER_DIR)})
from unet_torch import SOADUNet as UNet
torch.set_num_threads(2)
torch.manual_seed(0)
widths, blocks, B, steps = eval(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
net = UNet(channels=4, widths=widths, blocks=blocks, kernel=5)
opt = torch.optim.AdamW(net.parameters(), lr=1.5e-4, weight_decay=7.5e-6)
x = torch.randn(B, 9, 4, 64, 64)
def step():
    t = torch.rand(B); eps = torch.randn_like(x)
    a = torch.cos(t * 1.5707963)[:, None, None, None, None]
    z = a * x + torch.sqrt(1 - a ** 2) * eps
    opt.zero_grad(); loss = ((net(z, t) - eps) ** 2).mean(); loss.backward(); opt.step()
step()
best = float("inf")
for _ in range(steps):
    t0 = time.perf_counter(); step(); best = min(best, time.perf_counter() - t0)
print(best)
`;

/** Seconds per training step of the PyTorch peer (best of `steps`), or NaN without python3-torch. */
async function peerStep(unet: UNetConfig, steps: number): Promise<number> {
  const blocks = Array.isArray(unet.blocks) ? unet.blocks[0] : unet.blocks;
  const out = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", PEER, JSON.stringify(unet.widths), String(blocks), String(batch), String(steps)],
    stderr: "piped",
  }).output().catch(() => null);
  if (!out?.success) {
    console.log("  (PyTorch peer unavailable: apt-get install python3-torch)");
    return NaN;
  }
  return Number(new TextDecoder().decode(out.stdout).trim());
}
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
  const torch = values["no-peer"] ? NaN : await peerStep(unet, Math.max(2, steps));
  if (Number.isFinite(torch)) {
    console.log(
      `${label} 64x64 B=${batch} PyTorch (2 threads): ${torch.toFixed(2)} s/step, ` +
        `${(batch / torch).toFixed(2)} samples/s`,
    );
  }
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
    const ratio = Number.isFinite(torch) ? `, ${(torch / s).toFixed(2)}x PyTorch` : "";
    console.log(
      `${label} 64x64 B=${batch} workers=${workers}: ${s.toFixed(2)} s/step, ` +
        `${(1 / s).toFixed(3)} steps/s, ${(batch / s).toFixed(2)} samples/s${ratio}`,
    );
    await Deno.remove(out, { recursive: true });
  }
}
