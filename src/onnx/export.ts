/**
 * Export of the SOAD denoiser ε̂(z, t) (spec §4.1, `shared/fixtures/unet/README.md`) as an ONNX
 * model. Inputs `z` float32 `[B, L, C, H, W]` and `t` float32 `[B]`, output `eps` float32
 * `[B, L, C, H, W]`; B, L, H and W are dynamic (H and W divisible by 2^(levels−1)), C is fixed by
 * the weights. Initializers keep the PyTorch state-dict names. Circular padding is built from
 * Slice + Concat (opset 17, every runtime) or, with `circularPad: "wrap"`, from Pad mode "wrap"
 * (opset 19). See `docs/onnx.md`.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { NamedTensor } from "../io/safetensors.ts";
import {
  EMB_DIM,
  N_FREQ,
  type ResolvedUNetConfig,
  resolveUNetConfig,
  type UNetConfig,
  unetParamShapes,
} from "../diffusion/unet_config.ts";
import { attr, DataType, GraphBuilder } from "./graph.ts";

/**
 * Names of the model's inputs and output.
 *
 * @example
 * ```ts
 * import { ONNX_IO } from "@soad/soad/internal";
 * console.log(ONNX_IO.z, ONNX_IO.t, ONNX_IO.eps); // "z" "t" "eps"
 * ```
 */
export const ONNX_IO = { z: "z", t: "t", eps: "eps" } as const;

/**
 * Options of {@link exportOnnx}.
 *
 * @example
 * ```ts
 * import type { ExportOnnxOptions } from "@soad/soad";
 * const o: ExportOnnxOptions = { circularPad: "wrap" }; // opset 19
 * console.log(o.circularPad); // "wrap"
 * ```
 */
export interface ExportOnnxOptions {
  /** How circular padding is expressed: `"slice"` (Slice + Concat, default) or `"wrap"`. */
  circularPad?: "slice" | "wrap";
  /** Opset (default 17 for "slice", 19 for "wrap", which needs ≥ 19). */
  opset?: number;
  /** Extra `metadata_props`. */
  metadata?: Record<string, string>;
}

/**
 * What {@link exportOnnx} exports: a U-Net (anything with `config` and `getWeights()`).
 *
 * @example
 * ```ts
 * import type { WeightSource } from "@soad/soad";
 * import { initUNetWeights } from "@soad/soad/internal";
 * const config = { channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 };
 * const src: WeightSource = { config, getWeights: () => Promise.resolve(initUNetWeights(config, 0)) };
 * console.log((await src.getWeights()).size > 0); // true
 * ```
 */
export interface WeightSource {
  /** The network configuration. */
  config: UNetConfig;
  /** Weights by PyTorch name, PyTorch layouts. */
  getWeights(): Promise<Map<string, NamedTensor>>;
}

/** Checks names and shapes of `weights` against `config`; throws naming the first problems. */
function checkWeights(cfg: ResolvedUNetConfig, weights: Map<string, NamedTensor>): void {
  const shapes = unetParamShapes(cfg);
  const problems: string[] = [];
  for (const [name, s] of shapes) {
    const w = weights.get(name);
    if (!w) problems.push(`missing ${name}`);
    else if (w.shape.length !== s.length || w.shape.some((d, i) => d !== s[i])) {
      problems.push(`${name} has shape [${w.shape}], expected [${s}]`);
    } else if (w.data.length !== s.reduce((a, b) => a * b, 1)) {
      problems.push(`${name} has ${w.data.length} values`);
    }
  }
  for (const name of weights.keys()) if (!shapes.has(name)) problems.push(`unexpected ${name}`);
  if (problems.length) {
    throw new InvalidArgumentError(
      `weights do not match the U-Net config: ${problems.slice(0, 8).join("; ")}${
        problems.length > 8 ? ` (+${problems.length - 8} more)` : ""
      }`,
    );
  }
}

/**
 * A validated export request; see {@link prepareExport}.
 *
 * @example
 * ```ts
 * import type { PreparedExport } from "./export.ts";
 * const opsetOf = (p: PreparedExport): number => p.opset;
 * console.log(typeof opsetOf); // "function"
 * ```
 */
export interface PreparedExport {
  /** The network configuration. */
  cfg: ResolvedUNetConfig;
  /** Weights by PyTorch name. */
  weights: Map<string, NamedTensor>;
  /** Circular padding mode. */
  pad: "slice" | "wrap";
  /** Opset. */
  opset: number;
}

