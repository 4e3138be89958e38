/**
 * The typed interface of observation operators on the normalised state (`../shared/spec/SOAD.md`
 * §2.1) and builders for user-supplied element-wise and linear operators.
 *
 * Frames are passed as one array of layout `[F, inChannels, H, W]` (row-major); the output has
 * layout `[F, outChannels, H, W]`. Operators act per frame.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** A read-only numeric array (Float32Array, Float64Array or number[]). */
export type NumericArray = ArrayLike<number>;

/**
 * An observation operator H acting frame by frame on the normalised state.
 *
 * @example
 * ```ts
 * import type { ObservationOperator } from "@soad/soad";
 * const twice: ObservationOperator = {
 *   name: "twice",
 *   kind: "linear",
 *   inChannels: 2,
 *   outChannels: 2,
 *   apply: (x) => Float64Array.from(x, (v) => 2 * v),
 *   vjp: (_x, w) => Float64Array.from(w, (v) => 2 * v),
 * };
 * console.log(twice.apply([1, 2], 1, 1, 1)); // Float64Array(2) [2, 4]
 * ```
 */
export interface ObservationOperator {
  /** A short name (`"arctan3x"`, `"sin3x"`, `"vor2vel"`, or the user's). */
  readonly name: string;
  /**
   * `"elementwise"` (output channel c depends on input channel c at the same point), `"linear"`,
   * or `"nonlinear"` (any other function of the frame, e.g. from {@link functionOperator}).
   */
  readonly kind: "elementwise" | "linear" | "nonlinear";
  /** State channels read per frame (2 for the QG layers). */
  readonly inChannels: number;
  /** Output channels per frame. */
  readonly outChannels: number;
  /**
   * H(x) for `frames` frames of `[inChannels, height, width]`.
   * @returns `[frames, outChannels, height, width]`
   */
  apply(x: NumericArray, frames: number, height: number, width: number): Float64Array;
  /**
   * Vector–Jacobian product `(∂H/∂x)ᵀ w` at x, `w` of layout `[frames, outChannels, H, W]`.
   * Optional for user operators (SOAD never needs it; the SDA baseline does).
   * @returns `[frames, inChannels, height, width]`
   */
  vjp?(
    x: NumericArray,
    w: NumericArray,
    frames: number,
    height: number,
    width: number,
  ): Float64Array;
}

/**
 * Checks an input array length against `[frames, channels, height, width]`.
 *
 * @example
 * ```ts
 * import { checkFrames } from "@soad/soad/internal";
 * checkFrames("x", new Float32Array(8), 1, 2, 2, 2); // ok
 * ```
 */
export function checkFrames(
  what: string,
  a: NumericArray,
  frames: number,
  channels: number,
  height: number,
  width: number,
): void {
  const n = frames * channels * height * width;
  if (!(Number.isInteger(n) && n > 0) || a.length !== n) {
    throw new InvalidArgumentError(
      `${what} has ${a.length} values, expected frames·channels·H·W = ` +
        `${frames}·${channels}·${height}·${width} = ${n}`,
    );
  }
}

/** Definition of a user element-wise operator. */
export interface ElementwiseSpec {
  /** Operator name. */
  name: string;
  /** The scalar function. */
  f: (v: number) => number;
  /** Its derivative (needed for the VJP, i.e. for the SDA baseline). */
  df?: (v: number) => number;
  /** Channels (input = output), default 2. */
  channels?: number;
}

/**
 * An element-wise operator H(x)_i = f(x_i) (output channels = input channels).
 *
 * @example
 * ```ts
 * import { elementwiseOperator } from "@soad/soad";
 * const cube = elementwiseOperator({ name: "cube", f: (v) => v ** 3, df: (v) => 3 * v * v });
 * console.log(cube.apply([1, 2], 1, 1, 1)[1], cube.vjp!([1, 2], [1, 1], 1, 1, 1)[1]); // 8 12
 * ```
 */
export function elementwiseOperator(spec: ElementwiseSpec): ObservationOperator {
  const { name, f, df } = spec;
  const channels = spec.channels ?? 2;
  if (typeof f !== "function") {
    throw new InvalidArgumentError(`operator "${name}": f must be a function`);
  }
  if (!(Number.isInteger(channels) && channels > 0)) {
    throw new InvalidArgumentError(
      `operator "${name}": channels must be a positive integer, got ${channels}`,
    );
  }
  const op: ObservationOperator = {
    name,
    kind: "elementwise",
    inChannels: channels,
    outChannels: channels,
    apply(x, frames, height, width): Float64Array {
      checkFrames(`${name} input`, x, frames, channels, height, width);
      const out = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
      return out;
    },
  };
  if (df) {
    op.vjp = (x, w, frames, height, width): Float64Array => {
      checkFrames(`${name} input`, x, frames, channels, height, width);
      checkFrames(`${name} cotangent`, w, frames, channels, height, width);
      const out = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) out[i] = df(x[i]) * w[i];
      return out;
    };
  }
  return op;
}

/** Definition of a user linear operator, given per frame. */
export interface LinearSpec {
  /** Operator name. */
  name: string;
  /** Input channels per frame (default 2). */
  inChannels?: number;
  /** Output channels per frame. */
  outChannels: number;
  /** One frame: `[inChannels, H, W]` → `[outChannels, H, W]`. */
  apply: (x: Float64Array, height: number, width: number) => Float64Array;
  /** The adjoint on one frame: `[outChannels, H, W]` → `[inChannels, H, W]` (for SDA). */
  adjoint?: (w: Float64Array, height: number, width: number) => Float64Array;
}

