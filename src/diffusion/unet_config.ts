/**
 * Configuration of the SOAD/SDA denoising U-Net (spec §4.1): validation, the PyTorch state-dict
 * names and shapes of its parameters, the parameter count, and a seeded PyTorch-like random init.
 * Nothing here allocates tensors.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { Rng } from "../rng.ts";
import type { NamedTensor } from "../io/safetensors.ts";

/**
 * Hyper-parameters of the U-Net. The paper's network: widths (16, 32, 64), 3 blocks, kernel 5.
 *
 * @example
 * ```ts
 * import type { UNetConfig } from "@soad/soad";
 * const small: UNetConfig = { channels: 4, widths: [4, 8, 16], blocks: 2, kernel: 5, frames: 9 };
 * console.log(small.widths.length); // 3 levels: 16×16 → 8×8 → 4×4 on a 16×16 grid
 * ```
 */
export interface UNetConfig {
  /** Channels C of the (augmented) state. */
  channels: number;
  /** Hidden widths per level, finest first, e.g. `[16, 32, 64]`. */
  widths: number[];
  /** Residual blocks per level (one number for every level). */
  blocks: number[] | number;
  /** Odd spatial kernel size (5). */
  kernel: number;
  /** Frames L per window (9); the network itself works for any L, this is the default. */
  frames: number;
}

/** A validated {@link UNetConfig} with `blocks` expanded to one count per level. */
export interface ResolvedUNetConfig extends UNetConfig {
  /** Residual blocks per level. */
  blocks: number[];
}

/** Width of the time embedding (fixed by the spec). */
export const EMB_DIM = 64;
/** Number of Fourier frequencies π·j, j = 1..16, of the time embedding. */
export const N_FREQ = 16;
/** Hidden width of the time-embedding MLP. */
export const EMB_HIDDEN = 256;

/**
 * The paper's network for C channels: widths (16, 32, 64), 3 blocks, kernel 5, 9 frames.
 *
 * @example
 * ```ts
 * import { paperUNetConfig } from "@soad/soad";
 * import { unetParamCount } from "@soad/soad/internal";
 * console.log(unetParamCount(paperUNetConfig(2))); // 3722658
 * ```
 */
export function paperUNetConfig(channels: number): UNetConfig {
  return { channels, widths: [16, 32, 64], blocks: 3, kernel: 5, frames: 9 };
}

function posInt(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new InvalidArgumentError(`${what} must be a positive integer, got ${v}`);
  }
  return v;
}

/**
 * Validates a config and expands `blocks`. Throws an `InvalidArgumentError` naming the field.
 *
 * @example
 * ```ts
 * import { resolveUNetConfig } from "@soad/soad/internal";
 * const c = resolveUNetConfig({ channels: 4, widths: [4, 8], blocks: 2, kernel: 5, frames: 9 });
 * console.log(c.blocks); // [2, 2]
 * ```
 */
export function resolveUNetConfig(config: UNetConfig): ResolvedUNetConfig {
  if (config === null || typeof config !== "object") {
    throw new InvalidArgumentError("UNet config must be an object");
  }
  const channels = posInt(config.channels, "config.channels");
  if (!Array.isArray(config.widths) || config.widths.length < 1) {
    throw new InvalidArgumentError("config.widths must be a non-empty array of positive integers");
  }
  const widths = config.widths.map((w, i) => posInt(w, `config.widths[${i}]`));
  let blocks: number[];
  if (typeof config.blocks === "number") {
    blocks = widths.map(() => posInt(config.blocks, "config.blocks"));
  } else if (Array.isArray(config.blocks) && config.blocks.length === widths.length) {
    blocks = config.blocks.map((b, i) => posInt(b, `config.blocks[${i}]`));
  } else {
    throw new InvalidArgumentError(
      `config.blocks must be a positive integer or an array of ${widths.length} (one per width)`,
    );
  }
  const kernel = posInt(config.kernel, "config.kernel");
  if (kernel % 2 !== 1) throw new InvalidArgumentError(`config.kernel must be odd, got ${kernel}`);
  const frames = posInt(config.frames, "config.frames");
  return { channels, widths, blocks, kernel, frames };
}

/**
 * The parameters of the network: PyTorch state-dict name → PyTorch shape, in module order
 * (names and layouts as in `shared/fixtures/unet/README.md`).
 *
 * @example
 * ```ts
 * import { unetParamShapes } from "@soad/soad/internal";
 * const s = unetParamShapes({ channels: 4, widths: [4, 8], blocks: 1, kernel: 5, frames: 9 });
 * console.log(s.get("down.1.conv.weight")); // [8, 4, 5, 5]
 * ```
 */
