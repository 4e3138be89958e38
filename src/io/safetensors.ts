/**
 * Reading and writing of `.safetensors` files (the format of the U-Net weights and fixtures):
 * an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON, then the data buffer.
 * Tensors are returned as float32; F16 and F64 data are converted on reading.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** One tensor of a safetensors file: its shape and its float32 data (row-major). */
export interface NamedTensor {
  /** The shape (`[]` for a scalar). */
  shape: number[];
  /** The values, row-major; length = product of `shape`. */
  data: Float32Array;
}

/** Bytes per element of the dtypes this reader accepts. */
const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, F64: 8 };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Largest header this reader accepts (100 MB, as in the reference implementation). */
const MAX_HEADER = 100_000_000;

function fail(msg: string): never {
  throw new InvalidArgumentError(`malformed safetensors file: ${msg}`);
}

/** Converts an IEEE 754 half-precision bit pattern to a number. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Parses a safetensors file into a map from tensor name to `{ shape, data }` (float32).
 * F32 tensors are copied; F16 and F64 are converted to float32. The `__metadata__` entry is
 * skipped (use {@link readSafetensorsMetadata} for it). Throws an `InvalidArgumentError` naming
 * the problem when the file is truncated, the header is not valid JSON, a dtype is not supported,
 * or the offsets do not match the shape.
 *
 * @example
 * ```ts
 * import { readSafetensors, writeSafetensors } from "@soad/soad";
 * const bytes = writeSafetensors({ a: { shape: [2], data: new Float32Array([1, 2]) } });
 * console.log(readSafetensors(bytes).get("a")?.data); // Float32Array [1, 2]
 * ```
 */
export function readSafetensors(bytes: Uint8Array): Map<string, NamedTensor> {
  const { header, dataStart } = parseHeader(bytes);
  const bufLen = bytes.length - dataStart;
  const out = new Map<string, NamedTensor>();
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      fail(`entry "${name}" is not an object`);
    }
    const e = entry as Record<string, unknown>;
    const dtype = e.dtype;
    if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) {
      fail(`tensor "${name}" has dtype ${JSON.stringify(dtype)}; only F32, F16 and F64 are read`);
    }
    const shape = e.shape;
    if (
      !Array.isArray(shape) ||
      !shape.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0)
    ) {
      fail(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = e.data_offsets;
    if (
      !Array.isArray(offs) || offs.length !== 2 ||
      !offs.every((o) => typeof o === "number" && Number.isInteger(o) && o >= 0)
    ) {
      fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    const nb = DTYPE_BYTES[dtype];
    if (end < begin || end > bufLen) {
      fail(
        `tensor "${name}" data_offsets [${begin}, ${end}] lie outside the ${bufLen}-byte buffer`,
      );
    }
    if (end - begin !== size * nb) {
      fail(
        `tensor "${name}" spans ${end - begin} bytes but shape [${shape}] of ${dtype} needs ` +
          `${size * nb}`,
      );
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin);
    const data = new Float32Array(size);
    if (dtype === "F32" && LITTLE_ENDIAN) {
      // slice() copies into a fresh, aligned buffer (offsets need not be 4-byte aligned)
      const start = dataStart + begin;
      data.set(new Float32Array(bytes.slice(start, dataStart + end).buffer));
    } else if (dtype === "F32") {
      for (let i = 0; i < size; i++) data[i] = view.getFloat32(4 * i, true);
    } else if (dtype === "F64") {
      for (let i = 0; i < size; i++) data[i] = view.getFloat64(8 * i, true);
    } else {
      for (let i = 0; i < size; i++) data[i] = halfToFloat(view.getUint16(2 * i, true));
    }
    out.set(name, { shape: [...(shape as number[])], data });
    ranges.push([begin, end, name]);
  }
  // as the reference implementation: ranges may not overlap and must index the whole buffer
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0, prev = "";
  for (const [begin, end, name] of ranges) {
    if (begin < at) {
      fail(
        `tensor "${name}" data_offsets [${begin}, ${end}] overlap tensor "${prev}" (ends at ${at})`,
      );
    }
    if (begin > at) fail(`bytes ${at}..${begin} of the buffer belong to no tensor (a hole)`);
    at = end;
    prev = name;
  }
  if (at !== bufLen) {
    fail(`the tensors end at byte ${at} of a ${bufLen}-byte buffer (truncated or extra bytes)`);
  }
  return out;
}

/**
 * Returns the `__metadata__` string map of a safetensors file (empty when there is none).
 *
 * @example
 * ```ts
 * import { readSafetensorsMetadata, writeSafetensors } from "@soad/soad";
 * const bytes = writeSafetensors({}, { format: "pt" });
 * console.log(readSafetensorsMetadata(bytes)); // { format: "pt" }
 * ```
 */
export function readSafetensorsMetadata(bytes: Uint8Array): Record<string, string> {
  const meta = parseHeader(bytes).header.__metadata__;
  if (meta === undefined) return {};
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) {
    fail("__metadata__ is not an object");
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
    if (typeof v !== "string") fail(`__metadata__ value of "${k}" is not a string`);
    out[k] = v;
  }
  return out;
}

function parseHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (!(bytes instanceof Uint8Array)) fail("expected a Uint8Array");
  if (bytes.length < 8) fail(`only ${bytes.length} bytes, the 8-byte header length is missing`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) fail(`header length ${n} exceeds ${MAX_HEADER} bytes`);
  const len = Number(n);
  if (8 + len > bytes.length) {
    fail(`header length ${len} exceeds the ${bytes.length - 8} bytes after the length field`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + len));
  } catch {
    fail("header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    fail("header JSON is not an object");
  }
  return { header: header as Record<string, unknown>, dataStart: 8 + len };
}

/**
 * Serializes float32 tensors to safetensors bytes (dtype F32, names sorted, header JSON
 * space-padded so that 8 + N is a multiple of 8). Throws an `InvalidArgumentError` when a
 * tensor's data length does not match its shape.
 *
 * @example
 * ```ts
 * import { writeSafetensors } from "@soad/soad";
 * const bytes = writeSafetensors(
 *   new Map([["w", { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }]]),
 *   { note: "demo" },
 * );
 * console.log(bytes.length % 8); // 0
 * ```
 */
export function writeSafetensors(
  tensors: Map<string, NamedTensor> | Record<string, NamedTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") {
        throw new InvalidArgumentError(`metadata value of "${k}" must be a string`);
      }
    }
    header.__metadata__ = { ...metadata };
  }
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__") {
      throw new InvalidArgumentError(`"__metadata__" is reserved and cannot name a tensor`);
    }
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0) || t.data.length !== size) {
      throw new InvalidArgumentError(
        `tensor "${name}": data length ${t.data.length} does not match shape [${t.shape}]`,
      );
    }
    header[name] = { dtype: "F32", shape: [...t.shape], data_offsets: [offset, offset + 4 * size] };
    offset += 4 * size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (padded !== json.length) {
    json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(padded - json.length));
  }
  const out = new Uint8Array(8 + json.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const [, t] of entries) {
    for (let i = 0; i < t.data.length; i++, pos += 4) dv.setFloat32(pos, t.data[i], true);
  }
  return out;
}

/**
 * Returns a copy of safetensors `bytes` whose `__metadata__` is `metadata`, the tensor entries
 * and the data buffer unchanged byte for byte (only the header is rewritten, re-padded to a
 * multiple of 8). How the shipped priors got their `soad_prior` metadata.
 *
 * @example
 * ```ts
 * import { readSafetensorsMetadata, replaceSafetensorsMetadata, writeSafetensors } from "@soad/soad";
 * const a = writeSafetensors({ w: { shape: [1], data: new Float32Array([3]) } }, { x: "1" });
 * const b = replaceSafetensorsMetadata(a, { x: "2" });
 * console.log(readSafetensorsMetadata(b)); // { x: "2" }
 * ```
 */
export function replaceSafetensorsMetadata(
  bytes: Uint8Array,
  metadata: Record<string, string>,
): Uint8Array {
  const { header, dataStart } = parseHeader(bytes);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") {
      throw new InvalidArgumentError(`metadata value of "${k}" must be a string`);
    }
  }
  const next: Record<string, unknown> = { __metadata__: { ...metadata } };
  for (const [k, v] of Object.entries(header)) if (k !== "__metadata__") next[k] = v;
  const text = JSON.stringify(next);
  let json = new TextEncoder().encode(text);
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (padded !== json.length) {
    json = new TextEncoder().encode(text + " ".repeat(padded - json.length));
  }
  const data = bytes.subarray(dataStart);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
