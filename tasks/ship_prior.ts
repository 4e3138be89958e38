/**
 * `deno task ship-prior --run run/train-sin3x-small --out models/sin3x-small` — packages a
 * training run as a shipped prior: `weights.safetensors` (the best-validation weights, or the
 * weights chosen otherwise with `--weights`),
 * `checkpoint.safetensors` (to resume training), `log.csv`, `loss.png` and a model card
 * `card.json` (data, network, training, losses, wall time, backend) built from the run's files.
 * @module
 */

import { parseArgs } from "node:util";
import { basename } from "node:path";
import { InvalidArgumentError } from "../src/errors.ts";
import { writeFileAtomic, writeJsonAtomic } from "../src/io/atomic.ts";
import { prepareOutputDir } from "../src/io/output_dir.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import { ParamLayout } from "../src/train/param_layout.ts";
import { parseLogCsv, writeLog } from "../src/train/log.ts";
import { samplerPatch } from "./sampler_flags.ts";
import {
  type PriorMetadataPatch,
  readPriorInfo,
  withPriorMetadata,
} from "../src/diffusion/prior_info.ts";

const HELP = `deno task ship-prior --run DIR --out DIR [--warm-start TEXT] [--note TEXT]
                     [--weights FILE --weights-note TEXT] [--t-max T] [--steps K] [--tau X]
                     [--sigma-x X] [--clip-scale X] [--background-likelihood on|off]
                     [--sparse-sampler below=F,steps=K,... | off] [--force]

Copies a training run (deno task train --out DIR) into a shipped prior folder: weights.safetensors
(best validation loss; the EMA weights for a run trained with --ema), checkpoint.safetensors (resumable), log.csv, loss.png and card.json.
  --warm-start TEXT   where the run started from, recorded in the card (e.g. "sin3x-small at step 1480")
  --note TEXT         a free note for the card
  --weights FILE      ship these weights instead of the run's best.safetensors (same network), e.g.
                      an earlier checkpoint that assimilated better, while checkpoint.safetensors
                      still resumes the run where it stopped
  --weights-note TEXT what the card says of them (required with --weights, e.g. "step 8442, chosen
                      on the valid split by assimilation RMSE")
  --t-max T           the prior's default sampler start, written into the weights' metadata (default:
                      the weights' own, the spec's 1 for a fresh run; deno task eps-profile tells)
  --steps K           the prior's default sampler steps K (default: the weights' own, 256)
  --tau X             the prior's default Langevin step scale τ (default: the weights' own, else
                      the spec's 0.25), e.g. as chosen on the valid split
  --sigma-x X         SOAD: σx of the likelihood coefficient (default: the weights' own, else the
                      spec's 1)
  --clip-scale X      SOAD: κ of the likelihood clip (default: the weights' own, else the spec's 1)
  --background-likelihood on|off
                      SOAD with a background: whether the background also enters the likelihood
                      (default: the weights' own, else off, the spec's FDC-only background)
  --sparse-sampler S  where the observations cover less of the grid than F (the densest
                      operator's observed points over H·W), other sampler defaults:
                      below=F,steps=K,tau=X,sigma-x=X,clip-scale=X (below and at least one more;
                      default: the weights' own, else none); off removes them
  --operator-module F the module that registers the run's user operators (for --operator runs)
  --force             replace the files of an existing, non-empty --out; its previous
                      checkpoint.safetensors is kept as checkpoint.<time>.bak.safetensors
`;

