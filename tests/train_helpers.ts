// Shared setup of the trainer tests: a tiny network on synthetic 8x8 travelling waves, trained in
// this thread. Not a test file itself.
import { SyntheticSource } from "../src/train/source.ts";

/** A tiny U-Net (C = 4, two levels, one block, 3x3, 3 frames). */
export const TINY_UNET = { channels: 4, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 };
/** Synthetic 8x8 windows of 5 frames. */
export const TINY_SOURCE: SyntheticSource = new SyntheticSource({ height: 8, width: 8, length: 5 });
/** A training configuration of the tiny network (add `steps`). */
export const TINY_BASE = {
  model: "sin3x" as const,
  unet: TINY_UNET,
  frames: 3,
  batchSize: 3,
  lr: 3e-3,
  checkpointEvery: 4,
  validEvery: 4,
  validSamples: 3,
};
/** Train in this thread, without a progress bar. */
export const LOCAL = { workers: 0, progress: false as const };
/** A fresh temporary run folder. */
export const tempRun = (prefix: string): Promise<string> => Deno.makeTempDir({ prefix });
