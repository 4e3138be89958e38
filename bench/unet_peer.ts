// The SOAD U-Net against the PyTorch peer (../shared/peers/unet_torch.py, CPU, 2 threads), timed in
// the same run: forward, forward + input VJP (the sampler's unit of work) and a training step
// (forward + weight gradients of the ε-MSE), widths (16, 32, 64), 3 blocks, C = 4, L = 9.
// Run: deno run -A bench/unet_peer.ts [grid ...] [--threads N] [--batch 1,8] [--rounds R]   (needs
// /usr/bin/python3 with python3-torch)
import { defaultThreads, selectBackend } from "../src/backend/select.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { Rng } from "../src/rng.ts";

const PEER_DIR = new URL("../../shared/peers/", import.meta.url).pathname;
const PEER = `
import sys, time, torch
sys.path.insert(0, ${JSON.stringify(PEER_DIR)})
from unet_torch import SOADUNet as UNet
torch.set_num_threads(2)
torch.manual_seed(0)
grid, B, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
net = UNet(channels=4, widths=(16, 32, 64), blocks=3, kernel=5)
z = torch.randn(B, 9, 4, grid, grid); t = torch.rand(B); w = torch.randn_like(z)
def best(f):
    f()
    out = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter(); f(); out = min(out, time.perf_counter() - t0)
    return out
def fwd():
    with torch.no_grad(): net(z, t)
def vjp():
    zz = z.clone().requires_grad_(True); (net(zz, t) * w).sum().backward()
def train():
    net.zero_grad(); ((net(z, t) - w) ** 2).mean().backward()
print(best(fwd), best(vjp), best(train))
`;

async function peer(grid: number, B: number, reps: number): Promise<number[]> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", PEER, String(grid), String(B), String(reps)],
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(
      `the PyTorch peer failed (apt-get install python3-torch?):\n${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return text.split(/\s+/).map(Number);
}

async function best(f: () => Promise<unknown>, reps: number): Promise<number> {
  await f();
  let b = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await f();
    b = Math.min(b, (performance.now() - t0) / 1000);
  }
  return b;
}

// --threads N: conv-engine threads (default: the cores, at most 2, like PyTorch's 2 threads);
// --batch LIST: windows per call (default 1)
function flag(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}
const threads = Number(flag("--threads") ?? defaultThreads());
const batches = (flag("--batch") ?? "1").split(",").map(Number);
const rest = Deno.args.filter((a, i) =>
  !a.startsWith("--") && !["--threads", "--batch", "--rounds"].includes(Deno.args[i - 1])
);
const backend = await selectBackend({ quiet: true, threads });
const grids = rest.length ? rest.map(Number) : [32, 64];
// --rounds R: alternate ours and PyTorch R times and keep each side's best (a shared VM's speed
// drifts by 2x over minutes; alternating exposes both sides to the same drift)
const rounds = Number(flag("--rounds") ?? 1);
console.log(
  `backend ${backend.name}, ${backend.threads ?? 1} thread(s); seconds per call (best of 3 × ` +
    `${rounds} alternating round(s)); ratio = PyTorch time / ours`,
);
console.log(
  "grid B | forward: ours torch ratio | fwd+VJP: ours torch ratio | train step: ours torch ratio",
);
for (const grid of grids) {
  for (const B of batches) {
    const reps = 3;
    const shape: [number, number, number, number, number] = [B, 9, 4, grid, grid];
    const n = shape.reduce((a, b) => a * b, 1);
    const rng = new Rng(1);
    const z = Float32Array.from({ length: n }, () => rng.normal());
    const w = Float32Array.from({ length: n }, () => rng.normal());
    const t = Float32Array.from({ length: B }, () => rng.uniform());
    const net = await createUNet({
      channels: 4,
      widths: [16, 32, 64],
      blocks: 3,
      kernel: 5,
      frames: 9,
    });
    const ours = [Infinity, Infinity, Infinity], theirs = [Infinity, Infinity, Infinity];
    for (let r = 0; r < rounds; r++) {
      const o = [
        await best(() => net.denoise(z, shape, t), reps),
        await best(() => net.denoiseVjp(z, shape, t, w), reps),
        await best(() => net.denoiseParamVjp(z, shape, t, w), reps),
      ];
      const p = await peer(grid, B, reps);
      for (let i = 0; i < 3; i++) {
        ours[i] = Math.min(ours[i], o[i]);
        theirs[i] = Math.min(theirs[i], p[i]);
      }
    }
    net.dispose();
    const cell = (i: number) =>
      `${ours[i].toFixed(3)} ${theirs[i].toFixed(3)} ${(theirs[i] / ours[i]).toFixed(2)}x`;
    console.log(`${grid} ${B} | ${cell(0)} | ${cell(1)} | ${cell(2)}`);
  }
}
