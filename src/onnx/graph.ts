/**
 * A small ONNX graph builder on the protobuf classes of `onnx-proto` (the official `onnx.proto`
 * of ONNX 1.10 compiled with protobufjs): float32 initializers stored as `raw_data`, int64
 * constants (deduplicated), nodes with typed attributes and unique output names, and
 * serialisation of the model. Nothing here knows about the U-Net.
 * @module
 */

import onnxProto from "onnx-proto";
import { InvalidArgumentError } from "../errors.ts";

/**
 * The generated `onnx` protobuf namespace (`ModelProto.encode/decode`, enums).
 *
 * @example
 * ```ts
 * import { onnx } from "./graph.ts";
 * console.log(onnx.AttributeProto.AttributeType.INTS); // 7
 * ```
 */
export const onnx: typeof onnxProto.onnx = onnxProto.onnx;

/**
 * The decoded form of a model (`onnx.ModelProto.decode(bytes)`).
 *
 * @example
 * ```ts
 * import { decodeModel, GraphBuilder, type ModelProto } from "./graph.ts";
 * const m: ModelProto = decodeModel(new GraphBuilder("g", 17).toModel({ inputs: [], outputs: [] }));
 * console.log(m.producerName); // "soad"
 * ```
 */
export type ModelProto = onnxProto.onnx.ModelProto;
/**
 * The decoded form of a graph.
 *
 * @example
 * ```ts
 * import { decodeModel, GraphBuilder, type GraphProto } from "./graph.ts";
 * const m = decodeModel(new GraphBuilder("g", 17).toModel({ inputs: [], outputs: [] }));
 * console.log((m.graph as GraphProto).name); // "g"
 * ```
 */
export type GraphProto = onnxProto.onnx.GraphProto;
/**
 * A graph input or output in protobuf form.
 *
 * @example
 * ```ts
 * import type { ValueInfoProto } from "./graph.ts";
 * const v: ValueInfoProto = { name: "t", type: { tensorType: { elemType: 1 } } };
 * console.log(v.name); // "t"
 * ```
 */
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/**
 * Decodes ONNX model bytes (for inspection and tests).
 *
 * @example
 * ```ts
 * import { decodeModel, GraphBuilder } from "./graph.ts";
 * const g = new GraphBuilder("id", 17);
 * g.node("Identity", ["x"], {}, 1, ["y"]);
 * const m = decodeModel(g.toModel({ inputs: [], outputs: [] }));
 * console.log(m.graph?.node?.[0].opType); // "Identity"
 * ```
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/**
 * `TensorProto.DataType` codes used here.
 *
 * @example
 * ```ts
 * import { DataType } from "./graph.ts";
 * console.log(DataType.FLOAT, DataType.INT64); // 1 7
 * ```
 */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/**
 * A typed attribute value; see {@link attr}.
 *
 * @example
 * ```ts
 * import type { AttrValue } from "./graph.ts";
 * const axis: AttrValue = { int: 1 };
 * console.log("int" in axis); // true
 * ```
 */
export type AttrValue =
  | { int: number }
  | { float: number }
  | { ints: number[] }
  | { floats: number[] }
  | { string: string };

/**
 * Attribute constructors, so that an integer attribute is never mistaken for a float one.
 *
 * @example
 * ```ts
 * import { attr } from "./graph.ts";
 * console.log(attr.ints([1, 1]));  // { ints: [1, 1] }
 * ```
 */
export const attr = {
  /** An INT attribute. */
  int: (v: number): AttrValue => ({ int: v }),
  /** A FLOAT attribute. */
  float: (v: number): AttrValue => ({ float: v }),
  /** An INTS attribute. */
  ints: (v: number[]): AttrValue => ({ ints: v }),
  /** A FLOATS attribute. */
  floats: (v: number[]): AttrValue => ({ floats: v }),
  /** A STRING attribute. */
  string: (v: string): AttrValue => ({ string: v }),
};

/**
 * A graph input or output: name, element type and dims (a string for a symbolic dim).
 *
 * @example
 * ```ts
 * import { DataType, type ValueInfo } from "./graph.ts";
 * const z: ValueInfo = { name: "z", elemType: DataType.FLOAT, dims: ["B", 9, 4, "H", "W"] };
 * console.log(z.dims.length); // 5
 * ```
 */
export interface ValueInfo {
  /** Tensor name. */
  name: string;
  /** Element type (a {@link DataType} code). */
  elemType: number;
  /** Dims: a number for a fixed size, a string for a named dynamic one. */
  dims: (number | string)[];
  /** Documentation of the tensor. */
  doc?: string;
}

/**
 * A node as appended by {@link GraphBuilder.node}, passed to {@link GraphBuilder.tap}.
 *
 * @example
 * ```ts
 * import type { RecordedNode } from "./graph.ts";
 * const n: RecordedNode = { op: "Relu", inputs: ["x"], outputs: ["y"], attrs: {} };
 * console.log(n.op); // "Relu"
 * ```
 */
export interface RecordedNode {
  /** Operator type. */
  op: string;
  /** Input names ("" for an omitted optional input). */
  inputs: string[];
  /** Output names. */
  outputs: string[];
  /** Attributes. */
  attrs: Record<string, AttrValue>;
}

/**
 * Options of {@link GraphBuilder.toModel}.
 *
 * @example
 * ```ts
 * import type { ModelOptions } from "./graph.ts";
 * const o: ModelOptions = { inputs: [], outputs: [], metadata: { format: "demo" } };
 * console.log(o.metadata?.format); // "demo"
 * ```
 */
