/**
 * Growing a trained U-Net into a larger one without changing what it computes (Net2Net-style,
 * Chen et al. 2016), so that a wider, deeper or wider-kernel network can continue a trained prior
 * instead of starting from a random init — which a CPU budget cannot afford:
 * - **widths** × an integer m per level: every hidden channel is repeated m times (`[x, x]` for m
 *   = 2), consumers divide their weights over the copies. The channel LayerNorm sees the same mean
 *   and variance over m identical copies, so the network's output is unchanged. The copies would
 *   get identical gradients for ever; an antisymmetric split breaks that: the consumers' weights
 *   of the m copies of one input channel get perturbations that sum to zero (`w/m + η_r`, Σ η_r =
 *   0), which leaves the output unchanged while the copies are still equal;
 * - **blocks**: the new residual blocks are appended after the trained ones with their last
 *   convolution (`conv2`) zero, so each is the identity until training moves it;
 * - **kernel**: the trained k×k filters sit at the centre of the larger ones, zeros around them
 *   (circular padding keeps the centre aligned, stride 2 included).
 * @module
 */

import {
  type ResolvedUNetConfig,
  resolveUNetConfig,
  type UNetConfig,
  unetConfigFromWeights,
} from "../diffusion/unet_config.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { NamedTensor } from "../io/safetensors.ts";
import { Rng } from "../rng.ts";

/** What {@link growUNetWeights} did. */
export interface GrowReport {
  /** The trained network's architecture. */
  from: ResolvedUNetConfig;
  /** Width multiple per level. */
  widthFactors: number[];
  /** New residual blocks (identity at the start), by name prefix. */
  newBlocks: string[];
}

/** Options of {@link growUNetWeights}. */
export interface GrowOptions {
  /** Seed of the symmetry-breaking split (default 0). */
  seed?: number;
  /**
   * Size of the split's perturbations relative to the PyTorch init bound 1/√fan_in of the grown
   * tensor (default 0.25; 0 keeps the copies equal, and so equal for ever).
   */
  split?: number;
}

/**
 * Whether a trained network of architecture `from` can grow into `to`: same channels, same number
 * of levels, every width an integer multiple, at least as many blocks per level, a kernel at
 * least as large. Returns `null` when it can, else the reason.
 *
 * @example
 * ```ts
 * import { growthProblem } from "@soad/soad/internal";
 * const a = { channels: 4, widths: [16, 16, 32], blocks: 1, kernel: 3, frames: 9 };
 * console.log(growthProblem(a, { ...a, widths: [32, 32, 64], blocks: 2, kernel: 5 })); // null
 * console.log(growthProblem(a, { ...a, widths: [24, 16, 32] })); // "width 24 of level 0 is not a multiple of 16"
 * ```
 */
export function growthProblem(from: UNetConfig, to: UNetConfig): string | null {
  const a = resolveUNetConfig(from), b = resolveUNetConfig(to);
  if (a.channels !== b.channels) return `the channels differ (${a.channels} → ${b.channels})`;
  if (a.widths.length !== b.widths.length) {
    return `the number of levels differs (${a.widths.length} → ${b.widths.length})`;
  }
  for (let i = 0; i < a.widths.length; i++) {
    if (b.widths[i] % a.widths[i] !== 0) {
      return `width ${b.widths[i]} of level ${i} is not a multiple of ${a.widths[i]}`;
    }
    if (b.blocks[i] < a.blocks[i]) {
      return `level ${i} would lose residual blocks (${a.blocks[i]} → ${b.blocks[i]})`;
    }
  }
  if (b.kernel < a.kernel) return `the kernel would shrink (${a.kernel} → ${b.kernel})`;
  return null;
}

/**
 * What growing `from` into `to` does, in words, or `null` when it does not apply (the same
 * architecture, or one it cannot grow into: {@link growthProblem}).
 *
 * @example
 * ```ts
 * import { describeGrowth } from "@soad/soad/internal";
 * const a = { channels: 4, widths: [16, 16, 32], blocks: 1, kernel: 3, frames: 9 };
 * console.log(describeGrowth(a, { ...a, kernel: 5 }));
 * // "widths [16,16,32], blocks [1,1,1], kernel 3 into widths [16,16,32], blocks [1,1,1], kernel 5"
 * ```
 */
export function describeGrowth(from: UNetConfig, to: UNetConfig): string | null {
  const arch = (c: UNetConfig): string => {
    const r = resolveUNetConfig(c);
    return `widths [${r.widths}], blocks [${r.blocks}], kernel ${r.kernel}`;
  };
  const a = arch(from), b = arch(to);
  return a === b || growthProblem(from, to) !== null ? null : `${a} into ${b}`;
}

/** How one parameter maps onto its trained counterpart. */
interface Mapping {
  /** Repeat factor of the first (output) axis. */
  out: number;
  /** Repeat factor of the second (input) axis, 1 for vectors. */
  inp: number;
}

function mappingOf(name: string, m: number[]): Mapping {
  const level = Number(name.split(".")[1]);
  const here = m[level];
  const below = level > 0 ? m[level - 1] : 1;
  if (name.startsWith("temb.")) return { out: 1, inp: 1 };
  if (/^down\.\d+\.conv\./.test(name)) return { out: here, inp: below };
  if (/^up\.\d+\.conv\./.test(name)) return { out: below, inp: here };
  if (/\.temb\./.test(name)) return { out: here, inp: 1 }; // a block's time projection [c, 64]
  return { out: here, inp: here }; // norms, block and temporal convs
}

