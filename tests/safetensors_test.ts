import assert from "node:assert/strict";
import {
  readSafetensors,
  readSafetensorsMetadata,
  writeSafetensors,
} from "../src/io/safetensors.ts";
import { InvalidArgumentError } from "../src/errors.ts";

const FIXTURE = new URL("./fixtures/unet/small.weights.safetensors", import.meta.url);

/** Builds a raw safetensors file from a header object and a data buffer. */
function raw(
  header: unknown,
  data: Uint8Array = new Uint8Array(0),
  headerText?: string,
): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

Deno.test("safetensors: round trip keeps names, shapes, values and metadata", () => {
  const tensors = new Map([
    ["b.vec", { shape: [3], data: new Float32Array([1.5, -2, 3e-8]) }],
    ["a.mat", { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, Infinity]) }],
    ["scalar", { shape: [], data: new Float32Array([7]) }],
    ["empty", { shape: [0, 4], data: new Float32Array(0) }],
  ]);
  const bytes = writeSafetensors(tensors, { format: "pt", note: "ü" });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, "header padded so 8 + N is a multiple of 8");
  const back = readSafetensors(bytes);
  assert.deepEqual([...back.keys()].sort(), [...tensors.keys()].sort());
  for (const [k, v] of tensors) {
    assert.deepEqual(back.get(k)!.shape, v.shape, k);
    assert.deepEqual(back.get(k)!.data, v.data, k);
  }
  assert.deepEqual(readSafetensorsMetadata(bytes), { format: "pt", note: "ü" });
  // a plain record works too, and no metadata gives an empty map
  const rec = writeSafetensors({ x: { shape: [1], data: new Float32Array([4]) } });
  assert.deepEqual(readSafetensors(rec).get("x")!.data, new Float32Array([4]));
  assert.deepEqual(readSafetensorsMetadata(rec), {});
});

Deno.test("safetensors: reads the shared U-Net weight fixture", async () => {
  const bytes = await Deno.readFile(FIXTURE);
  const m = readSafetensors(bytes);
  assert.deepEqual(m.get("temb.fc1.weight")!.shape, [256, 32]);
  assert.deepEqual(m.get("down.1.tb.conv1.weight")!.shape, [32, 8, 3]);
  assert.deepEqual(m.get("up.0.conv.weight")!.shape, [4, 4, 5, 5]);
  let count = 0;
  for (const t of m.values()) {
    assert.equal(t.data.length, t.shape.reduce((a, b) => a * b, 1));
    assert.ok(t.data.every(Number.isFinite));
    count += t.data.length;
  }
  assert.equal(count, 192_108);
  const ln = m.get("down.0.rb.0.norm.weight")!.data;
  assert.ok(ln.every((v) => v >= 0.5 && v < 1.5), "LayerNorm scale in [0.5, 1.5)");
  // re-writing gives the same tensors
  const again = readSafetensors(writeSafetensors(m));
  for (const [k, v] of m) assert.deepEqual(again.get(k)!.data, v.data, k);
});

Deno.test("safetensors: F16 and F64 are converted to float32", () => {
  const f64 = new Float64Array([1.25, -3, 1e-3]);
  const half = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00, 0x8000]);
  const h16 = new Uint8Array(half.buffer);
  const d64 = new Uint8Array(f64.buffer);
  const data = new Uint8Array(h16.length + d64.length);
  data.set(h16, 0);
  data.set(d64, h16.length);
  const bytes = raw({
    h: { dtype: "F16", shape: [2, 3], data_offsets: [0, 12] },
    d: { dtype: "F64", shape: [3], data_offsets: [12, 36] },
  }, data);
  const m = readSafetensors(bytes);
  const h = m.get("h")!.data;
  assert.deepEqual([...h.slice(0, 2)], [1, -2]);
  assert.ok(Math.abs(h[2] - 0.33325195) < 1e-7);
  assert.equal(h[3], 2 ** -24);
  assert.equal(h[4], Infinity);
  assert.ok(Object.is(h[5], -0));
  assert.deepEqual(m.get("d")!.data, new Float32Array(f64));
});

Deno.test("safetensors: malformed input gives clear InvalidArgumentErrors", () => {
  const f = new Uint8Array(new Float32Array([1, 2]).buffer);
  const cases: [string, Uint8Array, RegExp][] = [
    ["too short", new Uint8Array(5), /8-byte header length/],
    [
      "header beyond end",
      (() => {
        const b = raw({}, new Uint8Array(0));
        new DataView(b.buffer).setBigUint64(0, 1000n, true);
        return b;
      })(),
      /exceeds/,
    ],
    ["bad json", raw(null, f, "{not json"), /not valid JSON/],
    ["json array", raw([1, 2], f), /not an object/],
    ["bad dtype", raw({ a: { dtype: "I32", shape: [2], data_offsets: [0, 8] } }, f), /dtype "I32"/],
    [
      "bad shape",
      raw({ a: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, f),
      /invalid shape/,
    ],
    [
      "size mismatch",
      raw({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, f),
      /needs 12/,
    ],
    [
      "out of buffer",
      raw({ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, f),
      /outside/,
    ],
    ["bad offsets", raw({ a: { dtype: "F32", shape: [2], data_offsets: [0] } }, f), /data_offsets/],
  ];
  for (const [what, bytes, re] of cases) {
    assert.throws(() => readSafetensors(bytes), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError, what);
      assert.match((e as Error).message, re, what);
      return true;
    });
  }
  assert.throws(
    () => writeSafetensors({ a: { shape: [3], data: new Float32Array(2) } }),
    InvalidArgumentError,
  );
});

Deno.test("safetensors: overlapping ranges, holes and trailing bytes are refused (issue 18, case 6)", () => {
  const make = (header: Record<string, unknown>, dataBytes: number): Uint8Array => {
    const h = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + h.length + dataBytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    return out;
  };
  const t = (a: number, b: number) => ({
    dtype: "F32",
    shape: [(b - a) / 4],
    data_offsets: [a, b],
  });
  assert.throws(() => readSafetensors(make({ a: t(0, 8), b: t(4, 12) }, 12)), /overlap tensor "a"/);
  assert.throws(() => readSafetensors(make({ a: t(0, 8), b: t(0, 8) }, 8)), /overlap/);
  assert.throws(() => readSafetensors(make({ a: t(0, 4), b: t(8, 12) }, 12)), /a hole/);
  assert.throws(() => readSafetensors(make({ a: t(0, 8) }, 12)), /truncated or extra bytes/);
  assert.equal(readSafetensors(make({ b: t(4, 8), a: t(0, 4) }, 8)).size, 2);
});
