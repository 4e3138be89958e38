// deno task train — trains the SOAD (or SDA) diffusion prior on a dataset store.
// Usage: deno task train --data data/qg.zarr --model arctan3x --steps 2000   (--help for all)
import { parseArgs } from "node:util";
import { type BackendName, defaultThreads, selectBackend } from "../src/backend/select.ts";
import { SoadError } from "../src/errors.ts";
import { pathToFileURL } from "node:url";
import { modelLayout } from "../src/obs/registry.ts";
import { TRAIN_DEFAULTS, type TrainConfig } from "../src/train/config.ts";
import { SyntheticSource, type WindowSource } from "../src/train/source.ts";
import { StoreSource } from "../src/train/store_source.ts";
import { train } from "../src/train/trainer.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import { unetConfigFromWeights } from "../src/diffusion/unet_config.ts";
import { describeGrowth } from "../src/train/grow.ts";

const D = TRAIN_DEFAULTS;
const HELP = `deno task train [flags]

Trains the denoiser U-Net of the SOAD prior (state + clean observation channels) or of the SDA
baseline (state only): VP cosine schedule, eps-prediction MSE with one t per window, AdamW with a
linear learning-rate decay per step, data-parallel Workers (one tfjs wasm instance each).
Writes into --out: checkpoint.safetensors (weights + AdamW state + step + config +
normalisation), model.safetensors (final weights), best.safetensors (best validation loss),
log.csv, loss.png, train.json. Ctrl-C stops after the current step with a checkpoint.

Data (one of):
  --data PATH         dataset store from deno task generate (train and valid splits)
  --synthetic N       synthetic N x N travelling waves (no files; for trying things out)
  --subtract-mean     also subtract the store's per-layer mean (SOAD divides by the std only)
  --no-verify         do not check each window's checksum when it is read
Model:
  --model NAME        sda (C=2) | arctan3x | sin3x (C=4) | vor2vel (C=6) | full (C=10)
                      (default arctan3x)
  --operator-module F a TS/JS module (path or URL) that registers your observation operators
                      with registerOperator() (docs/user-operators.md); with --operator NAME
  --operator NAME     a SOAD prior for your registered operator(s) (NAME or a+b): C = 2 + their
                      channels; instead of --model
  --widths LIST       hidden widths, finest first (default 16,32,64)
  --blocks N          residual blocks per level (default 3)
  --kernel N          spatial kernel (default 5)
Training:
  --steps N           length of the run; the learning rate decays linearly to 0 (default 1000)
  --batch N           windows per step (default ${D.batchSize})
  --frames N          frames per chunk (default ${D.frames})
  --lr X              base learning rate (default ${D.lr})
  --warmup N          linear learning-rate warm-up over the first N steps, then the linear decay
                      (default 0 = none, as SOAD trains); fixed for the run
  --wd X              AdamW decoupled weight decay (default ${D.weightDecay})
  --beta1 X --beta2 X --adam-eps X   AdamW (defaults ${D.beta1}, ${D.beta2}, ${D.eps})
  --high-t-fraction F oversample the noisiest times: this fraction of windows draws t from
                      U(--high-t-from, 1) (default 0 = the spec's U(0, 1); docs/results.md)
  --high-t-from X     lower end of the oversampled times (default 0.8)
  --ema DECAY         keep an exponential moving average of the weights with this decay (e.g.
                      0.999; warm-up min(DECAY, (1+s)/(10+s)) at step s; default off): validation
                      reports raw and EMA losses, best.safetensors and --keep-every snapshots hold
                      the EMA weights, model-ema.safetensors the final average; the raw weights
                      keep training. Fixed for the run (--resume refuses a change)
  --init FILE         start a new run from trained weights (safetensors): the same widths/blocks/
                      kernel (the channel count may differ: shared channels are copied), or a
                      smaller network with the same channels that grows into this one without
                      changing its output: widths × integers, more blocks, a larger kernel
  --no-roll           no random circular roll of the training chunks (default: roll)
  --seed N            seed of data order, chunks, rolls, t and noise (default ${D.seed})
  --init-seed N       seed of the network init (default ${D.initSeed})
  --ckpt-every N      checkpoint every N steps (default ${D.checkpointEvery})
  --valid-every N     validation loss every N steps, 0 = never (default ${D.validEvery})
  --valid-samples N   fixed validation samples (default ${D.validSamples})
  --keep-every N      also keep the weights of every N-th step as step-<s>.safetensors (the EMA
                      weights with --ema): the candidates of deno task select-prior (default off;
                      may change on --resume)
Run:
  --out DIR           output directory (default run/train-<model>)
  --resume            continue from DIR/checkpoint.safetensors (bit-identical to one run);
                      flags other than --steps, --ckpt-every, --keep-every must match the checkpoint or be left out;
                      --data must be the checkpoint's dataset (same fingerprint, any path)
  --force             a new run into a non-empty --out: replace its files (default: refuse)
  --until N           stop after N total steps (with a checkpoint), e.g. for time-limited jobs
  --workers N         data-parallel Workers (default: one per core; 0 = this thread)
  --backend NAME      wasm (default) | cpu | webgpu
  --quiet             no progress bar
`;

