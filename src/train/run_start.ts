/**
 * How a training run starts: a new run (random or warm-start weights, a fresh optimiser state and
 * EMA) or a resumed one, with the checks that keep a resume from mixing data or recipes — the
 * same data (by description and fingerprint, not path), the same config except the schedule
 * length and the checkpoint / snapshot intervals, and the user operators' modules imported.
 * @module
 */

import { initUNetWeights } from "../diffusion/unet_config.ts";
import { InvalidArgumentError, SoadError } from "../errors.ts";
import { prepareOutputDir } from "../io/output_dir.ts";
import { resolveTrainConfig, type TrainConfig } from "./config.ts";
import { readCheckpoint, type TrainState } from "./checkpoint.ts";
import { parseLogCsv, type StepRecord } from "./log.ts";
import { ParamLayout } from "./param_layout.ts";
import type { TrainOptions } from "./trainer.ts";
import { warmStartWeights } from "./warm_start.ts";

/** Keys of a data description that identify the data (everything but where it is). */
function dataIdentity(d: Record<string, unknown>): Record<string, unknown> {
  const { path: _path, ...rest } = d;
  return rest;
}

/**
 * Throws {@link InvalidArgumentError} naming what differs when the data given on resume is not
 * the data the checkpoint was trained on. Keys the checkpoint did not record (older soad) are
 * not compared.
 */
function checkSameData(stored: Record<string, unknown>, given: Record<string, unknown>): void {
  const a = dataIdentity(stored), b = dataIdentity(given);
  const diff = Object.keys(a).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  if (diff.length) {
    throw new InvalidArgumentError(
      `cannot resume: the checkpoint was trained on other data (${stored.path ?? stored.kind}); ` +
        `it differs in ${
          diff.map((k) =>
            `${k} (checkpoint ${JSON.stringify(a[k])}, given ${JSON.stringify(b[k])})`
          )
            .join(", ")
        }; resume with the dataset the run was trained on, or start a new run in another --out`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Config fields a resume may change: the schedule length, how often to checkpoint and how often
 * to keep a weights snapshot (pure I/O).
 */
const RESUMABLE = ["steps", "checkpointEvery", "keepEvery"] as const;

/** Config fields for which absent and 0 both mean "off" (`resolveTrainConfig` drops a 0). */
const OFF_WHEN_ZERO: readonly string[] = ["ema", "warmup"];

/** A config value as a resume compares it. */
function resumeValue(k: string, v: unknown): string | undefined {
  const off = OFF_WHEN_ZERO.includes(k) && (v === undefined || v === 0);
  return JSON.stringify(off ? "off" : v);
}

/** Imports the modules that register a run's user operators (`registerOperator`). */
async function importOperatorModules(urls: string[] | undefined): Promise<void> {
  for (const u of urls ?? []) {
    try {
      await import(u);
    } catch (e) {
      throw new InvalidArgumentError(
        `cannot import operator module ${u}: ${(e as Error).message}`,
      );
    }
  }
}

/**
 * Loads the run's state from `out/checkpoint.safetensors` (resume: the same data, a config that
 * differs only in the resumable fields, `steps` not below the checkpoint's step) or creates a new
 * one (random init or `init`'s warm start; refuses an existing checkpoint unless `force`).
 * Returns the state and the log records up to its step.
 *
 * @example
 * ```ts
 * import { SyntheticSource } from "@soad/soad";
 * import { startState } from "./run_start.ts";
 * const { state } = await startState({
 *   out: await Deno.makeTempDir(),
 *   source: new SyntheticSource({ height: 8, width: 8 }),
 *   config: { model: "sda", steps: 2, frames: 3,
 *     unet: { channels: 2, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 } },
 * });
 * console.log(state.step); // 0
 * ```
 */
export async function startState(
  o: TrainOptions,
): Promise<{ state: TrainState; records: StepRecord[] }> {
  const ckptPath = `${o.out}/checkpoint.safetensors`;
  if (o.resume) {
    if (o.init) throw new InvalidArgumentError("init (--init) starts a new run; drop it on resume");
    if (!(await exists(ckptPath))) {
      throw new SoadError(`cannot resume: ${ckptPath} does not exist (start without --resume)`);
    }
    const state = await readCheckpoint(ckptPath);
    checkSameData(state.data, o.source.describe());
    if (o.config?.steps !== undefined && o.config.steps < state.step) {
      throw new InvalidArgumentError(
        `cannot resume with steps = ${o.config.steps}: the checkpoint is at step ${state.step} ` +
          `of ${state.config.steps}; give --steps >= ${state.step} (or leave it out)`,
      );
    }
    await importOperatorModules(state.config.operatorModules);
    if (o.config) {
      const given = o.config as Record<string, unknown>;
      const stored = state.config as unknown as Record<string, unknown>;
      const diff = Object.keys(given)
        .filter((k) => !(RESUMABLE as readonly string[]).includes(k))
        .filter((k) => given[k] !== undefined)
        .filter((k) => resumeValue(k, given[k]) !== resumeValue(k, stored[k]));
      if (diff.length) {
        throw new InvalidArgumentError(
          `cannot resume: the checkpoint was trained with other ${diff.join(", ")} ` +
            `(${diff.map((k) => `${k}=${resumeValue(k, stored[k])}`).join(", ")}, given ` +
            `${diff.map((k) => `${k}=${resumeValue(k, given[k])}`).join(", ")}); ` +
            `leave these out to continue with the checkpoint's values` +
            (diff.includes("ema")
              ? " (a run keeps the EMA setting it started with; start a new run, e.g. with " +
                "--init from its weights, to change it)"
              : ""),
        );
      }
      const changed = Object.fromEntries(
        RESUMABLE.filter((k) => o.config![k] !== undefined).map((k) => [k, o.config![k]]),
      );
      if (Object.keys(changed).length) {
        state.config = resolveTrainConfig({ ...state.config, ...changed });
      }
    }
    let records: StepRecord[] = [];
    try {
      records = parseLogCsv(await Deno.readTextFile(`${o.out}/log.csv`))
        .filter((r) => r.step <= state.step);
    } catch {
      // no log: start a new one
    }
    return { state, records };
  }
  if (!o.config?.model || !o.config.steps) {
    throw new InvalidArgumentError("a new training run needs a config with model and steps");
  }
  if (!o.force && await exists(ckptPath)) {
    throw new SoadError(
      `${ckptPath} exists: pass resume (--resume) to continue it, or choose another output ` +
        `(or force (--force) to replace the run)`,
    );
  }
  await importOperatorModules(o.config.operatorModules);
  await prepareOutputDir(o.out, { force: o.force });
  const config = resolveTrainConfig(
    o.config as Partial<TrainConfig> & Pick<TrainConfig, "model" | "steps">,
  );
  const layout = new ParamLayout(config.unet);
  const weights = initUNetWeights(config.unet, config.initSeed);
  if (o.init) warmStartWeights(weights, config.unet, o.init, config.initSeed);
  const params = layout.fromTorch(weights);
  const z = new Float32Array(layout.size);
  return {
    state: {
      config,
      step: 0,
      params,
      m: z,
      v: z.slice(),
      bestValid: null,
      data: {},
      // e_0 = p_0: the average starts at the initial (or warm-start) weights
      ...(config.ema !== undefined ? { ema: params.slice() } : {}),
    },
    records: [],
  };
}
