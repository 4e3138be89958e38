/**
 * Warm start: begin a training run from another prior's weights. CPU-scale training budgets are
 * small, and the priors of SOAD share their state channels (q1, q2 first, spec §3), so a prior for
 * another operator — or the SDA prior — starts far closer to its optimum from a trained sibling
 * than from a random init. Every tensor is copied where the shapes agree; the channel-dependent
 * tensors (the first convolution's input channels, the last convolution's output channels and
 * bias) copy the channels both networks have and keep the fresh init for the others.
 * @module
 */

import {
  resolveUNetConfig,
  type UNetConfig,
  unetConfigFromWeights,
} from "../diffusion/unet_config.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { NamedTensor } from "../io/safetensors.ts";
import { type GrowReport, growthProblem, growUNetWeights } from "./grow.ts";

/** What {@link warmStartWeights} did. */
export interface WarmStartReport {
  /** Tensors copied whole. */
  copied: number;
  /** Tensors copied in part (channel count differs). */
  partial: string[];
  /** Set when the trained network was smaller and grew into this one (`grow.ts`). */
  grown?: GrowReport;
}

/** Copies the overlapping hyper-rectangle of `src` into `dst` (same rank). */
function copyOverlap(src: NamedTensor, dst: NamedTensor): void {
  const r = dst.shape.length;
  const ext = dst.shape.map((d, i) => Math.min(d, src.shape[i]));
  if (ext.some((e) => e === 0)) return;
  const strides = (s: number[]) => {
    const out = new Array<number>(s.length).fill(1);
    for (let i = s.length - 2; i >= 0; i--) out[i] = out[i + 1] * s[i + 1];
    return out;
  };
  const ss = strides(src.shape), ds = strides(dst.shape);
  const idx = new Array<number>(r).fill(0);
  const total = ext.reduce((a, b) => a * b, 1);
  for (let n = 0; n < total; n++) {
    let si = 0, di = 0;
    for (let k = 0; k < r; k++) {
      si += idx[k] * ss[k];
      di += idx[k] * ds[k];
    }
    dst.data[di] = src.data[si];
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < ext[k]) break;
      idx[k] = 0;
    }
  }
}

/**
 * Overwrites the freshly initialised weights `fresh` (of network `config`) with those of a trained
 * network `from` of the same architecture except, possibly, the channel count C; or, with the
 * same C, of a smaller network that grows into this one without changing its output (integer
 * multiples of the widths, more blocks, a larger kernel: {@link growUNetWeights}, split seed
 * `seed`). Throws an `InvalidArgumentError` otherwise.
 *
 * @example
 * ```ts
 * import { initUNetWeights } from "@soad/soad/internal";
 * import { warmStartWeights } from "@soad/soad/internal";
 * const a = { channels: 4, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 };
 * const b = { ...a, channels: 2 };
 * const fresh = initUNetWeights(b, 0);
 * const r = warmStartWeights(fresh, b, initUNetWeights(a, 1));
 * console.log(r.partial); // [ "down.0.conv.weight", "up.0.conv.weight", "up.0.conv.bias" ]
 * ```
 */
export function warmStartWeights(
  fresh: Map<string, NamedTensor>,
  config: UNetConfig,
  from: Map<string, NamedTensor>,
  seed = 0,
): WarmStartReport {
  const src = unetConfigFromWeights(from, config.frames);
  const same = (a: UNetConfig) => {
    const r = resolveUNetConfig({ ...a, frames: a.frames ?? config.frames });
    return JSON.stringify([r.widths, r.blocks, r.kernel, r.frames]);
  };
  if (same(src) !== same(config)) {
    const why = growthProblem(src, config);
    if (why === null) {
      const grown = growUNetWeights(fresh, config, from, { seed });
      return { copied: 0, partial: [], grown };
    }
    throw new InvalidArgumentError(
      `warm start needs the same widths, blocks, kernel and frames, or a smaller network that ` +
        `grows into this one (${why}): the weights have ${same(src)}, the run ${same(config)} ` +
        `([widths, blocks, kernel, frames])`,
    );
  }
  const report: WarmStartReport = { copied: 0, partial: [] };
  for (const [name, dst] of fresh) {
    const s = from.get(name);
    if (!s || s.shape.length !== dst.shape.length) {
      throw new InvalidArgumentError(
        `warm start: the weights lack ${name} of rank ${dst.shape.length}`,
      );
    }
    if (s.shape.every((d, i) => d === dst.shape[i])) {
      dst.data.set(s.data);
      report.copied++;
    } else {
      copyOverlap(s, dst);
      report.partial.push(name);
    }
  }
  return report;
}