/**
 * Overwrites the freshly initialised weights `fresh` of network `config` with the trained weights
 * `from` of a smaller network, grown as the module text says; the grown network computes what the
 * trained one did. Throws an `InvalidArgumentError` naming the mismatch when `from` cannot grow
 * into `config` ({@link growthProblem}).
 *
 * @example
 * ```ts
 * import { growUNetWeights, initUNetWeights } from "@soad/soad/internal";
 * const a = { channels: 2, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 };
 * const b = { ...a, widths: [8, 16], blocks: 2, kernel: 5 };
 * const fresh = initUNetWeights(b, 0);
 * const r = growUNetWeights(fresh, b, initUNetWeights(a, 1));
 * console.log(r.widthFactors, r.newBlocks); // [ 2, 2 ] [ "down.0.rb.1", "down.1.rb.1", "up.0.rb.1", "up.1.rb.1" ]
 * ```
 */
export function growUNetWeights(
  fresh: Map<string, NamedTensor>,
  config: UNetConfig,
  from: Map<string, NamedTensor>,
  options: GrowOptions = {},
): GrowReport {
  const to = resolveUNetConfig(config);
  const src = resolveUNetConfig(unetConfigFromWeights(from, to.frames));
  const problem = growthProblem(src, to);
  if (problem !== null) {
    throw new InvalidArgumentError(
      `cannot grow the trained network (widths [${src.widths}], blocks [${src.blocks}], kernel ` +
        `${src.kernel}) into widths [${to.widths}], blocks [${to.blocks}], kernel ${to.kernel}: ` +
        `${problem}`,
    );
  }
  const split = options.split ?? 0.25;
  if (!(Number.isFinite(split) && split >= 0)) {
    throw new InvalidArgumentError(`split must be a finite number >= 0, got ${split}`);
  }
  const rng = new Rng(options.seed ?? 0);
  const m = to.widths.map((w, i) => w / src.widths[i]);
  const report: GrowReport = { from: src, widthFactors: m, newBlocks: [] };
  for (const [name, dst] of fresh) {
    const block = /^((?:down|up)\.\d+\.rb\.\d+)\./.exec(name)?.[1];
    const s = from.get(name);
    if (s === undefined) {
      if (block === undefined) {
        throw new InvalidArgumentError(`cannot grow: the trained weights lack ${name}`);
      }
      // a new block: fresh init, identity through a zero last convolution
      if (/\.conv2\.(weight|bias)$/.test(name)) dst.data.fill(0);
      if (!report.newBlocks.includes(block)) report.newBlocks.push(block);
      continue;
    }
    const { out, inp } = mappingOf(name, m);
    // spatial filters grow to the new kernel; the blocks' 1×1 conv2 and Conv1d taps do not
    const spatial = s.shape.length === 4 && !name.endsWith(".conv2.weight");
    const expect = s.shape.map((d, i) =>
      i === 0 ? d * out : i === 1 ? d * inp : spatial ? to.kernel : d
    );
    if (s.shape.length !== dst.shape.length || expect.some((d, i) => d !== dst.shape[i])) {
      throw new InvalidArgumentError(
        `cannot grow ${name}: trained shape [${s.shape}] does not map onto [${dst.shape}]`,
      );
    }
    copyGrown(s, dst, s.shape.length === 1 ? 1 : inp, split, rng);
  }
  return report;
}

/** `dst[o, i, …] = src[o mod O, i mod I, …centred] / inp` plus the antisymmetric split. */
function copyGrown(
  s: NamedTensor,
  dst: NamedTensor,
  inp: number,
  split: number,
  rng: Rng,
): void {
  const [O, I = 1] = s.shape;
  const [O2, I2 = 1] = dst.shape;
  const ks = s.shape.length === 4 ? s.shape[2] : 1, kd = dst.shape.length === 4 ? dst.shape[2] : 1;
  const taps = s.shape.length === 3 ? s.shape[2] : ks * ks; // Conv1d: [out, in, taps]
  const tapsD = s.shape.length === 3 ? taps : kd * kd;
  const off = (kd - ks) / 2;
  dst.data.fill(0);
  for (let o = 0; o < O2; o++) {
    for (let i = 0; i < I2; i++) {
      const sBase = ((o % O) * I + (i % I)) * taps, dBase = (o * I2 + i) * tapsD;
      for (let t = 0; t < taps; t++) {
        const d = s.shape.length === 4 ? ((Math.floor(t / ks) + off) * kd + (t % ks) + off) : t;
        dst.data[dBase + d] = s.data[sBase + t] / inp;
      }
    }
  }
  if (inp === 1 || split === 0) return;
  // the m copies of input channel i (i, i + I, i + 2I, …) get perturbations summing to zero
  const bound = split / Math.sqrt(I2 * tapsD);
  const eta = new Float64Array(inp);
  for (let o = 0; o < O2; o++) {
    for (let i = 0; i < I; i++) {
      for (let t = 0; t < tapsD; t++) {
        let mean = 0;
        for (let r = 0; r < inp; r++) mean += eta[r] = (2 * rng.uniform() - 1) * bound;
        mean /= inp;
        for (let r = 0; r < inp; r++) dst.data[(o * I2 + i + r * I) * tapsD + t] += eta[r] - mean;
      }
    }
  }
}