/**
 * Validates an export request (weights against config, padding mode against opset).
 *
 * @example
 * ```ts
 * import { prepareExport } from "./export.ts";
 * import { initUNetWeights } from "@soad/soad/internal";
 * const config = { channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 };
 * const p = await prepareExport({ config, weights: initUNetWeights(config, 0) }, { circularPad: "wrap" });
 * console.log(p.opset); // 19
 * ```
 */
export async function prepareExport(
  source: WeightSource | { config: UNetConfig; weights: Map<string, NamedTensor> },
  options: ExportOnnxOptions = {},
): Promise<PreparedExport> {
  const cfg = resolveUNetConfig(source.config);
  const weights = "weights" in source ? source.weights : await source.getWeights();
  checkWeights(cfg, weights);
  const pad = options.circularPad ?? "slice";
  if (pad !== "slice" && pad !== "wrap") {
    throw new InvalidArgumentError(`circularPad must be "slice" or "wrap", got ${pad}`);
  }
  const opset = options.opset ?? (pad === "wrap" ? 19 : 17);
  if (pad === "wrap" && opset < 19) {
    throw new InvalidArgumentError(`Pad mode "wrap" needs opset ≥ 19, got ${opset}`);
  }
  return { cfg, weights, pad, opset };
}

/**
 * Emits the U-Net forward pass into a {@link GraphBuilder} (`emit()` returns the name of `eps`);
 * subclasses may record the nodes (see `export_vjp.ts`).
 *
 * @example
 * ```ts
 * import { prepareExport, UNetEmitter } from "./export.ts";
 * import { initUNetWeights } from "@soad/soad/internal";
 * const config = { channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 };
 * const p = await prepareExport({ config, weights: initUNetWeights(config, 0) });
 * const e = new UNetEmitter(p.cfg, p.weights, p.pad, p.opset);
 * console.log(e.emit()); // "eps"
 * ```
 */
export class UNetEmitter {
  readonly g: GraphBuilder;
  readonly shapeZ: string;
  readonly bl: string;
  readonly l: string;
  #embRep = "";

  /**
   * @param cfg the configuration
   * @param w weights by PyTorch name
   * @param pad circular padding mode
   * @param opset opset of the graph
   */
  constructor(
    readonly cfg: ResolvedUNetConfig,
    readonly w: Map<string, NamedTensor>,
    readonly pad: "slice" | "wrap",
    opset: number,
  ) {
    this.g = new GraphBuilder("soad_unet", opset);
    const g = this.g;
    [this.shapeZ] = g.node("Shape", [ONNX_IO.z]);
    [this.bl] = g.node("Slice", [this.shapeZ, g.int64([0]), g.int64([2])]);
    [this.l] = g.node("Slice", [this.shapeZ, g.int64([1]), g.int64([2])]);
  }

  /** The initializer `name`, reshaped to `dims` (same data). */
  param(name: string, dims?: number[]): string {
    const t = this.w.get(name)!;
    return this.g.weight(name, dims ?? t.shape, t.data);
  }

  silu(x: string): string {
    const [s] = this.g.node("Sigmoid", [x]);
    return this.g.node("Mul", [x, s])[0];
  }

  reduceMean(x: string): string {
    if (this.g.opset >= 18) {
      return this.g.node("ReduceMean", [x, this.g.int64([1])], { keepdims: attr.int(1) })[0];
    }
    return this.g.node("ReduceMean", [x], { axes: attr.ints([1]), keepdims: attr.int(1) })[0];
  }

  /** LayerNorm over the channel axis of NCHW, biased variance, eps 1e-5, affine. */
  layerNorm(x: string, prefix: string, c: number): string {
    const g = this.g;
    const mean = this.reduceMean(x);
    const [d] = g.node("Sub", [x, mean]);
    const [sq] = g.node("Mul", [d, d]);
    const v = this.reduceMean(sq);
    const [ve] = g.node("Add", [v, g.float32([], [1e-5])]);
    const [sd] = g.node("Sqrt", [ve]);
    const [n] = g.node("Div", [d, sd]);
    const [s] = g.node("Mul", [n, this.param(`${prefix}.weight`, [c, 1, 1])]);
    return g.node("Add", [s, this.param(`${prefix}.bias`, [c, 1, 1])])[0];
  }

