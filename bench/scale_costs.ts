/**
 * Per-unit costs of the paper-scale pipeline, measured here, and the CPU hours per stage they
 * imply (the figures of docs/scale-out.md): a QG step of the paper's 512² simulation, the U-Net
 * training gradient of one sample and one SOAD Π evaluation (ε̂ + VJP) at 256² with the paper's
 * widths (wasm backend), and the same training sample on PyTorch (the python/soad_torch bridge's
 * network, CPU) in the same run, with the ratio.
 *
 *     deno run -A bench/scale_costs.ts              # 256² (the paper's grid; a few minutes)
 *     deno run -A bench/scale_costs.ts --grid 64    # a quick look
 *
 * Totals: generation = seeds × QG steps per seed × step cost (one core per seed); training =
 * steps × global batch × per-sample cost; evaluation = cells × (K + 1) Π evaluations (a sampler
 * step is one Π evaluation plus element-wise work: bench/sampler.bench.ts).
 * @module
 */
import { parseArgs } from "node:util";
import { defaultThreads, selectBackend } from "../src/backend/select.ts";
import { DATA_PRESETS } from "../src/data/config.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import { paperUNetConfig } from "../src/diffusion/unet_config.ts";
import { enumerateGrid } from "../src/assim/experiment_grid.ts";
import { planObservations } from "../src/assim/plan.ts";
import { soadNoise } from "../src/assim/soad.ts";
import { augmentedLayout } from "../src/obs/layout.ts";
import { randomMask } from "../src/obs/mask.ts";
import { observe } from "../src/obs/observe.ts";
import { arctan3x } from "../src/obs/pointwise.ts";
import { icNoise } from "../src/qg/initial.ts";
import { QGModel } from "../src/qg/model.ts";
import { Rng } from "../src/rng.ts";
import { SampleComputer } from "../src/train/sample_step.ts";

const { values: a } = parseArgs({
  args: Deno.args,
  options: { grid: { type: "string", default: "256" }, "no-torch": { type: "boolean" } },
});
const n = Number(a.grid);
const threads = defaultThreads();
const time = async (f: () => unknown | Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
};

// 1. QG step at the paper's simulation grid (512², dt 900 s)
const paper = DATA_PRESETS.paper;
const qg = new QGModel({ nx: paper.qg.nx, dt: paper.qg.dt });
qg.setQ(icNoise(paper.qg.nx, paper.qg.nx, 0));
qg.step(5);
let qgSteps = 0;
const qgT = await time(() => {
  const t0 = performance.now();
  while (performance.now() - t0 < 3000) {
    qg.step(5);
    qgSteps += 5;
  }
});
const qgStep = qgT / qgSteps;
const spd = Math.round(86400 / paper.qg.dt);
const stepsPerSeed = (paper.warmupDays + (paper.windowsPerSeed - 1) * paper.gap +
  (paper.window - 1) * paper.every) * spd;
console.log(`QG step, ${paper.qg.nx}² (1 thread): ${(qgStep * 1e3).toFixed(2)} ms`);

// 2. the U-Net at n² with the paper's widths, C = 4 (arctan3x), L = 9, batch 1 (wasm)
await selectBackend({ prefer: "wasm", quiet: true, threads });
const C = 4, L = 9;
const comp = await SampleComputer.create(paperUNetConfig(C), {
  model: "arctan3x",
  frames: L,
  height: n,
  width: n,
}, 1);
const rng = new Rng(1);
const x = new Float32Array(L * 2 * n * n).map(() => rng.normal());
await comp.gradient({ x, t: 0.5, noiseSeed: 1 }); // warm-up
const trainSample = await time(() => comp.gradient({ x, t: 0.5, noiseSeed: 2 }));
comp.dispose();
console.log(
  `training gradient of one sample, ${n}² (wasm, ${threads} threads): ${trainSample.toFixed(2)} s`,
);

const net = await createUNet(paperUNetConfig(C), { seed: 1 });
const layout = augmentedLayout("arctan3x");
const obs = observe(x, L, n, n, {
  operator: arctan3x,
  mask: randomMask(n, n, 0.25, rng),
  interval: 1,
  rng,
});
const planned = planObservations([obs], layout, { frames: L, channels: C, height: n, width: n });
const pi = soadNoise(net, planned);
const z = new Float32Array(L * C * n * n).map(() => rng.normal());
await pi.evaluate(z, [1, L, C, n, n], 0.5); // warm-up
const piEval = await time(() => pi.evaluate(z, [1, L, C, n, n], 0.4));
net.dispose();
console.log(
  `SOAD Π evaluation (ε̂ + VJP), ${n}² (wasm, ${threads} threads): ${piEval.toFixed(2)} s`,
);

// 3. the same training sample on PyTorch (CPU), same run
let torchSample: number | undefined;
if (!a["no-torch"]) {
  const script = `
import sys, time, torch
sys.path.insert(0, sys.argv[1])
from soad_torch.unet import SOADUNet
torch.set_num_threads(int(sys.argv[3]))
n = int(sys.argv[2]); net = SOADUNet(channels=4)
opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
z = torch.randn(1, 9, 4, n, n); t = torch.tensor([0.5])
def step():
    opt.zero_grad(); torch.nn.functional.mse_loss(net(z, t), z).backward(); opt.step()
step(); t0 = time.perf_counter(); step(); print(time.perf_counter() - t0)
`;
  const r = await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      script,
      new URL("../python", import.meta.url).pathname,
      String(n),
      String(threads),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (r.code === 0) {
    torchSample = Number(new TextDecoder().decode(r.stdout).trim());
    console.log(
      `PyTorch (CPU, ${threads} threads) training step of one sample, ${n}²: ` +
        `${torchSample.toFixed(2)} s; ratio PyTorch / soad = ${
          (torchSample / trainSample).toFixed(2)
        }`,
    );
  } else {console.log(
      `PyTorch peer skipped: ${new TextDecoder().decode(r.stderr).split("\n").at(-2)}`,
    );}
}

// 4. stage totals (CPU core-hours: the wasm figures use `threads` cores)
const h = (s: number): string => (s / 3600).toPrecision(3);
const genCore = paper.seeds * stepsPerSeed * qgStep;
const cells = enumerateGrid().length;
const K = 256;
console.log(
  `\nstage totals on this CPU (core-hours; U-Net figures at ${n}²; the paper trains and assimilates at 256²):`,
);
console.log(
  `generate paper: ${paper.seeds} seeds × ${stepsPerSeed} QG steps × ${
    (qgStep * 1e3).toFixed(2)
  } ms = ` +
    `${h(genCore)} core-h (${h(genCore / paper.seeds)} h per seed = per array task)`,
);
for (const steps of [1e5, 5e5]) {
  const s = steps * 4 * trainSample * threads;
  console.log(
    `train ${steps} steps × batch 4: ${h(s)} core-h` +
      (torchSample ? ` (PyTorch CPU: ${h(steps * 4 * torchSample * threads)} core-h)` : ""),
  );
}
const cell = (K + 1) * piEval;
console.log(
  `experiment: ${cells} cells (default grid) × ${K + 1} Π evaluations × ${piEval.toFixed(2)} s = ` +
    `${h(cells * cell * threads)} core-h (${(cell / 60).toFixed(1)} min per cell)`,
);
