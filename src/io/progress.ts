/**
 * A progress indicator for long work (simulations, training, sampling). On a terminal it redraws
 * one line on stderr, at most about 10 times a second:
 * `label [########............] 45/100 45% 12.3 it/s ETA 0:07 info`. When stderr is not a
 * terminal (CI, a log file) it writes a plain line at each 10 % step and at the end instead.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** Where progress is written: `Deno.stderr` or anything with the same `writeSync`. */
export interface ProgressStream {
  /** Writes bytes, returning how many were written (as `Deno.stderr.writeSync`). */
  writeSync(p: Uint8Array): number;
  /** Whether the stream is a terminal; absent means not. */
  isTerminal?(): boolean;
}

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Number of units of work (iterations) expected; an integer ≥ 0. */
  total: number;
  /** Label at the start of each line (e.g. "spin-up"). */
  label?: string;
  /** Where to write (default `Deno.stderr`). */
  stream?: ProgressStream;
  /** Force terminal (redrawn line) or log mode; default `stream.isTerminal()`. */
  tty?: boolean;
  /** Clock in milliseconds (default `performance.now`); inject for tests. */
  now?: () => number;
  /** Width of the bar in characters (default 20). */
  barWidth?: number;
}

/**
 * Formats seconds as `m:ss` or `h:mm:ss` (`--:--` when not finite).
 *
 * @example
 * ```ts
 * import { formatDuration } from "./progress.ts";
 * console.log(formatDuration(7), formatDuration(3725)); // "0:07" "1:02:05"
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const ss = String(r).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function formatRate(perSecond: number): string {
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) return "-- it/s";
  if (perSecond < 1) return `${(1 / perSecond).toFixed(2)} s/it`;
  return `${perSecond.toFixed(perSecond >= 100 ? 0 : perSecond >= 10 ? 1 : 2)} it/s`;
}

/**
 * Reports progress of `total` units of work. Writing never throws: a failing stream (e.g. a
 * closed pipe) silences the indicator instead of crashing the work.
 *
 * @example
 * ```ts
 * import { Progress } from "@soad/soad";
 * const lines: string[] = [];
 * const stream = {
 *   writeSync: (p: Uint8Array) => (lines.push(new TextDecoder().decode(p)), p.length),
 * };
 * const p = new Progress({ total: 100, label: "steps", stream });
 * for (let i = 0; i < 100; i++) p.tick(1, `t=${i}`);
 * p.done();
 * console.log(lines.length); // 10 (10 %, 20 %, ..., 100 %)
 * ```
 */
export class Progress {
  /** Units of work expected. */
  readonly total: number;
  /** Label at the start of each line. */
  readonly label: string;
  #count = 0;
  #info = "";
  #stream: ProgressStream;
  #tty: boolean;
  #now: () => number;
  #start: number;
  #lastDraw = -Infinity;
  #lastDecile = 0;
  #finished = false;
  #broken = false;
  #barWidth: number;
  #encoder = new TextEncoder();

  /**
   * Creates the indicator and starts its clock; nothing is written before the first tick.
   * @param options total, label, and optionally the stream, mode and clock
   */
  constructor(options: ProgressOptions) {
    const { total } = options;
    if (!Number.isSafeInteger(total) || total < 0) {
      throw new InvalidArgumentError(`Progress: total must be an integer ≥ 0, got ${total}`);
    }
    this.total = total;
    this.label = options.label ?? "";
    this.#stream = options.stream ?? Deno.stderr;
    this.#now = options.now ?? (() => performance.now());
    this.#barWidth = options.barWidth ?? 20;
    let tty = options.tty;
    if (tty === undefined) {
      try {
        tty = this.#stream.isTerminal?.() ?? false;
      } catch {
        tty = false;
      }
    }
    this.#tty = tty;
    this.#start = this.#now();
  }

  /** Units of work done so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Records `n` more units of work done (default 1), with an optional short status shown at the
   * end of the line (e.g. the current loss).
   */
  tick(n = 1, info?: string): void {
    if (this.#finished) return;
    this.#count += n;
    if (info !== undefined) this.#info = info;
    const now = this.#now();
    if (this.#tty) {
      if (now - this.#lastDraw >= 100 || this.#count >= this.total) {
        this.#lastDraw = now;
        this.#write(`\r${this.line(now)}\x1b[K`);
      }
      return;
    }
    const decile = this.total === 0 ? 10 : Math.floor((10 * this.#count) / this.total);
    if (decile > this.#lastDecile) {
      this.#lastDecile = Math.min(decile, 10);
      this.#write(this.line(now) + "\n");
    }
  }

  /** Finishes: draws the final state (on a terminal, ends the line). Further ticks are ignored. */
  done(): void {
    if (this.#finished) return;
    this.#finished = true;
    const now = this.#now();
    if (this.#tty) this.#write(`\r${this.line(now)}\x1b[K\n`);
    else if (this.#lastDecile < 10) this.#write(this.line(now) + "\n");
  }

  /**
   * The status line for the current state at time `now` (ms, from the clock), without
   * terminal control characters.
   */
  line(now: number = this.#now()): string {
    const elapsed = Math.max(0, (now - this.#start) / 1000);
    const frac = this.total === 0 ? 1 : Math.min(1, this.#count / this.total);
    const filled = Math.round(frac * this.#barWidth);
    const bar = "#".repeat(filled) + ".".repeat(this.#barWidth - filled);
    const rate = elapsed > 0 ? this.#count / elapsed : NaN;
    const finished = this.#finished || this.#count >= this.total;
    const time = finished
      ? `in ${formatDuration(elapsed)}`
      : `ETA ${formatDuration(rate > 0 ? (this.total - this.#count) / rate : NaN)}`;
    const parts = [
      this.label,
      `[${bar}]`,
      `${this.#count}/${this.total}`,
      `${Math.floor(frac * 100)}%`,
      formatRate(rate),
      time,
      this.#info,
    ];
    return parts.filter((s) => s !== "").join(" ");
  }

  #write(text: string): void {
    if (this.#broken) return;
    try {
      const bytes = this.#encoder.encode(text);
      for (let off = 0; off < bytes.length;) {
        const n = this.#stream.writeSync(bytes.subarray(off));
        if (!(n > 0)) break;
        off += n;
      }
    } catch {
      this.#broken = true;
    }
  }
}
