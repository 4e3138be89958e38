/**
 * The jobs the conv engine's helper thread runs, by index in its control block (index 0: exit).
 * Shared by the engine (`wasm_conv.ts`) and the helper (`conv_thread.ts`).
 * @module
 */

/** Conv-module exports the helper can run; a job's index is its code in the control block. */
export const CONV_JOBS = [
  "exit",
  "conv_fwd",
  "conv_wgrad",
  "fft_fwd_images",
  "fft_inv_images",
  "kdft_cols",
  "spec_mul",
  "spec_wgrad",
  "silu_fwd",
  "silu_bwd",
  "ln_fwd",
  "ln_bwd",
  "col_sum",
] as const;

/** A job of {@link CONV_JOBS} other than exit. */
export type ConvJob = Exclude<(typeof CONV_JOBS)[number], "exit">;
