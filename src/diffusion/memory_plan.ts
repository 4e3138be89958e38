/**
 * Memory planning of the U-Net's passes on tfjs-wasm, whose tensors all live in one wasm32 heap
 * of at most 4 GiB: a pass that outgrows it ends in an emscripten `Aborted()` that leaves the
 * backend unusable, so the U-Net checks its plan first and throws a {@link MemoryLimitError}
 * instead. The peak heap of a pass is linear in the activations: {@link activationUnitBytes}
 * (one tensor per level and block, summed) times a per-pass factor measured with `tf.profile` on
 * the paper's network at 64² (`tests/unet_memory_plan_test.ts` re-measures it at 32²).
 *
 * Without checkpointing, the taped forward of a VJP keeps every tensor a layer's gradient needs
 * and the backward adds every cotangent (tfjs frees neither before the pass ends): ≈ 7.8× the
 * forward's peak (9.8× with parameter gradients), ≈ 12 GB for one 9×256² window, so the
 * paper's grid aborted. With the blocks checkpointed (`checkpoint.ts`) the taped forward keeps
 * one tensor per block: ≈ 1.7× (VJP) and 2.1× (parameter gradients) the forward's peak, 2.5 and
 * 3.2 GB at 256². The U-Net checkpoints only when the plain pass would not fit (not at 128²,
 * whose plain passes fit and are ≈ a forward faster).
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { WindowShape } from "./denoiser.ts";
import { type UNetConfig, unetParamCount } from "./unet_config.ts";

/** The largest heap tfjs-wasm's emscripten module grows to (`getHeapMax()`, 4 GiB − 64 KiB). */
export const TFJS_WASM_HEAP_BYTES = 4294901760;

/** Share of {@link TFJS_WASM_HEAP_BYTES} a plan may use (the allocator fragments the rest). */
export const HEAP_PLAN_FRACTION = 0.9;

/** A U-Net pass: the forward alone, forward + input VJP (sampler), forward + parameter gradients. */
export type UNetPass = "forward" | "vjp" | "param";

/**
 * Peak heap bytes per activation unit, by pass and checkpointing, measured with `tf.profile` on
 * widths (16, 32, 64), 3 blocks, one 9×64² window (peak A units of 9·64²·16 floats: forward
 * 39.9, VJP 311.8 / 66.3, parameter gradients 390.6 / 83.7 plain / checkpointed; one unit is
 * 7 A there), rounded up. On top comes {@link FIXED_PARAM_COPIES} × the weights' bytes.
 */
export const PEAK_UNITS: Record<UNetPass, { plain: number; checkpointed: number }> = {
  forward: { plain: 6, checkpointed: 6 },
  vjp: { plain: 45, checkpointed: 10 },
  param: { plain: 56, checkpointed: 12.5 },
};

/** Weight-sized tensors a pass holds besides the activations (gradients, adjoint filters). */
export const FIXED_PARAM_COPIES = 2;

/**
 * Bytes of one activation unit of a pass on `shape`: float32 activations of every level's width
 * times its blocks + 1, at that level's resolution, for all B·L frames.
 *
 * @example
 * ```ts
 * import { activationUnitBytes } from "@soad/soad/internal";
 * const paper = { channels: 4, widths: [16, 32, 64], blocks: 3, kernel: 5, frames: 9 };
 * console.log(activationUnitBytes(paper, [1, 9, 4, 64, 64])); // 4·9·64²·(16·4 + 32·4/4 + 64·4/16)
 * ```
 */
export function activationUnitBytes(config: UNetConfig, shape: WindowShape): number {
  const [B, L, , H, W] = shape;
  let perPixel = 0;
  config.widths.forEach((w, i) => {
    const blocks = Array.isArray(config.blocks) ? config.blocks[i] : config.blocks;
    perPixel += (w * (blocks + 1)) / 4 ** i;
  });
  return 4 * B * L * H * W * perPixel;
}

