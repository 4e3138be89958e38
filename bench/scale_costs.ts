/**
 * Per-unit costs of the paper-scale pipeline, measured here, and the CPU hours per stage they
 * imply (the figures of docs/scale-out.md): a QG step of the paper's 512² simulation, the U-Net
 * training gradient of one sample and one SOAD Π evaluation (ε̂ + VJP) with the paper's widths
 * (wasm backend), and the same training sample on PyTorch (the python/soad_torch bridge's
 * network, CPU) in the same run, with the ratio.
 *
 *     deno run -A bench/scale_costs.ts                   # U-Net at 64² and 128² (minutes)
 *     deno run -A bench/scale_costs.ts --grids 16,32     # a quick look
 *
 * The U-Net costs at the paper's 256² are extrapolated from the two measured grids by their
 * growth factor (`--grids 128,256` measures 256² itself: minutes per unit on 2 cores).
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
import { enumerateGrid } from "../src/harness/experiment_grid.ts";
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
  options: { grids: { type: "string", default: "64,128" }, "no-torch": { type: "boolean" } },
});
const threads = defaultThreads();
/** The fastest of `rounds` runs, in seconds (the shared machine's load only slows runs down). */
const time = async (f: () => unknown | Promise<unknown>, rounds = 3): Promise<number> => {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await f();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
};

// 1. QG step at the paper's simulation grid (512², dt 900 s)
const paper = DATA_PRESETS.paper;
const qg = new QGModel({ nx: paper.qg.nx, dt: paper.qg.dt });
qg.setQ(icNoise(paper.qg.nx, paper.qg.nx, 0));
qg.step(5);
const qgStep = await time(() => qg.step(20)) / 20;
const spd = Math.round(86400 / paper.qg.dt);
const stepsPerSeed = (paper.warmupDays + (paper.windowsPerSeed - 1) * paper.gap +
  (paper.window - 1) * paper.every) * spd;
console.log(`QG step, ${paper.qg.nx}² (1 thread): ${(qgStep * 1e3).toFixed(2)} ms`);

// 2. the U-Net at n² with the paper's widths, C = 4 (arctan3x), L = 9, batch 1 (wasm), and the
// same training sample on PyTorch (CPU) in the same run
await selectBackend({ prefer: "wasm", quiet: true, threads });
const C = 4, L = 9;

interface Costs {
  trainSample: number;
  piEval: number;
  torchSample?: number;
}

async function measure(n: number): Promise<Costs> {
  const comp = await SampleComputer.create(paperUNetConfig(C), {
    model: "arctan3x",
    frames: L,
    height: n,
    width: n,
  }, 1);
  const rng = new Rng(n);
  const x = new Float32Array(L * 2 * n * n).map(() => rng.normal());
  await comp.gradient({ x, t: 0.5, noiseSeed: 1 }); // warm-up
  const trainSample = await time(() => comp.gradient({ x, t: 0.5, noiseSeed: 2 }));
  comp.dispose();
  const net = await createUNet(paperUNetConfig(C), { seed: 1 });
  const obs = observe(x, L, n, n, {
    operator: arctan3x,
    mask: randomMask(n, n, 0.25, rng),
    interval: 1,
    rng,
  });
  const layout = augmentedLayout("arctan3x");
  const planned = planObservations([obs], layout, { frames: L, channels: C, height: n, width: n });
  const pi = soadNoise(net, planned);
  const z = new Float32Array(L * C * n * n).map(() => rng.normal());
  await pi.evaluate(z, [1, L, C, n, n], 0.5); // warm-up
  const piEval = await time(() => pi.evaluate(z, [1, L, C, n, n], 0.4));
  net.dispose();
  console.log(
    `${n}²: training gradient of one sample ${trainSample.toFixed(2)} s, SOAD Π evaluation ` +
      `(ε̂ + VJP) ${piEval.toFixed(2)} s (wasm, ${threads} threads)`,
  );
  if (a["no-torch"]) return { trainSample, piEval };
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
step(); best = 1e9
for r in range(3):
    t0 = time.perf_counter(); step(); best = min(best, time.perf_counter() - t0)
print(best)
`;
  const r = await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      script,
      new URL("../python", import.meta.url).pathname,
      String(n),
      String(threads),
    ],
    env: { OMP_WAIT_POLICY: "PASSIVE" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (r.code !== 0) {
    console.log(`PyTorch peer skipped: ${new TextDecoder().decode(r.stderr).split("\n").at(-2)}`);
    return { trainSample, piEval };
  }
  const torchSample = Number(new TextDecoder().decode(r.stdout).trim());
  console.log(
    `${n}²: PyTorch (CPU, ${threads} threads) training step of one sample ` +
      `${torchSample.toFixed(2)} s; ratio PyTorch / soad = ${
        (torchSample / trainSample).toFixed(2)
      }`,
  );
  return { trainSample, piEval, torchSample };
}

// the 256² costs are extrapolated from two measured grids by their growth factor (a 256² unit
// takes minutes here; with n1 = 256 the "extrapolation" is the measurement itself)
const [n0, n1] = a.grids!.split(",").map(Number);
const c0 = await measure(n0), c1 = await measure(n1);
const steps = Math.log2(256 / n1) / Math.log2(n1 / n0);
const ext = (v0: number, v1: number): number => v1 * (v1 / v0) ** steps;
const trainSample = ext(c0.trainSample, c1.trainSample);
const piEval = ext(c0.piEval, c1.piEval);
const torchSample = c0.torchSample && c1.torchSample
  ? ext(c0.torchSample, c1.torchSample)
  : undefined;
console.log(
  `256² (extrapolated by the ${n0}²→${n1}² growth): training sample ${trainSample.toFixed(1)} s, ` +
    `Π evaluation ${piEval.toFixed(1)} s` +
    (torchSample ? `, PyTorch training sample ${torchSample.toFixed(1)} s` : ""),
);

// 4. stage totals (CPU core-hours: the wasm figures use `threads` cores)
const h = (s: number): string => (s / 3600).toPrecision(3);
const genCore = paper.seeds * stepsPerSeed * qgStep;
const cells = enumerateGrid().length;
const K = 256;
console.log(
  `\nstage totals on this CPU (core-hours; U-Net figures extrapolated to 256² as above):`,
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
