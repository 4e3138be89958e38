/**
 * Export of the denoiser's vector–Jacobian product as ONNX: inputs `z` [B, L, C, H, W], `t` [B]
 * and the cotangent `w` [B, L, C, H, W]; outputs `eps` = ε̂(z, t) and `grad` = ∂/∂z Σ w ⊙ ε̂.
 * The forward graph of {@link UNetEmitter} is recorded node by node and differentiated in
 * reverse w.r.t. z only (the weights are constants): Conv → ConvTranspose with the same weight,
 * circular padding → a fold that adds the padded rows back, Resize ×2 → 2×2 sum pooling,
 * element-wise ops by their derivatives, channel-broadcast operands summed over axis 1.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { NamedTensor } from "../io/safetensors.ts";
import type { UNetConfig } from "../diffusion/unet_config.ts";
import {
  type ExportOnnxOptions,
  ONNX_IO,
  prepareExport,
  UNetEmitter,
  type WeightSource,
} from "./export.ts";
import { attr, DataType, type RecordedNode } from "./graph.ts";

/**
 * Name of the cotangent input and of the gradient output of the VJP model.
 *
 * @example
 * ```ts
 * import { ONNX_VJP_IO } from "@soad/soad/internal";
 * console.log(ONNX_VJP_IO.w, ONNX_VJP_IO.grad); // "w" "grad"
 * ```
 */
export const ONNX_VJP_IO = { w: "w", grad: "grad" } as const;

const BIG = 2 ** 62;

class VjpEmitter extends UNetEmitter {
  readonly tape: RecordedNode[] = [];
  #suspended = 0;
  readonly #shapes = new Map<string, string>();

  constructor(...args: ConstructorParameters<typeof UNetEmitter>) {
    super(...args);
    this.g.tap = (n) => {
      if (!this.#suspended) this.tape.push(n);
    };
  }

  override circPad(x: string, p: number): string {
    this.#suspended++;
    const y = super.circPad(x, p);
    this.#suspended--;
    this.tape.push({ op: "CircPad", inputs: [x], outputs: [y], attrs: { p: attr.int(p) } });
    return y;
  }

  #shape(x: string): string {
    let s = this.#shapes.get(x);
    if (!s) {
      [s] = this.g.node("Shape", [x]);
      this.#shapes.set(x, s);
    }
    return s;
  }

