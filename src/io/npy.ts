/**
 * Reading and writing of NumPy `.npy` files (format versions 1.0, 2.0 and 3.0): the magic
 * `\x93NUMPY`, a version, a little-endian header length, an ASCII dict header
 * (`{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2, 32, 32), }`) padded so that the data
 * starts at a multiple of 64 bytes, then the raw C-order data.
 *
 * Supported dtypes: `<f8`, `<f4`, `<i4`, `<i8` (converted to float64; inexact values rejected),
 * `|u1` and `|b1`. Big-endian data and `fortran_order: True` are rejected.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { writeFileAtomic } from "./atomic.ts";

/** The typed arrays an `.npy` file is read into. */
export type NpyData = Float64Array | Float32Array | Int32Array | Uint8Array;

/** A parsed `.npy` array. */
export interface NpyArray {
  /** The shape, outermost first (`[]` for a 0-d array). */
  shape: number[];
  /** The dtype as written in the file's header (e.g. `"<f8"`, `"|u1"`). */
  dtype: string;
  /**
   * The values in C order. `<f8` and `<i8` give a Float64Array, `<f4` a Float32Array,
   * `<i4` an Int32Array, `|u1` and `|b1` a Uint8Array (booleans as 0/1).
   */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes per element of each accepted dtype (keyed without the byte-order character). */
const ITEM_SIZE: Record<string, number> = { f8: 8, f4: 4, i4: 4, i8: 8, u1: 1, b1: 1 };

function fail(msg: string): never {
  throw new InvalidArgumentError(`malformed .npy file: ${msg}`);
}

/** Parses the header dict; returns the descr, fortran order and shape. */
function parseHeaderDict(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr) fail(`header has no 'descr' entry: ${text.trim()}`);
  if (!fortran) fail(`header has no 'fortran_order' entry: ${text.trim()}`);
  if (!shape) fail(`header has no 'shape' tuple: ${text.trim()}`);
  const dims = shape[1].split(",").map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const n = Number(s.replace(/L$/, ""));
    if (!Number.isSafeInteger(n) || n < 0) fail(`bad shape entry '${s}' in ${text.trim()}`);
    return n;
  });
  return { descr: descr[1], fortran: fortran[1] === "True", shape: dims };
}

/** Copies `n` elements of `size` bytes starting at `start` into a fresh, aligned buffer. */
function copyLE(bytes: Uint8Array, start: number, n: number, size: number): ArrayBuffer {
  const buf = bytes.slice(start, start + n * size).buffer;
  if (!LITTLE_ENDIAN && size > 1) {
    const u8 = new Uint8Array(buf);
    for (let i = 0; i < u8.length; i += size) u8.subarray(i, i + size).reverse();
  }
  return buf;
}

/**
 * Parses the bytes of a `.npy` file. Throws an {@link InvalidArgumentError} naming the problem
 * when the magic or header is malformed, the data is truncated, the array is big-endian or in
 * Fortran order, or the dtype is not one of `<f8 <f4 <i4 <i8 |u1 |b1`. `<i8` values are
 * converted to float64 and must be exactly representable (e.g. |x| ≤ 2^53).
 *
 * @example
 * ```ts
 * import { encodeNpy, parseNpy } from "@soad/soad";
 * const a = parseNpy(encodeNpy(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]));
 * console.log(a.shape, a.dtype, a.data[5]); // [2, 3] "<f8" 6
 * ```
 */
export function parseNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    fail("missing the \\x93NUMPY magic string");
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number, headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail("truncated before the header length");
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    fail(`unsupported format version ${major}.${bytes[7]} (expected 1.0, 2.0 or 3.0)`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) fail(`header length ${headerLen} exceeds the file size`);
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(headerStart, dataStart),
  );
  const { descr, fortran, shape } = parseHeaderDict(text);
  if (fortran) {
    throw new InvalidArgumentError(
      "unsupported .npy file: fortran_order is True; save the array in C order " +
        "(np.ascontiguousarray) before writing it",
    );
  }
  const order = descr[0];
  const kind = descr.slice(1);
  if (order === ">" && ITEM_SIZE[kind] > 1) {
    throw new InvalidArgumentError(
      `unsupported .npy file: big-endian dtype '${descr}'; expected little-endian (e.g. '<f8')`,
    );
  }
  if (!(kind in ITEM_SIZE) || !["<", "|", "=", ">"].includes(order)) {
    throw new InvalidArgumentError(
      `unsupported .npy dtype '${descr}'; expected one of <f8 <f4 <i4 <i8 |u1 |b1`,
    );
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const size = ITEM_SIZE[kind];
  if (dataStart + n * size > bytes.length) {
    fail(
      `data truncated: shape (${shape.join(", ")}) of ${descr} needs ${n * size} bytes, ` +
        `file has ${bytes.length - dataStart}`,
    );
  }
  const buf = copyLE(bytes, dataStart, n, size);
  let data: NpyData;
  if (kind === "f8") data = new Float64Array(buf);
  else if (kind === "f4") data = new Float32Array(buf);
  else if (kind === "i4") data = new Int32Array(buf);
  else if (kind === "i8") {
    const src = new BigInt64Array(buf);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = Number(src[i]);
      if (BigInt(v) !== src[i]) {
        throw new InvalidArgumentError(
          `.npy int64 value ${src[i]} at flat index ${i} cannot be converted to float64 ` +
            "exactly (|x| > 2^53)",
        );
      }
      out[i] = v;
    }
    data = out;
  } else data = new Uint8Array(buf);
  return { shape, dtype: descr, data };
}