  /** Circular padding by p on both spatial axes of NCHW. */
  circPad(x: string, p: number): string {
    const g = this.g;
    if (this.pad === "wrap") {
      return g.node("Pad", [x, g.int64([0, 0, p, p, 0, 0, p, p])], {
        mode: attr.string("wrap"),
      })[0];
    }
    let y = x;
    for (const axis of [2, 3]) {
      const ax = g.int64([axis]);
      const [left] = g.node("Slice", [y, g.int64([-p]), g.int64([2 ** 62]), ax]);
      const [right] = g.node("Slice", [y, g.int64([0]), g.int64([p]), ax]);
      [y] = g.node("Concat", [left, y, right], { axis: attr.int(axis) });
    }
    return y;
  }

  /** Circular k×k conv `prefix`, stride 1 or 2. */
  conv(x: string, prefix: string, stride = 1): string {
    const k = this.cfg.kernel, p = (k - 1) / 2;
    const xp = p > 0 ? this.circPad(x, p) : x;
    return this.g.node("Conv", [xp, this.param(`${prefix}.weight`), this.param(`${prefix}.bias`)], {
      kernel_shape: attr.ints([k, k]),
      strides: attr.ints([stride, stride]),
      pads: attr.ints([0, 0, 0, 0]),
    })[0];
  }

  conv1x1(x: string, prefix: string, dims?: number[]): string {
    return this.g.node("Conv", [
      x,
      this.param(`${prefix}.weight`, dims),
      this.param(`${prefix}.bias`),
    ], { kernel_shape: attr.ints([1, 1]) })[0];
  }

