/**
 * `deno task eps-profile --checkpoint models/sin3x-small/weights.safetensors` — how well a prior
 * denoises at each diffusion time (ε-MSE per channel, its bias, the RMSE of x̂0) on the held-out
 * demo window or a store window. A prior whose ε-MSE stays above ~10⁻³ near t = 1 needs the
 * sampler to start lower (`--t-max`, docs/results.md).
 * @module
 */

import { parseArgs } from "node:util";
import { defaultThreads, selectBackend } from "../src/backend/select.ts";
import { openDatasetStore, readWindow } from "../src/data/store.ts";
import { epsProfile } from "../src/diffusion/eps_profile.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { readSafetensorsMetadata } from "../src/io/safetensors.ts";
import { readNpy } from "../src/io/npy.ts";
import { augmentedLayout, augmentState, type ModelName } from "../src/obs/layout.ts";
import { loadExperimentCheckpoint } from "../src/assim/experiment_inputs.ts";

const HELP = `deno task eps-profile --checkpoint F [flags]

Noises a clean 9-frame window at several diffusion times and prints, per time, the prior's
eps-MSE per channel, the mean eps error per channel and the RMSE of the denoised estimate x0.
  --checkpoint F    U-Net weights (safetensors); the model comes from its metadata or --model
  --model NAME      sda | arctan3x | sin3x | vor2vel | full (when the metadata has none)
  --data DIR        take window --window of this store (default: models/demo/window.npy)
  --window N        store window index (default: the first test window)
  --times LIST      diffusion times (default 0.01,0.05,0.1,0.2,0.4,0.6,0.8,0.9,0.95,0.99,1)
  --seed N          seed of the noise (default 0)
`;

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      checkpoint: { type: "string" },
      model: { type: "string" },
      data: { type: "string" },
      window: { type: "string" },
      times: { type: "string", default: "0.01,0.05,0.1,0.2,0.4,0.6,0.8,0.9,0.95,0.99,1" },
      seed: { type: "string", default: "0" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (a.help) return console.log(HELP);
  if (!a.checkpoint) throw new InvalidArgumentError("--checkpoint is required (see --help)");
  const meta = readSafetensorsMetadata(await Deno.readFile(a.checkpoint));
  const model = (a.model ?? meta.model) as ModelName | undefined;
  if (!model) throw new InvalidArgumentError("the checkpoint names no model: give --model");
  const times = a.times!.split(",").map(Number);
  if (!times.length || !times.every((t) => t >= 0 && t <= 1)) {
    throw new InvalidArgumentError(
      `--times: times must be in [0, 1] (a comma list), got ${a.times}`,
    );
  }
  const seed = Number(a.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) {
    throw new InvalidArgumentError(`--seed must be an integer in 0..${2 ** 32 - 1}, got ${a.seed}`);
  }
  if (a.window !== undefined && !/^\d+$/.test(a.window)) {
    throw new InvalidArgumentError(
      `--window must be a window index (integer >= 0), got ${a.window}`,
    );
  }
  await selectBackend({ prefer: "wasm", quiet: true, threads: defaultThreads() });
  const L = 9;
  const ck = await loadExperimentCheckpoint(
    a.checkpoint,
    model === "sda" ? "sda" : `soad-${model}`,
    L,
  );
  let raw: Float32Array, n: number, std: number[], offset = [0, 0];
  if (a.data) {
    const store = openDatasetStore(a.data);
    const w = a.window !== undefined ? Number(a.window) : store.attrs.split.test[0];
    if (store.config.window < L) {
      throw new InvalidArgumentError(
        `${a.data} has windows of ${store.config.window} snapshots; the profile needs ${L}`,
      );
    }
    const full = readWindow(store, w);
    n = Math.round(Math.sqrt(full.length / (2 * store.config.window)));
    raw = full.slice(0, L * 2 * n * n);
    std = ck.normalisation?.std ?? store.attrs.norm_std!;
    offset = ck.normalisation?.offset ?? offset;
  } else {
    const win = await readNpy(new URL("../models/demo/window.npy", import.meta.url));
    const info = JSON.parse(
      await Deno.readTextFile(new URL("../models/demo/window.json", import.meta.url)),
    );
    raw = Float32Array.from(win.data as Float32Array);
    n = win.shape[2];
    std = ck.normalisation?.std ?? info.norm_std;
    offset = ck.normalisation?.offset ?? offset;
  }
  const R = n * n;
  const x = raw.map((v, i) => (v - offset[Math.floor(i / R) % 2]) / std[Math.floor(i / R) % 2]);
  const layout = augmentedLayout(model);
  const z0 = augmentState(x, L, n, n, layout);
  const rows = await epsProfile(ck.net, z0, [1, L, layout.channels, n, n], times, seed);
  const names = [
    "q1",
    "q2",
    ...layout.entries.flatMap((e) =>
      Array.from({ length: e.operator.outChannels }, (_, k) => `${e.operator.name}[${k}]`)
    ),
  ];
  console.log(`eps-profile of ${a.checkpoint} (model ${model}, C = ${layout.channels}, ${n}x${n})`);
  console.log(
    `t       eps-MSE per channel${
      " ".repeat(Math.max(0, layout.channels * 7 - 19))
    }  x0 RMSE   mean eps error`,
  );
  for (const r of rows) {
    console.log(
      `${r.t.toFixed(3).padEnd(8)}${r.mse.map((v) => v.toFixed(4).padEnd(7)).join("")}  ` +
        `${r.x0Rmse.toPrecision(3).padEnd(10)}${r.bias.map((v) => v.toFixed(3)).join(" ")}`,
    );
  }
  console.log(`channels: ${names.join(", ")}`);
  ck.net.dispose();
}

try {
  await main();
} catch (e) {
  console.error(`soad eps-profile: ${e instanceof Error ? e.message : e}`);
  Deno.exit(1);
}