  /** The adjoint of circular padding by p on axes 2 and 3: adds the padded rows back. */
  #fold(g: string, p: number): string {
    const b = this.g;
    let y = g;
    for (const axis of [3, 2]) {
      const ax = b.int64([axis]);
      const sl = (x: string, s: number, e: number): string =>
        b.node("Slice", [x, b.int64([s]), b.int64([e]), ax])[0];
      const center = sl(y, p, -p), left = sl(y, 0, p), right = sl(y, -p, BIG);
      const [first] = b.node("Add", [sl(center, 0, p), right]);
      const [last] = b.node("Add", [sl(center, -p, BIG), left]);
      [y] = b.node("Concat", [first, sl(center, p, -p), last], { axis: attr.int(axis) });
    }
    return y;
  }

  /** Sums `gy` over the channel axis when the operand was broadcast over it. */
  #unbroadcast(gy: string, operand: string, reduced: Set<string>, out: string): string {
    if (reduced.has(operand) && !reduced.has(out)) {
      return this.g.node("ReduceSum", [gy, this.g.int64([1])], { keepdims: attr.int(1) })[0];
    }
    return gy;
  }

  /** Appends the backward graph; returns the name of ∂/∂z Σ w ⊙ eps. */
  backward(eps: string, w: string): string {
    const b = this.g;
    b.tap = undefined;
    const active = new Set<string>([ONNX_IO.z]);
    const reduced = new Set<string>();
    for (const n of this.tape) {
      if (n.op === "Shape" || !n.inputs.some((i) => active.has(i))) continue;
      n.outputs.forEach((o) => active.add(o));
      const act = n.inputs.filter((i) => active.has(i));
      if (n.op === "ReduceMean" || (act.length > 0 && act.every((i) => reduced.has(i)))) {
        n.outputs.forEach((o) => reduced.add(o));
      }
    }
    const grads = new Map<string, string>([[eps, w]]);
    const acc = (x: string, g: string): void => {
      if (!active.has(x)) return;
      const prev = grads.get(x);
      grads.set(x, prev ? b.node("Add", [prev, g])[0] : g);
    };
    for (let k = this.tape.length - 1; k >= 0; k--) {
      const n = this.tape[k];
      const gy = grads.get(n.outputs[0]);
      if (!gy || !n.inputs.some((i) => active.has(i))) continue;
      const [x, y2] = n.inputs;
      const y = n.outputs[0];
      const ub = (g: string, operand: string): string => this.#unbroadcast(g, operand, reduced, y);
      switch (n.op) {
        case "Add":
          acc(x, ub(gy, x));
          acc(y2, ub(gy, y2));
          break;
        case "Sub":
          acc(x, ub(gy, x));
          if (active.has(y2)) acc(y2, ub(b.node("Neg", [gy])[0], y2));
          break;
        case "Mul":
          if (active.has(x)) acc(x, ub(b.node("Mul", [gy, y2])[0], x));
          if (active.has(y2)) acc(y2, ub(b.node("Mul", [gy, x])[0], y2));
          break;
        case "Div": {
          if (active.has(x)) acc(x, ub(b.node("Div", [gy, y2])[0], x));
          if (active.has(y2)) {
            const [q] = b.node("Div", [b.node("Mul", [gy, y])[0], y2]);
            acc(y2, ub(b.node("Neg", [q])[0], y2));
          }
          break;
        }
        case "Sqrt": {
          const [h] = b.node("Mul", [gy, b.float32([], [0.5])]);
          acc(x, b.node("Div", [h, y])[0]);
          break;
        }
        case "Sigmoid": {
          const [one] = b.node("Sub", [b.float32([], [1]), y]);
          acc(x, b.node("Mul", [gy, b.node("Mul", [y, one])[0]])[0]);
          break;
        }
        case "ReduceMean": {
          const sx = this.#shape(x);
          const [c] = b.node("Cast", [b.node("Slice", [sx, b.int64([1]), b.int64([2])])[0]], {
            to: attr.int(DataType.FLOAT),
          });
          const [e] = b.node("Expand", [b.node("Div", [gy, c])[0], sx]);
          acc(x, e);
          break;
        }
        case "Reshape":
          acc(x, b.node("Reshape", [gy, this.#shape(x)])[0]);
          break;
        case "Transpose": {
          const perm = (n.attrs.perm as { ints: number[] }).ints;
          const inv = perm.map((_, i) => perm.indexOf(i));
          acc(x, b.node("Transpose", [gy], { perm: attr.ints(inv) })[0]);
          break;
        }
        case "Conv": {
          const strides = (n.attrs.strides as { ints: number[] } | undefined)?.ints ?? [1, 1];
          const kernel = (n.attrs.kernel_shape as { ints: number[] }).ints;
          const pads = (n.attrs.pads as { ints: number[] } | undefined)?.ints ?? [0, 0, 0, 0];
          // stride 2 on the padded even grid (size H + k − 1): the last padded row takes no
          // part, ConvTranspose needs output_padding 1 to give it back (as zeros)
          const outPad = strides.map((s) => (s > 1 ? 1 : 0));
          acc(
            x,
            b.node("ConvTranspose", [gy, y2], {
              kernel_shape: attr.ints(kernel),
              strides: attr.ints(strides),
              pads: attr.ints(pads),
              output_padding: attr.ints(outPad),
            })[0],
          );
          break;
        }
        case "CircPad":
          acc(x, this.#fold(gy, (n.attrs.p as { int: number }).int));
          break;
        case "Resize": {
          const [avg] = b.node("AveragePool", [gy], {
            kernel_shape: attr.ints([2, 2]),
            strides: attr.ints([2, 2]),
          });
          acc(x, b.node("Mul", [avg, b.float32([], [4])])[0]);
          break;
        }
        default:
          throw new InvalidArgumentError(`no VJP rule for ONNX op ${n.op} (on the path from z)`);
      }
    }
    const gz = grads.get(ONNX_IO.z);
    if (!gz) throw new InvalidArgumentError("eps does not depend on z");
    return b.node("Identity", [gz], {}, 1, [ONNX_VJP_IO.grad])[0];
  }
}

/**
 * Exports ε̂ and its VJP w.r.t. z as one ONNX model: inputs `z`, `t`, `w`; outputs `eps` and
 * `grad` = ∂/∂z Σ w ⊙ ε̂(z, t) (float32; B, L, H, W dynamic). Same options as `exportOnnx`.
 *
 * @example
 * ```ts
 * import { exportOnnxVjp } from "@soad/soad/internal";
 * import { initUNetWeights } from "@soad/soad/internal";
 * const config = { channels: 2, widths: [4, 8], blocks: 1, kernel: 5, frames: 3 };
 * const bytes = await exportOnnxVjp({ config, weights: initUNetWeights(config, 0) });
 * console.log(bytes.length > 10_000); // true
 * ```
 */
export async function exportOnnxVjp(
  source: WeightSource | { config: UNetConfig; weights: Map<string, NamedTensor> },
  options: ExportOnnxOptions = {},
): Promise<Uint8Array> {
  const { cfg, weights, pad, opset } = await prepareExport(source, options);
  const e = new VjpEmitter(cfg, weights, pad, opset);
  const eps = e.emit();
  const grad = e.backward(eps, ONNX_VJP_IO.w);
  const dims = ["B", "L", cfg.channels, "H", "W"];
  const f = DataType.FLOAT;
  return e.g.toModel({
    doc: "SOAD denoiser eps(z, t) and its VJP dz sum(w * eps); see docs/onnx.md",
    inputs: [
      { name: ONNX_IO.z, elemType: f, dims, doc: "noisy windows z_t [B, L, C, H, W]" },
      { name: ONNX_IO.t, elemType: f, dims: ["B"], doc: "diffusion time per window" },
      { name: ONNX_VJP_IO.w, elemType: f, dims, doc: "cotangent [B, L, C, H, W]" },
    ],
    outputs: [
      { name: eps, elemType: f, dims, doc: "predicted noise [B, L, C, H, W]" },
      { name: grad, elemType: f, dims, doc: "d/dz sum(w * eps) [B, L, C, H, W]" },
    ],
    metadata: {
      format: "soad-unet-vjp-onnx/1",
      unet: JSON.stringify(cfg),
      circular_pad: pad,
      ...options.metadata,
    },
  });
}