/**
 * A linear operator from per-frame `apply` (and optional `adjoint`, which becomes its VJP).
 *
 * @example
 * ```ts
 * import { linearOperator } from "@soad/soad";
 * const sum = linearOperator({
 *   name: "sum",
 *   outChannels: 1,
 *   apply: (x) => Float64Array.from({ length: x.length / 2 }, (_, i) => x[i] + x[i + x.length / 2]),
 *   adjoint: (w) => Float64Array.from([...w, ...w]),
 * });
 * console.log(sum.apply([1, 2], 1, 1, 1)[0]); // 3
 * ```
 */
export function linearOperator(spec: LinearSpec): ObservationOperator {
  const { name, outChannels, apply, adjoint } = spec;
  const inChannels = spec.inChannels ?? 2;
  for (const [k, v] of [["inChannels", inChannels], ["outChannels", outChannels]] as const) {
    if (!(Number.isInteger(v) && v > 0)) {
      throw new InvalidArgumentError(
        `operator "${name}": ${k} must be a positive integer, got ${v}`,
      );
    }
  }
  const perFrame = (
    src: NumericArray,
    cin: number,
    cout: number,
    frames: number,
    height: number,
    width: number,
    fn: (a: Float64Array, h: number, w: number) => Float64Array,
    what: string,
  ): Float64Array => {
    checkFrames(`${name} ${what}`, src, frames, cin, height, width);
    const hw = height * width;
    const out = new Float64Array(frames * cout * hw);
    for (let f = 0; f < frames; f++) {
      const a = Float64Array.from({ length: cin * hw }, (_, i) => src[f * cin * hw + i]);
      const r = fn(a, height, width);
      if (r.length !== cout * hw) {
        throw new InvalidArgumentError(
          `operator "${name}" ${what} returned ${r.length} values per frame, expected ${cout * hw}`,
        );
      }
      out.set(r, f * cout * hw);
    }
    return out;
  };
  const op: ObservationOperator = {
    name,
    kind: "linear",
    inChannels,
    outChannels,
    apply: (x, frames, height, width): Float64Array =>
      perFrame(x, inChannels, outChannels, frames, height, width, apply, "input"),
  };
  if (adjoint) {
    op.vjp = (_x, w, frames, height, width): Float64Array =>
      perFrame(w, outChannels, inChannels, frames, height, width, adjoint, "cotangent");
  }
  return op;
}

/** Definition of a user operator given as any function of one frame (see {@link functionOperator}). */
export interface FunctionSpec {
  /** Operator name. */
  name: string;
  /** Input channels per frame (default 2, the QG state). */
  inChannels?: number;
  /** Output channels per frame (declared: the SOAD prior gets this many extra channels). */
  outChannels: number;
  /** One frame: `[inChannels, H, W]` → `[outChannels, H, W]`. */
  apply: (x: Float64Array, height: number, width: number) => Float64Array;
  /** Optional VJP on one frame: x `[inChannels, H, W]`, w `[outChannels, H, W]` → `[inChannels, H, W]` (SDA only). */
  vjp?: (x: Float64Array, w: Float64Array, height: number, width: number) => Float64Array;
}

/**
 * An operator from any TypeScript function of one frame with a declared output channel count
 * (kind `"nonlinear"`). SOAD needs only `apply`; the SDA baseline also needs `vjp`.
 *
 * @example
 * ```ts
 * import { functionOperator } from "@soad/soad";
 * const energy = functionOperator({
 *   name: "energy",
 *   outChannels: 1,
 *   apply: (x) => Float64Array.from({ length: x.length / 2 }, (_, i) => x[i] ** 2 + x[i + x.length / 2] ** 2),
 * });
 * console.log(energy.apply([1, 2], 1, 1, 1)[0]); // 5
 * ```
 */
export function functionOperator(spec: FunctionSpec): ObservationOperator {
  const { name, apply, vjp } = spec;
  if (typeof apply !== "function") {
    throw new InvalidArgumentError(`operator "${name}": apply must be a function`);
  }
  const lin = linearOperator({
    name,
    inChannels: spec.inChannels,
    outChannels: spec.outChannels,
    apply,
  });
  const op: ObservationOperator = {
    name,
    kind: "nonlinear",
    inChannels: lin.inChannels,
    outChannels: lin.outChannels,
    apply: lin.apply,
  };
  if (vjp) {
    const cin = lin.inChannels, cout = lin.outChannels;
    op.vjp = (x, w, frames, height, width): Float64Array => {
      checkFrames(`${name} input`, x, frames, cin, height, width);
      checkFrames(`${name} cotangent`, w, frames, cout, height, width);
      const hw = height * width;
      const out = new Float64Array(frames * cin * hw);
      for (let f = 0; f < frames; f++) {
        const xf = Float64Array.from({ length: cin * hw }, (_, i) => x[f * cin * hw + i]);
        const wf = Float64Array.from({ length: cout * hw }, (_, i) => w[f * cout * hw + i]);
        const r = vjp(xf, wf, height, width);
        if (r.length !== cin * hw) {
          throw new InvalidArgumentError(
            `operator "${name}" vjp returned ${r.length} values per frame, expected ${cin * hw}`,
          );
        }
        out.set(r, f * cin * hw);
      }
      return out;
    };
  }
  return op;
}