/** Options of {@link encodeNpy}. */
export interface EncodeNpyOptions {
  /** Write a Uint8Array as booleans (`|b1`) rather than `|u1`. Default false. */
  bool?: boolean;
}

function descrOf(data: NpyData | BigInt64Array, bool: boolean): string {
  if (data instanceof Float64Array) return "<f8";
  if (data instanceof Float32Array) return "<f4";
  if (data instanceof Int32Array) return "<i4";
  if (data instanceof BigInt64Array) return "<i8";
  if (data instanceof Uint8Array) return bool ? "|b1" : "|u1";
  throw new InvalidArgumentError(
    "encodeNpy: data must be a Float64Array, Float32Array, Int32Array, BigInt64Array or Uint8Array",
  );
}

/**
 * Encodes a C-order array as `.npy` bytes (version 1.0, or 2.0 when the header needs it). The
 * dtype follows the array type: Float64Array → `<f8`, Float32Array → `<f4`, Int32Array → `<i4`,
 * BigInt64Array → `<i8`, Uint8Array → `|u1` (or `|b1` with `{ bool: true }`). Throws an
 * {@link InvalidArgumentError} when the product of `shape` differs from `data.length`.
 *
 * @example
 * ```ts
 * import { encodeNpy } from "@soad/soad";
 * const bytes = encodeNpy(new Float32Array([1, 2, 3]), [3]);
 * console.log(bytes.length % 64); // 12 (64-byte header + 12 data bytes)
 * ```
 */
export function encodeNpy(
  data: NpyData | BigInt64Array,
  shape: readonly number[],
  options: EncodeNpyOptions = {},
): Uint8Array {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new InvalidArgumentError(
        `encodeNpy: shape entries must be integers ≥ 0, got [${shape}]`,
      );
    }
  }
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) {
    throw new InvalidArgumentError(
      `encodeNpy: shape [${shape.join(", ")}] holds ${n} values but data has ${data.length}`,
    );
  }
  const descr = descrOf(data, options.bool ?? false);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let pre = 10;
  let total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  if (total - pre > 0xffff) {
    pre = 12;
    total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  }
  const header = dict + " ".repeat(total - pre - dict.length - 1) + "\n";
  const itemBytes = data.BYTES_PER_ELEMENT;
  const out = new Uint8Array(total + n * itemBytes);
  out.set(MAGIC, 0);
  out[6] = pre === 10 ? 1 : 2;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (pre === 10) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  const raw = new Uint8Array(data.buffer, data.byteOffset, n * itemBytes);
  out.set(raw, total);
  if (!LITTLE_ENDIAN && itemBytes > 1) {
    for (let i = total; i < out.length; i += itemBytes) out.subarray(i, i + itemBytes).reverse();
  }
  return out;
}

/**
 * Reads and parses a `.npy` file (see {@link parseNpy} for the accepted dtypes and errors).
 *
 * @example
 * ```ts
 * import { readNpy, writeNpy } from "@soad/soad";
 * const path = await Deno.makeTempFile({ suffix: ".npy" });
 * await writeNpy(path, new Int32Array([7, 8]), [2]);
 * console.log((await readNpy(path)).data); // Int32Array [7, 8]
 * ```
 */
export async function readNpy(path: string | URL): Promise<NpyArray> {
  return parseNpy(await Deno.readFile(path));
}

/**
 * Writes an array as a `.npy` file atomically (temp file + rename; parent directories are
 * created). See {@link encodeNpy} for the dtype mapping.
 *
 * @example
 * ```ts
 * import { writeNpy } from "@soad/soad";
 * const dir = await Deno.makeTempDir();
 * await writeNpy(`${dir}/q.npy`, new Float64Array(8), [2, 2, 2]);
 * ```
 */
export async function writeNpy(
  path: string | URL,
  data: NpyData | BigInt64Array,
  shape: readonly number[],
  options: EncodeNpyOptions = {},
): Promise<void> {
  await writeFileAtomic(path, encodeNpy(data, shape, options));
}