export interface ModelOptions {
  /** Graph inputs. */
  inputs: ValueInfo[];
  /** Graph outputs. */
  outputs: ValueInfo[];
  /** `metadata_props` of the model. */
  metadata?: Record<string, string>;
  /** Model documentation. */
  doc?: string;
}

function le(bytes: ArrayBufferView): Uint8Array {
  const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return u8.slice();
  throw new InvalidArgumentError("ONNX export needs a little-endian host");
}

function attrProto(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ("int" in v) return { name, type: T.INT, i: v.int };
  if ("float" in v) return { name, type: T.FLOAT, f: v.float };
  if ("ints" in v) return { name, type: T.INTS, ints: v.ints };
  if ("floats" in v) return { name, type: T.FLOATS, floats: v.floats };
  return { name, type: T.STRING, s: new TextEncoder().encode(v.string) };
}

function valueInfo(v: ValueInfo): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    docString: v.doc,
    type: {
      tensorType: {
        elemType: v.elemType,
        shape: {
          dim: v.dims.map((d) => typeof d === "number" ? { dimValue: d } : { dimParam: d }),
        },
      },
    },
  };
}

/**
 * Accumulates the nodes and initializers of one ONNX graph.
 *
 * @example
 * ```ts
 * import { attr, DataType, GraphBuilder } from "./graph.ts";
 * const g = new GraphBuilder("toy", 17);
 * const w = g.weight("w", [2], new Float32Array([1, -1]));
 * const [y] = g.node("Mul", ["x", w]);
 * const [r] = g.node("LeakyRelu", [y], { alpha: attr.float(0.1) });
 * const bytes = g.toModel({
 *   inputs: [{ name: "x", elemType: DataType.FLOAT, dims: ["B", 2] }],
 *   outputs: [{ name: r, elemType: DataType.FLOAT, dims: ["B", 2] }],
 * });
 * console.log(bytes.length > 0); // true
 * ```
 */
export class GraphBuilder {
  readonly #nodes: onnxProto.onnx.INodeProto[] = [];
  readonly #inits: onnxProto.onnx.ITensorProto[] = [];
  readonly #names = new Set<string>();
  readonly #consts = new Map<string, string>();
  #counter = 0;
  /** Called with every node appended (e.g. to record a tape for differentiation). */
  tap?: (node: RecordedNode) => void;

  /**
   * @param name graph name
   * @param opset default-domain opset version (17 or later)
   */
  constructor(readonly name: string, readonly opset: number) {
    if (!Number.isInteger(opset) || opset < 17) {
      throw new InvalidArgumentError(`opset must be an integer ≥ 17, got ${opset}`);
    }
  }

  /** A fresh tensor name `${base}_${n}`. */
  fresh(base: string): string {
    let n: string;
    do n = `${base}_${this.#counter++}`; while (this.#names.has(n));
    this.#names.add(n);
    return n;
  }

  /** Adds a float32 initializer `name` (must be unique) and returns its name. */
  weight(name: string, dims: number[], data: Float32Array): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new InvalidArgumentError(`${name}: ${data.length} values for dims [${dims}]`);
    }
    if (this.#names.has(name)) throw new InvalidArgumentError(`duplicate tensor name ${name}`);
    this.#names.add(name);
    this.#inits.push({ name, dims, dataType: DataType.FLOAT, rawData: le(data) });
    return name;
  }

  /** An int64 1-D constant (deduplicated by value); returns its name. */
  int64(values: number[]): string {
    const key = `i64:${values.join(",")}`;
    const hit = this.#consts.get(key);
    if (hit) return hit;
    const name = this.fresh("const_i64");
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.#inits.push({ name, dims: [values.length], dataType: DataType.INT64, rawData: le(data) });
    this.#consts.set(key, name);
    return name;
  }

  /** A float32 constant (deduplicated by value and dims); returns its name. */
  float32(dims: number[], values: number[]): string {
    const key = `f32:${dims.join("x")}:${values.join(",")}`;
    const hit = this.#consts.get(key);
    if (hit) return hit;
    const name = this.fresh("const_f32");
    this.#inits.push({
      name,
      dims,
      dataType: DataType.FLOAT,
      rawData: le(Float32Array.from(values)),
    });
    this.#consts.set(key, name);
    return name;
  }

  /**
   * Appends a node; returns its `outputs` output names (fresh unless given in `outNames`).
   * An empty input name `""` marks an omitted optional input.
   */
  node(
    op: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    outputs = 1,
    outNames?: string[],
  ): string[] {
    const out = outNames ?? Array.from({ length: outputs }, () => this.fresh(op.toLowerCase()));
    for (const n of outNames ?? []) {
      if (this.#names.has(n)) throw new InvalidArgumentError(`duplicate tensor name ${n}`);
      this.#names.add(n);
    }
    this.#nodes.push({
      opType: op,
      name: `${op}_${this.#nodes.length}`,
      input: inputs,
      output: out,
      attribute: Object.entries(attrs).map(([k, v]) => attrProto(k, v)),
    });
    this.tap?.({ op, inputs, outputs: out, attrs });
    return out;
  }

  /** Number of nodes so far. */
  get nodeCount(): number {
    return this.#nodes.length;
  }

  /** Serialises the model (IR version 8 for opset 17–18, 9 from opset 19). */
  toModel(options: ModelOptions): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: this.opset >= 19 ? 9 : 8,
      producerName: "soad",
      producerVersion: "0.1.0",
      docString: options.doc,
      opsetImport: [{ domain: "", version: this.opset }],
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({
        key,
        value,
      })),
      graph: {
        name: this.name,
        node: this.#nodes,
        initializer: this.#inits,
        input: options.inputs.map(valueInfo),
        output: options.outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
