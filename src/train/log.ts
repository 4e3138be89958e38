/**
 * The training log: one record per optimiser step, written as CSV (`log.csv`) and drawn as a
 * loss curve (`loss.png`: training loss, its running mean and the validation loss, log scale).
 * @module
 */

import { writePng } from "../io/image.ts";
import { writeTextAtomic } from "../io/atomic.ts";
import { lineChart, type LineSeries } from "../io/plot.ts";

/** One optimiser step. */
export interface StepRecord {
  /** Steps taken (1-based). */
  step: number;
  /** Passes over the training split completed (fractional). */
  epoch: number;
  /** Learning rate used by this step. */
  lr: number;
  /** Mean ε-MSE over the batch. */
  loss: number;
  /** L2 norm of the batch-averaged gradient. */
  gradNorm: number;
  /** Validation loss when evaluated at this step, else null. */
  validLoss: number | null;
  /** Wall seconds of this step (computation, reduction, update). */
  seconds: number;
}

const COLUMNS = ["step", "epoch", "lr", "loss", "grad_norm", "valid_loss", "seconds"];

/**
 * CSV text of the records (header line first; empty validation cells where not evaluated).
 *
 * @example
 * ```ts
 * import { logCsv } from "./log.ts";
 * const csv = logCsv([{ step: 1, epoch: 0.1, lr: 1e-4, loss: 1, gradNorm: 2, validLoss: null, seconds: 0.5 }]);
 * console.log(csv.split("\n")[1]); // 1,0.1,0.0001,1,2,,0.5
 * ```
 */
export function logCsv(records: StepRecord[]): string {
  const lines = [COLUMNS.join(",")];
  for (const r of records) {
    lines.push(
      [r.step, r.epoch, r.lr, r.loss, r.gradNorm, r.validLoss ?? "", r.seconds].join(","),
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * Parses a log written by {@link logCsv} (used by `--resume` to keep the earlier records).
 *
 * @example
 * ```ts
 * import { logCsv, parseLogCsv } from "./log.ts";
 * const r = { step: 2, epoch: 0, lr: 1, loss: 3, gradNorm: 4, validLoss: 5, seconds: 6 };
 * console.log(parseLogCsv(logCsv([r]))[0].validLoss); // 5
 * ```
 */
export function parseLogCsv(text: string): StepRecord[] {
  const out: StepRecord[] = [];
  for (const line of text.split("\n").slice(1)) {
    if (!line.trim()) continue;
    const f = line.split(",");
    out.push({
      step: Number(f[0]),
      epoch: Number(f[1]),
      lr: Number(f[2]),
      loss: Number(f[3]),
      gradNorm: Number(f[4]),
      validLoss: f[5] === "" ? null : Number(f[5]),
      seconds: Number(f[6]),
    });
  }
  return out;
}

/**
 * Writes `log.csv` and `loss.png` into `dir` (atomically).
 *
 * @example
 * ```ts
 * import { writeLog } from "./log.ts";
 * const dir = await Deno.makeTempDir();
 * const rec = (step: number) => ({ step, epoch: 0, lr: 1e-4, loss: 1 / step, gradNorm: 1, validLoss: null, seconds: 1 });
 * await writeLog(dir, [rec(1), rec(2), rec(3)]);
 * console.log((await Deno.stat(`${dir}/loss.png`)).isFile); // true
 * ```
 */
export async function writeLog(dir: string, records: StepRecord[]): Promise<void> {
  await writeTextAtomic(`${dir}/log.csv`, logCsv(records));
  const ok = records.filter((r) => Number.isFinite(r.loss) && r.loss > 0);
  if (ok.length < 2) return;
  const series: LineSeries[] = [{
    name: "train loss",
    x: ok.map((r) => r.step),
    y: ok.map((r) => r.loss),
    color: [180, 200, 230],
  }];
  const win = Math.max(1, Math.round(ok.length / 50));
  const mean: number[] = [];
  let acc = 0;
  for (let i = 0; i < ok.length; i++) {
    acc += ok[i].loss - (i >= win ? ok[i - win].loss : 0);
    mean.push(acc / Math.min(i + 1, win));
  }
  series.push({
    name: `running mean (${win})`,
    x: ok.map((r) => r.step),
    y: mean,
    color: [31, 119, 180],
  });
  const val = records.filter((r) => r.validLoss !== null && r.validLoss > 0);
  if (val.length > 0) {
    series.push({
      name: "valid loss",
      x: val.map((r) => r.step),
      y: val.map((r) => r.validLoss!),
      color: [214, 39, 40],
    });
  }
  const img = lineChart(series, {
    title: "training loss (eps-MSE)",
    xlabel: "step",
    ylabel: "loss",
    logY: true,
  });
  await writePng(`${dir}/loss.png`, img);
}
