/**
 * The dataset pipeline driver: prepares (or resumes) the store, runs the trajectories of this
 * shard in parallel Deno Workers, reports progress, and finalises the store when it is complete.
 * @module
 */

import { statfsSync } from "node:fs";
import { InvalidArgumentError, SoadError } from "../errors.ts";
import type { FFTBackend } from "../fft/types.ts";
import { type DataConfig, outputGrid, validateDataConfig } from "./config.ts";
import { finalizeDataset, recheckWindows } from "./finalize.ts";
import { Progress } from "../io/progress.ts";
import { runSeedIntoStore } from "./run_seed.ts";
import { type DatasetStore, isWindowDone, prepareDatasetStore } from "./store.ts";
import type { WorkerJob, WorkerReport } from "./worker.ts";

/** A shard: this process generates the trajectories `s` with `s % count === index`. */
export interface Shard {
  /** 0-based shard index. */
  index: number;
  /** Number of shards. */
  count: number;
}

/** Options of {@link generateDataset}. */
export interface GenerateOptions {
  /** Store directory (e.g. `data/qg.zarr`). */
  out: string;
  /** The configuration (see `resolveDataConfig`). */
  config: DataConfig;
  /** Continue an existing store of the same configuration. */
  resume?: boolean;
  /** Generate only one shard's trajectories (implies reuse of an existing store; no finalise). */
  shard?: Shard;
  /** Parallel workers; 0 runs in this thread. Default: one per core. */
  workers?: number;
  /** Stop every trajectory after this many model steps (smoke test); the store stays incomplete. */
  limitSteps?: number;
  /** FFT engine. Default "auto". */
  fft?: FFTBackend | "auto";
  /** Progress output: true/false, or "auto" (default: bar on a TTY, lines otherwise). */
  progress?: boolean | "auto";
}

/** What {@link generateDataset} did. */
export interface GenerateResult {
  /** Store directory. */
  path: string;
  /** Trajectories this call was responsible for. */
  seeds: number[];
  /** Windows written now. */
  written: number;
  /** Windows found done already. */
  skipped: number;
  /** Windows found damaged (missing, truncated or altered chunk behind a done mark) and regenerated. */
  repaired: number[];
  /** Whether the store was finalised (statistics written, complete). */
  finalized: boolean;
  /** Whether `limitSteps` stopped the run. */
  limited: boolean;
  /** Wall-clock seconds. */
  seconds: number;
}

/**
 * Checks a shard: integers with 0 ≤ index < count. Throws {@link InvalidArgumentError}.
 *
 * @example
 * ```ts
 * import { validateShard } from "@soad/soad/internal";
 * validateShard({ index: 1, count: 4 }); // ok
 * ```
 */
export function validateShard(shard: Shard): void {
  const { index, count } = shard;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0) {
    throw new InvalidArgumentError(
      `shard must be i/n with integers 0 <= i < n, got ${index}/${count}`,
    );
  }
  if (index >= count) {
    throw new InvalidArgumentError(`shard index must be < shard count, got ${index}/${count}`);
  }
}

/** Bytes a store of `config` needs on disk for `windows` windows and `seeds` trajectories. */
function bytesNeeded(c: DataConfig, windows: number, seeds: number): number {
  const [h, w] = outputGrid(c);
  const block = 4096; // the done mark and checksum files take a block each
  return windows * (c.window * 2 * h * w * 4 + 2 * block) + seeds * 8 * (1 + 2 * c.qg.nx * c.qg.ny);
}

/** Free bytes on the filesystem that holds `path` (or its nearest existing parent); null if unknown. */
function freeBytes(path: string): number | null {
  let p = path.replace(/\/+$/, "") || "/";
  for (;;) {
    try {
      Deno.statSync(p);
      const st = statfsSync(p);
      return Number(st.bavail) * Number(st.bsize);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) return null;
      const i = p.lastIndexOf("/");
      if (i < 0) p = ".";
      else if (i === 0) p = "/";
      else p = p.slice(0, i);
    }
  }
}

/**
 * Throws {@link InvalidArgumentError} with the estimate when the windows still to write do not
 * fit on the disk of `out` (nothing is created then).
 */
function checkDiskSpace(out: string, c: DataConfig, windows: number, seeds: number): void {
  const need = bytesNeeded(c, windows, seeds);
  const free = freeBytes(out);
  if (free !== null && need > free) {
    const gib = (b: number) => (b / 2 ** 30).toFixed(b < 2 ** 30 ? 3 : 1);
    throw new InvalidArgumentError(
      `${windows} windows need about ${gib(need)} GiB but only ${gib(free)} GiB are free ` +
        `where ${out} goes; free space, choose another --out, or generate fewer --seeds/--windows`,
    );
  }
}

/**
 * Runs the dataset pipeline (see the module doc). Bad input (an existing path without `resume`,
 * a store of another configuration, counts ≤ 0, a bad shard, more windows than the disk holds)
 * throws before anything is written.
 *
 * @example
 * ```ts
 * import { DATA_PRESETS } from "@soad/soad";
 * import { generateDataset } from "@soad/soad";
 * const out = Deno.makeTempDirSync() + "/tiny.zarr";
 * const r = await generateDataset({ out, config: DATA_PRESETS.tiny, workers: 0, progress: false });
 * console.log(r.written, r.finalized); // 10 true
 * ```
 */