export function unetParamShapes(config: UNetConfig): Map<string, number[]> {
  const { channels: C, widths, blocks, kernel: k } = resolveUNetConfig(config);
  const m = new Map<string, number[]>();
  const lin = (n: string, o: number, i: number) => {
    m.set(`${n}.weight`, [o, i]);
    m.set(`${n}.bias`, [o]);
  };
  const conv = (n: string, o: number, i: number, kk: number) => {
    m.set(`${n}.weight`, [o, i, kk, kk]);
    m.set(`${n}.bias`, [o]);
  };
  const tb = (n: string, c: number) => {
    m.set(`${n}.conv1.weight`, [4 * c, c, 3]);
    m.set(`${n}.conv1.bias`, [4 * c]);
    m.set(`${n}.conv2.weight`, [c, 4 * c, 1]);
    m.set(`${n}.conv2.bias`, [c]);
  };
  const rb = (n: string, c: number) => {
    lin(`${n}.temb`, c, EMB_DIM);
    m.set(`${n}.norm.weight`, [c]);
    m.set(`${n}.norm.bias`, [c]);
    conv(`${n}.conv1`, 4 * c, c, k);
    conv(`${n}.conv2`, c, 4 * c, 1);
  };
  lin("temb.fc1", EMB_HIDDEN, 2 * N_FREQ);
  lin("temb.fc2", EMB_DIM, EMB_HIDDEN);
  widths.forEach((c, i) => {
    conv(`down.${i}.conv`, c, i === 0 ? C : widths[i - 1], k);
    if (i > 0) tb(`down.${i}.tb`, c);
    for (let j = 0; j < blocks[i]; j++) rb(`down.${i}.rb.${j}`, c);
  });
  widths.forEach((c, i) => {
    for (let j = 0; j < blocks[i]; j++) rb(`up.${i}.rb.${j}`, c);
    if (i > 0) {
      tb(`up.${i}.tb`, c);
      m.set(`up.${i}.norm.weight`, [c]);
      m.set(`up.${i}.norm.bias`, [c]);
    }
    conv(`up.${i}.conv`, i === 0 ? C : widths[i - 1], c, k);
  });
  return m;
}

/**
 * Number of trainable parameters (3,721,056 + 801·C for the paper's network).
 *
 * @example
 * ```ts
 * import { unetParamCount } from "@soad/soad/internal";
 * const n = unetParamCount({ channels: 4, widths: [4, 8, 16], blocks: 2, kernel: 5, frames: 9 });
 * console.log(n); // 192108
 * ```
 */
export function unetParamCount(config: UNetConfig): number {
  let n = 0;
  for (const s of unetParamShapes(config).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * Seeded random weights with PyTorch's default init: Linear, Conv1d and Conv2d weights and biases
 * uniform in ±1/√fan_in (Kaiming-uniform with a = √5), LayerNorm scale 1 and shift 0.
 *
 * @example
 * ```ts
 * import { initUNetWeights } from "@soad/soad/internal";
 * const w = initUNetWeights({ channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 }, 7);
 * console.log(w.get("down.0.rb.0.norm.weight")?.data[0]); // 1
 * ```
 */
export function initUNetWeights(config: UNetConfig, seed: number): Map<string, NamedTensor> {
  const rng = new Rng(seed);
  const shapes = unetParamShapes(config);
  const out = new Map<string, NamedTensor>();
  for (const [name, shape] of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (name.includes(".norm.")) {
      data.fill(name.endsWith(".weight") ? 1 : 0);
    } else {
      const wShape = shapes.get(name.replace(/\.bias$/, ".weight"))!;
      const fanIn = wShape.slice(1).reduce((a, b) => a * b, 1);
      const bound = 1 / Math.sqrt(fanIn);
      for (let i = 0; i < size; i++) data[i] = (2 * rng.uniform() - 1) * bound;
    }
    out.set(name, { shape: [...shape], data });
  }
  return out;
}

/**
 * The U-Net configuration that fits a state dict (PyTorch names): channels, widths, blocks per
 * level and kernel from the shapes; `frames` (not stored in the weights) from the argument.
 *
 * @example
 * ```ts
 * import { unetConfigFromWeights } from "@soad/soad";
 * import { initUNetWeights } from "@soad/soad/internal";
 * const w = initUNetWeights({ channels: 2, widths: [4, 8], blocks: 1, kernel: 5, frames: 9 }, 0);
 * console.log(unetConfigFromWeights(w).widths); // [4, 8]
 * ```
 */
export function unetConfigFromWeights(
  weights: Map<string, NamedTensor>,
  frames = 9,
): UNetConfig {
  const first = weights.get("down.0.conv.weight");
  if (!first || first.shape.length !== 4) {
    throw new InvalidArgumentError("not a SOAD U-Net state dict: no 4-D down.0.conv.weight");
  }
  const widths: number[] = [];
  // widths and channels from 1-D biases where present, so that one misshaped weight tensor is
  // named by the check against the network instead of changing the inferred network
  const len = (name: string): number | undefined => {
    const t = weights.get(name);
    return t && t.shape.length === 1 ? t.shape[0] : undefined;
  };
  for (let i = 0; weights.has(`down.${i}.conv.weight`); i++) {
    widths.push(len(`down.${i}.conv.bias`) ?? weights.get(`down.${i}.conv.weight`)!.shape[0]);
  }
  const blocks = widths.map((_, i) => {
    let n = 0;
    while (weights.has(`down.${i}.rb.${n}.conv1.weight`)) n++;
    if (n === 0) {
      throw new InvalidArgumentError(
        `not a complete SOAD U-Net state dict: tensor down.${i}.rb.0.conv1.weight is missing ` +
          `(level ${i} has down.${i}.conv.weight but no residual block)`,
      );
    }
    return n;
  });
  return resolveUNetConfig({
    channels: len("up.0.conv.bias") ?? first.shape[1],
    widths,
    blocks,
    kernel: first.shape[2],
    frames,
  });
}