  /** Time embedding `[B, 64]`, repeated L times b-major → `[B·L, 64]`. */
  timeEmbedding(): void {
    const g = this.g;
    const freqs = Array.from({ length: N_FREQ }, (_, j) => Math.fround(Math.PI * (j + 1)));
    const [t2] = g.node("Reshape", [ONNX_IO.t, g.int64([-1, 1])]);
    const [a] = g.node("Mul", [t2, g.float32([1, N_FREQ], freqs)]);
    const [cos] = g.node("Cos", [a]);
    const [sin] = g.node("Sin", [a]);
    const [e0] = g.node("Concat", [cos, sin], { axis: attr.int(1) });
    const gemm = (x: string, name: string): string =>
      g.node("Gemm", [x, this.param(`${name}.weight`), this.param(`${name}.bias`)], {
        transB: attr.int(1),
      })[0];
    const emb = gemm(this.silu(gemm(e0, "temb.fc1")), "temb.fc2");
    const [e3] = g.node("Reshape", [emb, g.int64([0, 1, EMB_DIM])]);
    const [rep] = g.node("Concat", [g.int64([1]), this.l, g.int64([1])], { axis: attr.int(0) });
    const [ex] = g.node("Expand", [e3, rep]);
    [this.#embRep] = g.node("Reshape", [ex, g.int64([-1, EMB_DIM])]);
  }

  resBlock(x: string, prefix: string, c: number): string {
    const g = this.g;
    const [proj] = g.node("Gemm", [
      this.#embRep,
      this.param(`${prefix}.temb.weight`),
      this.param(`${prefix}.temb.bias`),
    ], { transB: attr.int(1) });
    const [proj4] = g.node("Reshape", [proj, g.int64([0, 0, 1, 1])]);
    const [h] = g.node("Add", [x, proj4]);
    const a = this.silu(this.conv(this.layerNorm(h, `${prefix}.norm`, c), `${prefix}.conv1`));
    return g.node("Add", [x, this.conv1x1(a, `${prefix}.conv2`)])[0];
  }

  /** Temporal block on NCHW frames folded b-major: conv along L per pixel, zero padding. */
  temporalBlock(x: string, prefix: string, c: number): string {
    const g = this.g;
    const [sx] = g.node("Shape", [x]);
    const [s4] = g.node("Concat", [this.bl, g.int64([c, -1])], { axis: attr.int(0) });
    const [r] = g.node("Reshape", [x, s4]); // [B, L, c, h·w]
    const [tr] = g.node("Transpose", [r], { perm: attr.ints([0, 2, 1, 3]) }); // [B, c, L, h·w]
    const [c1] = g.node("Conv", [
      tr,
      this.param(`${prefix}.conv1.weight`, [4 * c, c, 3, 1]),
      this.param(`${prefix}.conv1.bias`),
    ], { kernel_shape: attr.ints([3, 1]), pads: attr.ints([1, 0, 1, 0]) });
    const y = this.conv1x1(this.silu(c1), `${prefix}.conv2`, [c, 4 * c, 1, 1]);
    const [sum] = g.node("Add", [tr, y]);
    const [back] = g.node("Transpose", [sum], { perm: attr.ints([0, 2, 1, 3]) });
    return g.node("Reshape", [back, sx])[0];
  }

  emit(): string {
    const g = this.g;
    const { widths, blocks, channels: C } = this.cfg;
    const n = widths.length;
    this.timeEmbedding();
    const [hw] = g.node("Slice", [this.shapeZ, g.int64([3]), g.int64([5])]);
    const [s4] = g.node("Concat", [g.int64([-1, C]), hw], { axis: attr.int(0) });
    let [x] = g.node("Reshape", [ONNX_IO.z, s4]); // [B·L, C, H, W]
    const skips: string[] = [];
    for (let i = 0; i < n; i++) {
      x = this.conv(x, `down.${i}.conv`, i === 0 ? 1 : 2);
      if (i > 0) x = this.temporalBlock(x, `down.${i}.tb`, widths[i]);
      for (let j = 0; j < blocks[i]; j++) x = this.resBlock(x, `down.${i}.rb.${j}`, widths[i]);
      skips.push(x);
    }
    for (let i = n - 1; i >= 0; i--) {
      for (let j = 0; j < blocks[i]; j++) x = this.resBlock(x, `up.${i}.rb.${j}`, widths[i]);
      if (i > 0) {
        x = this.temporalBlock(x, `up.${i}.tb`, widths[i]);
        x = this.layerNorm(x, `up.${i}.norm`, widths[i]);
        [x] = g.node("Resize", [x, "", g.float32([4], [1, 1, 2, 2])], {
          mode: attr.string("nearest"),
          coordinate_transformation_mode: attr.string("asymmetric"),
          nearest_mode: attr.string("floor"),
        });
      }
      x = this.conv(x, `up.${i}.conv`);
      if (i > 0) [x] = g.node("Add", [x, skips[i - 1]]);
    }
    return g.node("Reshape", [x, this.shapeZ], {}, 1, [ONNX_IO.eps])[0];
  }
}

/**
 * Exports the denoiser as ONNX bytes, from a U-Net (`createUNet`) or from a config and weights
 * (PyTorch names and layouts, e.g. `readSafetensors` of a checkpoint). Throws an
 * `InvalidArgumentError` when the weights do not match the config.
 *
 * @example
 * ```ts
 * import { exportOnnx } from "@soad/soad";
 * import { initUNetWeights } from "@soad/soad/internal";
 * const config = { channels: 2, widths: [4, 8], blocks: 1, kernel: 5, frames: 3 };
 * const bytes = await exportOnnx({ config, weights: initUNetWeights(config, 0) });
 * console.log(bytes.length > 10_000); // true
 * ```
 */
export async function exportOnnx(
  source: WeightSource | { config: UNetConfig; weights: Map<string, NamedTensor> },
  options: ExportOnnxOptions = {},
): Promise<Uint8Array> {
  const { cfg, weights, pad, opset } = await prepareExport(source, options);
  const e = new UNetEmitter(cfg, weights, pad, opset);
  const out = e.emit();
  const dims = ["B", "L", cfg.channels, "H", "W"];
  return e.g.toModel({
    doc: "SOAD denoiser eps(z, t) (spec §4.1); frames folded b-major; see docs/onnx.md",
    inputs: [
      { name: ONNX_IO.z, elemType: DataType.FLOAT, dims, doc: "noisy windows z_t [B, L, C, H, W]" },
      { name: ONNX_IO.t, elemType: DataType.FLOAT, dims: ["B"], doc: "diffusion time per window" },
    ],
    outputs: [{
      name: out,
      elemType: DataType.FLOAT,
      dims,
      doc: "predicted noise [B, L, C, H, W]",
    }],
    metadata: {
      format: "soad-unet-onnx/1",
      unet: JSON.stringify(cfg),
      circular_pad: pad,
      ...options.metadata,
    },
  });
}