class UsageError extends SoadError {}

function num(name: string, v: string, int: boolean, min: number): number {
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x) || (int && !Number.isInteger(x)) || x < min) {
    throw new UsageError(
      `--${name} expects ${int ? "an integer" : "a number"} >= ${min}, got "${v}"`,
    );
  }
  return x;
}

const MODELS = ["sda", "arctan3x", "sin3x", "vor2vel", "full"];

async function main(): Promise<number> {
  const str = { type: "string" as const };
  const { values: v } = parseArgs({
    args: Deno.args,
    options: {
      data: str,
      synthetic: str,
      "subtract-mean": { type: "boolean" },
      model: str,
      "operator-module": str,
      operator: str,
      widths: str,
      blocks: str,
      kernel: str,
      steps: str,
      batch: str,
      frames: str,
      lr: str,
      warmup: str,
      wd: str,
      beta1: str,
      beta2: str,
      "adam-eps": str,
      "no-roll": { type: "boolean" },
      "high-t-fraction": str,
      "high-t-from": str,
      init: str,
      seed: str,
      "init-seed": str,
      "ckpt-every": str,
      "valid-every": str,
      "valid-samples": str,
      ema: str,
      "keep-every": str,
      out: str,
      resume: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      "no-verify": { type: "boolean", default: false },
      until: str,
      workers: str,
      backend: str,
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (v.help) {
    console.log(HELP);
    return 0;
  }
  if ((v.data === undefined) === (v.synthetic === undefined)) {
    throw new UsageError("give exactly one of --data PATH (a dataset store) or --synthetic N");
  }
  if (v.resume && (v.widths ?? v.blocks ?? v.kernel) !== undefined) {
    throw new UsageError("--widths, --blocks and --kernel come from the checkpoint on --resume");
  }
  if (v.operator !== undefined && v.model !== undefined) {
    throw new UsageError("give --model (a paper model) or --operator (your operators), not both");
  }
  if ((v.operator === undefined) !== (v["operator-module"] === undefined) && !v.resume) {
    throw new UsageError(
      "--operator NAME needs --operator-module FILE (the module that registers NAME), and back",
    );
  }
  let operatorModules: string[] | undefined;
  if (v["operator-module"] !== undefined) {
    const m = v["operator-module"];
    const url = /^[a-z][a-z0-9+.-]+:/i.test(m) ? m : pathToFileURL(m).href;
    try {
      await import(url);
    } catch (e) {
      throw new UsageError(`cannot import --operator-module ${m}: ${(e as Error).message}`);
    }
    operatorModules = [url];
  }
  const model = v.operator ?? v.model ?? "arctan3x";
  if (v.operator === undefined && !MODELS.includes(model)) {
    throw new UsageError(`--model must be one of ${MODELS.join(", ")}, got "${model}"`);
  }
  const channels = modelLayout(model).channels; // refuses an unregistered operator, naming them
  // Only flags given on the command line enter the config, so that --resume can check them.
  const cfg: Partial<TrainConfig> = v.resume && v.model === undefined && v.operator === undefined
    ? {}
    : { model, ...(operatorModules ? { operatorModules } : {}) };
  const set = <K extends keyof TrainConfig>(k: K, flag: string, int: boolean, min: number) => {
    const s = v[flag as keyof typeof v];
    if (typeof s === "string") cfg[k] = num(flag, s, int, min) as TrainConfig[K];
  };
  set("steps", "steps", true, 1);
  set("batchSize", "batch", true, 1);
  set("frames", "frames", true, 1);
  set("lr", "lr", false, 0);
  set("warmup", "warmup", true, 0);
  set("weightDecay", "wd", false, 0);
  set("beta1", "beta1", false, 0);
  set("beta2", "beta2", false, 0);
  set("eps", "adam-eps", false, 0);
  set("seed", "seed", true, 0);
  set("initSeed", "init-seed", true, 0);
  set("checkpointEvery", "ckpt-every", true, 1);
  set("validEvery", "valid-every", true, 0);
  set("validSamples", "valid-samples", true, 1);
  set("highTimeFraction", "high-t-fraction", false, 0);
  set("highTimeFrom", "high-t-from", false, 0);
  set("ema", "ema", false, 0);
  set("keepEvery", "keep-every", true, 0);
  if (v["no-roll"]) cfg.roll = false;
  if (!v.resume) {
    const widths = (v.widths ?? "16,32,64").split(",").map((s) => num("widths", s, true, 1));
    cfg.unet = {
      channels,
      widths,
      blocks: num("blocks", v.blocks ?? "3", true, 1),
      kernel: num("kernel", v.kernel ?? "5", true, 1),
      frames: cfg.frames ?? D.frames,
    };
  }
  const workers = v.workers === undefined ? undefined : num("workers", v.workers, true, 0);
  const until = v.until === undefined ? undefined : num("until", v.until, true, 0);
  const backend = (v.backend ?? "wasm") as BackendName;
  if (!["wasm", "cpu", "webgpu"].includes(backend)) {
    throw new UsageError(`--backend must be wasm, cpu or webgpu, got "${backend}"`);
  }
  const source: WindowSource = v.data !== undefined
    ? StoreSource.open(v.data, {
      subtractMean: v["subtract-mean"] ?? false,
      verify: !v["no-verify"],
    })
    : new SyntheticSource({
      height: num("synthetic", v.synthetic!, true, 2),
      width: num("synthetic", v.synthetic!, true, 2),
    });
  const out = v.out ?? `run/train-${model}`;
  if (v.init !== undefined && v.resume) {
    throw new UsageError("--init starts a new run; drop it with --resume");
  }
  if (v.force && v.resume) {
    throw new UsageError("--force starts a new run over an existing one; drop it with --resume");
  }
  const init = v.init === undefined ? undefined : readSafetensors(await Deno.readFile(v.init));
  const growth = init && cfg.unet
    ? describeGrowth(unetConfigFromWeights(init, cfg.unet.frames), cfg.unet)
    : null;
  if (growth) console.log(`soad: --init grows ${growth} (same output at the start)`);
  if (workers === 0) {
    await selectBackend({ prefer: backend, quiet: v.quiet, threads: defaultThreads() });
  }
  const ctrl = new AbortController();
  const onInt = (): void => {
    if (ctrl.signal.aborted) Deno.exit(130);
    console.error("\nsoad: stopping after this step (checkpoint follows); Ctrl-C again to quit");
    ctrl.abort();
  };
  Deno.addSignalListener("SIGINT", onInt);
  try {
    const r = await train({
      out,
      source,
      config: v.resume ? cfg : { steps: 1000, ...cfg },
      resume: v.resume,
      force: v.force,
      init,
      until,
      workers,
      backend,
      progress: !v.quiet,
      signal: ctrl.signal,
    });
    const last = r.records.at(-1);
    console.log(
      `soad: ${r.finished ? "finished" : "stopped"} at step ${r.step}/${r.config.steps}` +
        (last ? `, loss ${last.loss.toPrecision(4)}` : "") +
        (r.bestValid !== null ? `, best valid ${r.bestValid.toPrecision(4)}` : "") +
        `, ${r.stepsPerSecond.toPrecision(3)} steps/s; outputs in ${out}/`,
    );
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
  }
}

try {
  Deno.exit(await main());
} catch (e) {
  const err = e as Error;
  const usage = err instanceof UsageError || err.name === "TypeError" &&
      /option|argument/i.test(err.message) ||
    (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  console.error(`soad train: ${err.name === "Error" ? "" : err.name + ": "}${err.message}`);
  if (usage) console.error("run deno task train --help for the flags");
  Deno.exit(usage ? 2 : 1);
}