/** What {@link planUNetMemory} decides for one pass. */
export interface UNetMemoryPlan {
  /** Whether the blocks are checkpointed (by default: when the plain pass would not fit). */
  checkpoint: boolean;
  /** Estimated peak bytes the pass adds to the tfjs-wasm heap (the weights come on top). */
  bytes: number;
  /** The bytes a plan may use: {@link HEAP_PLAN_FRACTION} of {@link TFJS_WASM_HEAP_BYTES}, less the weights. */
  limit: number;
  /** Whether `bytes` ≤ `limit`. */
  fits: boolean;
}

/**
 * The memory plan of one U-Net pass on tfjs-wasm for one chunk `shape` `[B, L, C, H, W]`:
 * whether the blocks are checkpointed (`checkpoint`: true/false forces it; default `"auto"`:
 * only when the plain pass would not fit) and whether the estimated peak heap fits.
 *
 * @example
 * ```ts
 * import { planUNetMemory } from "@soad/soad/internal";
 * const paper = { channels: 4, widths: [16, 32, 64], blocks: 3, kernel: 5, frames: 9 };
 * const p = planUNetMemory(paper, [1, 9, 4, 256, 256], "vjp");
 * console.log(p.checkpoint, p.fits); // true true
 * ```
 */
export function planUNetMemory(
  config: UNetConfig,
  shape: WindowShape,
  pass: UNetPass,
  checkpoint: boolean | "auto" = "auto",
): UNetMemoryPlan {
  const unit = activationUnitBytes(config, shape);
  const fixed = FIXED_PARAM_COPIES * 4 * unetParamCount(config);
  const limit = HEAP_PLAN_FRACTION * TFJS_WASM_HEAP_BYTES - 4 * unetParamCount(config);
  const ck = checkpoint === "auto" ? PEAK_UNITS[pass].plain * unit + fixed > limit : checkpoint;
  const bytes = PEAK_UNITS[pass][ck ? "checkpointed" : "plain"] * unit + fixed;
  return { checkpoint: ck, bytes, limit, fits: bytes <= limit };
}

/**
 * A pass that would outgrow a fixed memory limit of the backend (thrown before it starts).
 *
 * @example
 * ```ts
 * import { InvalidArgumentError, MemoryLimitError } from "@soad/soad";
 * console.log(new MemoryLimitError("too big") instanceof InvalidArgumentError); // true
 * ```
 */
export class MemoryLimitError extends InvalidArgumentError {}

const GB = (b: number): string => (b / 1e9).toFixed(1);

/**
 * Throws a {@link MemoryLimitError} when a pass of `shape` does not fit tfjs-wasm's heap, naming
 * the pass, the estimate and the limit; returns the plan otherwise.
 *
 * @example
 * ```ts
 * import { assertUNetMemory } from "@soad/soad/internal";
 * const paper = { channels: 4, widths: [16, 32, 64], blocks: 3, kernel: 5, frames: 9 };
 * try {
 *   assertUNetMemory(paper, [1, 9, 4, 512, 512], "vjp");
 * } catch (e) {
 *   console.log((e as Error).name); // "MemoryLimitError"
 * }
 * ```
 */
export function assertUNetMemory(
  config: UNetConfig,
  shape: WindowShape,
  pass: UNetPass,
  checkpoint: boolean | "auto" = "auto",
): UNetMemoryPlan {
  const plan = planUNetMemory(config, shape, pass, checkpoint);
  if (!plan.fits) {
    const what = { forward: "forward pass", vjp: "forward + VJP", param: "parameter gradient" };
    throw new MemoryLimitError(
      `the U-Net ${what[pass]} on one chunk of [${shape}] needs ≈ ${GB(plan.bytes)} GB of ` +
        `tfjs-wasm heap${plan.checkpoint ? " even with its blocks checkpointed" : ""}, more ` +
        `than the ${GB(plan.limit)} GB a plan may use of the 4 GiB wasm32 heap; expected one ` +
        `window of at most 9×256² at the paper's widths on wasm (use a smaller grid, or the ` +
        `WebGPU backend or the PyTorch bridge for larger ones)`,
    );
  }
  return plan;
}