/** Moves an existing checkpoint aside (never over an earlier backup); returns its new name. */
async function backupCheckpoint(out: string): Promise<string | null> {
  const from = `${out}/checkpoint.safetensors`;
  try {
    await Deno.stat(from);
  } catch {
    return null;
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
  for (let k = 0;; k++) {
    const to = `${out}/checkpoint.${stamp}${k ? `-${k}` : ""}.bak.safetensors`;
    try {
      await Deno.stat(to);
    } catch {
      await Deno.rename(from, to);
      return to;
    }
  }
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      run: { type: "string" },
      out: { type: "string" },
      "warm-start": { type: "string" },
      note: { type: "string" },
      weights: { type: "string" },
      "weights-note": { type: "string" },
      "t-max": { type: "string" },
      steps: { type: "string" },
      tau: { type: "string" },
      "sigma-x": { type: "string" },
      "clip-scale": { type: "string" },
      "background-likelihood": { type: "string" },
      "sparse-sampler": { type: "string" },
      "operator-module": { type: "string" },
      force: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (a.help) return console.log(HELP);
  if (!a.run || !a.out) throw new InvalidArgumentError("--run and --out are required (see --help)");
  const info = JSON.parse(await Deno.readTextFile(`${a.run}/train.json`));
  const records = parseLogCsv(await Deno.readTextFile(`${a.run}/log.csv`));
  if ((a.weights === undefined) !== (a["weights-note"] === undefined) || a["weights-note"] === "") {
    throw new InvalidArgumentError(
      "--weights needs --weights-note (say which weights these are), and --weights-note needs --weights",
    );
  }
  const patch: PriorMetadataPatch = {};
  const sampler = samplerPatch(a);
  if (sampler) patch.sampler = sampler;
  // user operators (--operator runs): their module registers them before the metadata is read
  for (const m of [a["operator-module"], ...(info.config.operatorModules ?? [])]) {
    if (m) {
      await import(/^[a-z][a-z0-9+.-]+:/i.test(m) ? m : new URL(m, `file://${Deno.cwd()}/`).href);
    }
  }
  let best: Uint8Array = await Deno.readFile(a.weights ?? `${a.run}/best.safetensors`);
  if (Object.keys(patch).length) {
    best = withPriorMetadata(best, {
      ...patch,
      note: "sampler defaults set by deno task ship-prior",
    });
  }
  const prior = (() => {
    try {
      const { weights: _w, metadata: _m, config: _c, ...p } = readPriorInfo(best, "weights");
      return p;
    } catch {
      return undefined; // weights written before soad_prior without a normalisation
    }
  })();
  const tensors = readSafetensors(best);
  if (a.weights !== undefined) {
    try {
      new ParamLayout(info.config.unet).fromTorch(tensors);
    } catch (e) {
      throw new InvalidArgumentError(
        `--weights ${a.weights} is not the run's network: ${(e as Error).message}`,
      );
    }
  }
  const params = [...tensors.values()].reduce((s, t) => s + t.data.length, 0);
  const copies = new Map<string, Uint8Array>();
  for (const f of ["checkpoint.safetensors", "log.csv", "loss.png"]) {
    try {
      copies.set(f, await Deno.readFile(`${a.run}/${f}`));
    } catch (e) {
      // a run of the PyTorch bridge (python/soad_torch) has no loss plot: drawn from log.csv below
      if (f !== "loss.png" || !(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  await prepareOutputDir(a.out, { force: a.force });
  const backup = await backupCheckpoint(a.out);
  if (backup) console.error(`soad ship-prior: the previous checkpoint is kept as ${backup}`);
  await writeFileAtomic(`${a.out}/weights.safetensors`, best);
  if (!copies.has("loss.png")) await writeLog(a.out, records); // (log.csv is copied over it next)
  for (const [f, bytes] of copies) await writeFileAtomic(`${a.out}/${f}`, bytes);
  const tail = records.slice(-100);
  const valid = records.filter((r) => r.validLoss !== undefined && r.validLoss !== null);
  const c = info.config;
  const card = {
    model: c.model,
    channels: c.unet.channels,
    // what the weights' soad_prior metadata says (loadPrior reads it): trained for, sampler
    ...(prior ? { trained_for: prior.trainedFor, sampler: prior.sampler } : {}),
    unet: { ...c.unet, params },
    data: info.data,
    training: {
      steps_done: info.step,
      steps_planned: c.steps,
      batch: c.batchSize,
      lr: c.lr,
      lr_schedule: (c.warmup ? `linear warm-up over ${c.warmup} steps, then ` : "") +
        `linear decay to 0 over ${c.steps} steps`,
      weight_decay: c.weightDecay,
      roll: c.roll,
      high_time_fraction: c.highTimeFraction ?? 0,
      ema: c.ema ?? null,
      ...(c.ema !== undefined
        ? { ema_warmup: "decay min(ema, (1 + s)/(10 + s)) after optimiser step s" }
        : {}),
      seed: c.seed,
      init_seed: c.initSeed,
      warm_start: a["warm-start"] ?? null,
    },
    final_train_loss_mean_last_100: tail.reduce((s, r) => s + r.loss, 0) / tail.length,
    best_valid_loss: info.best_valid,
    weights: `${
      a["weights-note"] ??
        (c.ema !== undefined
          ? `EMA weights (decay ${c.ema}) of the best EMA validation loss`
          : "best validation loss")
    } (weights.safetensors); checkpoint.safetensors = last step` +
      (c.ema !== undefined ? " (raw weights, their EMA and the optimiser state)" : ""),
    valid_loss: Object.fromEntries(valid.map((r) => [r.step, Number(r.validLoss!.toFixed(4))])),
    ...(valid.some((r) => typeof r.validLossEma === "number")
      ? {
        valid_loss_ema: Object.fromEntries(
          valid.map((r) => [r.step, Number((r.validLossEma ?? NaN).toFixed(4))]),
        ),
      }
      : {}),
    wall_seconds: Math.round(records.reduce((s, r) => s + r.seconds, 0)),
    backend: info.engine
      ? `${info.engine}, ${info.workers} process(es)`
      : `tfjs-wasm (SIMD; convolutions on the soad conv engine from session 3 on), 1 thread ` +
        `per Worker, ${info.workers} data-parallel Worker(s), ` +
        `${navigator.hardwareConcurrency}-core ${Deno.build.arch}`,
    // the run's own store and a run folder named for the prior folder (was: always the demo's)
    resume:
      `deno task train --data ${
        info.data?.kind === "store" ? info.data.path : "(the run's --data)"
      } --out run/train-${basename(a.out)} --resume ` +
      `(after copying checkpoint.safetensors there; see models/README.md)`,
    note: a.note ?? null,
  };
  await writeJsonAtomic(`${a.out}/card.json`, card);
  const from = a.weights === undefined ? "" : `; weights from ${a.weights}`;
  console.log(
    `shipped ${a.run} → ${a.out} (step ${info.step}, best valid ${info.best_valid}${from})`,
  );
}

try {
  await main();
} catch (e) {
  console.error(`soad ship-prior: ${e instanceof Error ? e.message : e}`);
  Deno.exit(1);
}
