/**
 * Typed errors thrown by soad. Each message says what was wrong and what is expected.
 * @module
 */

/** Base class of every error soad throws on purpose. */
export class SoadError extends Error {
  /**
   * Creates the error.
   * @param message what was wrong and what is expected
   */
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * An argument, parameter or input array is invalid (wrong shape, non-finite, out of range).
 *
 * @example
 * ```ts
 * import { InvalidArgumentError } from "@soad/soad";
 * try {
 *   throw new InvalidArgumentError("nx must be a power of two in 16..1024, got 100");
 * } catch (e) {
 *   console.log(e instanceof InvalidArgumentError); // true
 * }
 * ```
 */
export class InvalidArgumentError extends SoadError {}

/**
 * A simulation or sampler produced non-finite values or went numerically unstable.
 *
 * @example
 * ```ts
 * import { BlowUpError } from "@soad/soad";
 * const e = new BlowUpError("q became non-finite at step 12 (CFL 3.1)", 12);
 * console.log(e.step); // 12
 * ```
 */
export class BlowUpError extends SoadError {
  /** The step (1-based count of steps taken) at which the problem was detected. */
  readonly step: number;
  /**
   * Creates the error.
   * @param message what happened, naming the step and the CFL number
   * @param step the step at which it was detected
   */
  constructor(message: string, step: number) {
    super(message);
    this.step = step;
  }
}

/**
 * Stored data (a dataset chunk, a checkpoint, a weights file) is damaged or is not what its
 * metadata or the run it belongs to says: a checksum mismatch, a missing or altered metadata
 * document, non-finite numbers, or another dataset than the one recorded.
 *
 * @example
 * ```ts
 * import { IntegrityError, SoadError } from "@soad/soad";
 * const e = new IntegrityError("window 3 of data/qg.zarr fails its checksum");
 * console.log(e instanceof SoadError); // true
 * ```
 */
export class IntegrityError extends SoadError {}
