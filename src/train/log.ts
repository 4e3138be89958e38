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
  /**
   * Validation loss of the EMA weights when evaluated at this step (null when not); absent in
   * runs without EMA (their log has no `valid_loss_ema` column).
   */
  validLossEma?: number | null;
}

const COLUMNS = ["step", "epoch", "lr", "loss", "grad_norm", "valid_loss", "seconds"];
/** The last column, present when the run averages its weights (EMA). */
const EMA_COLUMN = "valid_loss_ema";

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
  const ema = records.some((r) => r.validLossEma !== undefined);
  const lines = [(ema ? [...COLUMNS, EMA_COLUMN] : COLUMNS).join(",")];
  for (const r of records) {
    const f: (number | string)[] = [
      r.step,
      r.epoch,
      r.lr,
      r.loss,
      r.gradNorm,
      r.validLoss ?? "",
      r.seconds,
    ];
    if (ema) f.push(r.validLossEma ?? "");
    lines.push(f.join(","));
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
  const lines = text.split("\n");
  const emaAt = (lines[0] ?? "").split(",").indexOf(EMA_COLUMN);
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const f = line.split(",");
    const r: StepRecord = {
      step: Number(f[0]),
      epoch: Number(f[1]),
      lr: Number(f[2]),
      loss: Number(f[3]),
      gradNorm: Number(f[4]),
      validLoss: f[5] === "" ? null : Number(f[5]),
      seconds: Number(f[6]),
    };
    if (emaAt >= 0) r.validLossEma = (f[emaAt] ?? "") === "" ? null : Number(f[emaAt]);
    out.push(r);
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
  const vema = records.filter((r) => typeof r.validLossEma === "number" && r.validLossEma > 0);
  if (vema.length > 0) {
    series.push({
      name: "valid loss (EMA weights)",
      x: vema.map((r) => r.step),
      y: vema.map((r) => r.validLossEma!),
      color: [44, 160, 44],
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