export async function generateDataset(opts: GenerateOptions): Promise<GenerateResult> {
  const t0 = performance.now();
  const c = opts.config;
  validateDataConfig(c);
  if (opts.shard) validateShard(opts.shard);
  const workers = opts.workers ?? navigator.hardwareConcurrency;
  if (!Number.isInteger(workers) || workers < 0) {
    throw new InvalidArgumentError(`workers must be an integer >= 0, got ${workers}`);
  }
  if (
    opts.limitSteps !== undefined && !(Number.isInteger(opts.limitSteps) && opts.limitSteps > 0)
  ) {
    throw new InvalidArgumentError(`limit must be an integer > 0, got ${opts.limitSteps}`);
  }
  const mine = (i: number) => !opts.shard || i % opts.shard.count === opts.shard.index;
  let mySeeds = 0;
  for (let i = 0; i < c.seeds; i++) if (mine(i)) mySeeds++;
  // before anything is created; on resume the done windows are counted below again
  let existing = 0;
  try {
    for (const e of Deno.readDirSync(`${opts.out}/done`)) if (/^\d+$/.test(e.name)) existing++;
  } catch {
    // a new store
  }
  // (a smoke test under a step limit writes at most what those steps produce)
  if (opts.limitSteps === undefined) {
    checkDiskSpace(
      opts.out,
      c,
      Math.max(0, mySeeds * c.windowsPerSeed - existing),
      mySeeds,
    );
  }
  const s = await prepareDatasetStore(opts.out, c, {
    reuse: Boolean(opts.resume) || opts.shard !== undefined,
  });
  const seeds: number[] = [];
  for (let i = 0; i < c.seeds; i++) {
    if (!opts.shard || i % opts.shard.count === opts.shard.index) seeds.push(i);
  }
  // a reused store: every done window of these seeds is re-checked, damaged ones regenerated
  const repaired = recheckWindows(
    s,
    seeds.flatMap((i) =>
      Array.from({ length: c.windowsPerSeed }, (_, k) => i * c.windowsPerSeed + k)
    ),
  );
  let remaining = 0;
  for (const i of seeds) {
    for (let k = 0; k < c.windowsPerSeed; k++) {
      if (!isWindowDone(s, i * c.windowsPerSeed + k)) remaining++;
    }
  }
  const show = opts.progress ?? "auto";
  const progress = show === false ? null : new Progress({
    total: remaining,
    label: `${c.name}: windows`,
  });
  const todo = seeds.filter((i) => {
    for (let k = 0; k < c.windowsPerSeed; k++) {
      if (!isWindowDone(s, i * c.windowsPerSeed + k)) return true;
    }
    return false;
  });
  const tally = { written: 0, limited: false };
  if (workers === 0 || todo.length === 0) {
    for (const i of todo) {
      const r = await runSeedIntoStore(s, i, {
        limitSteps: opts.limitSteps,
        fft: opts.fft,
        onWindow: () => progress?.tick(1, `seed ${i}`),
      });
      tally.written += r.written;
      tally.limited ||= r.limited;
    }
  } else {
    await runInWorkers(s, todo, Math.min(workers, todo.length), opts, (rep) => {
      if (rep.type === "window") {
        tally.written++;
        progress?.tick(1, `seed ${rep.seedIndex}`);
      } else if (rep.type === "seed") tally.limited ||= rep.limited;
    });
  }
  progress?.done();
  const n = c.seeds * c.windowsPerSeed;
  let finalized = false;
  if (!opts.shard && !tally.limited) {
    let all = true;
    for (let w = 0; w < n && all; w++) all = isWindowDone(s, w);
    if (all) {
      finalizeDataset(s);
      finalized = true;
    }
  }
  return {
    path: opts.out,
    seeds,
    written: tally.written,
    skipped: seeds.length * c.windowsPerSeed - remaining,
    repaired,
    finalized,
    limited: tally.limited,
    seconds: (performance.now() - t0) / 1000,
  };
}

function runInWorkers(
  s: DatasetStore,
  seeds: number[],
  nWorkers: number,
  opts: GenerateOptions,
  onReport: (r: WorkerReport) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const queue = [...seeds];
    const pool: Worker[] = [];
    let active = 0;
    let failed = false;
    const stopAll = () => pool.forEach((w) => w.terminate());
    const next = (w: Worker): void => {
      const seedIndex = queue.shift();
      if (seedIndex === undefined) {
        w.terminate();
        if (--active === 0 && !failed) resolve();
        return;
      }
      const job: WorkerJob = {
        path: s.path,
        seedIndex,
        limitSteps: opts.limitSteps,
        fft: opts.fft,
      };
      w.postMessage(job);
    };
    for (let k = 0; k < nWorkers; k++) {
      const w = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
      pool.push(w);
      active++;
      w.onmessage = (e: MessageEvent<WorkerReport>) => {
        const rep = e.data;
        if (rep.type === "error") {
          failed = true;
          stopAll();
          const err = rep.name === "InvalidArgumentError"
            ? new InvalidArgumentError(rep.message)
            : new SoadError(`trajectory ${rep.seedIndex}: ${rep.name}: ${rep.message}`);
          reject(err);
          return;
        }
        onReport(rep);
        if (rep.type === "seed") next(w);
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        failed = true;
        stopAll();
        reject(new SoadError(`worker failed: ${e.message}`));
      };
      next(w);
    }
  });
}
