// .npy reading and writing: round trips per dtype, numpy's exact header layout, the shared QG
// fixture against its manifest, and the errors for malformed or unsupported files.
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../src/errors.ts";
import { encodeNpy, parseNpy, readNpy, writeNpy } from "../src/io/npy.ts";

const FIX = new URL("./fixtures/qg/", import.meta.url);

Deno.test("npy round trip for each dtype", () => {
  const cases: [Float64Array | Float32Array | Int32Array | Uint8Array, string][] = [
    [new Float64Array([0, -1.5, Math.PI, 1e-300, -0, Infinity]), "<f8"],
    [new Float32Array([0.5, -2, 3.25, 1e30, NaN, 7]), "<f4"],
    [new Int32Array([-2147483648, -1, 0, 1, 2147483647, 42]), "<i4"],
    [new Uint8Array([0, 1, 127, 128, 255, 9]), "|u1"],
  ];
  for (const [data, dtype] of cases) {
    const a = parseNpy(encodeNpy(data, [2, 3]));
    assert.deepEqual(a.shape, [2, 3]);
    assert.equal(a.dtype, dtype);
    assert.equal(a.data.constructor, data.constructor);
    assert.deepEqual(Array.from(a.data), Array.from(data));
  }
  const b = parseNpy(encodeNpy(new Uint8Array([1, 0, 1]), [3], { bool: true }));
  assert.equal(b.dtype, "|b1");
  assert.deepEqual(Array.from(b.data), [1, 0, 1]);
  const i8 = parseNpy(encodeNpy(new BigInt64Array([-5n, 2n ** 53n, 0n]), [3]));
  assert.equal(i8.dtype, "<i8");
  assert.ok(i8.data instanceof Float64Array);
  assert.deepEqual(Array.from(i8.data), [-5, 2 ** 53, 0]);
});

Deno.test("npy scalar, empty and subarray inputs", () => {
  const s = parseNpy(encodeNpy(new Float64Array([2.5]), []));
  assert.deepEqual(s.shape, []);
  assert.equal(s.data[0], 2.5);
  const e = parseNpy(encodeNpy(new Float32Array(0), [0, 4]));
  assert.deepEqual(e.shape, [0, 4]);
  assert.equal(e.data.length, 0);
  // a view at an odd offset into a larger buffer
  const big = new Float64Array([9, 1, 2, 3, 9]);
  const v = parseNpy(encodeNpy(big.subarray(1, 4), [3]));
  assert.deepEqual(Array.from(v.data), [1, 2, 3]);
  // parsing from a misaligned byte view
  const bytes = encodeNpy(new Float64Array([4, 5]), [2]);
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  assert.deepEqual(Array.from(parseNpy(shifted.subarray(3)).data), [4, 5]);
});

Deno.test("npy header matches numpy's layout byte for byte", () => {
  const bytes = encodeNpy(new Float64Array(6), [2, 3]);
  const dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
  // numpy 2.x: \x93NUMPY 1 0, uint16 118, the dict padded with spaces and '\n' to 128 bytes
  assert.deepEqual(Array.from(bytes.subarray(0, 10)), [0x93, 78, 85, 77, 80, 89, 1, 0, 118, 0]);
  const header = new TextDecoder().decode(bytes.subarray(10, 128));
  assert.equal(header, dict + " ".repeat(118 - dict.length - 1) + "\n");
  assert.equal(bytes.length, 128 + 48);
  const one = new TextDecoder().decode(encodeNpy(new Float32Array(3), [3]).subarray(10, 128));
  assert.ok(one.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"));
});

Deno.test("npy version 2.0 header is read and used for huge headers", () => {
  const v1 = encodeNpy(new Float64Array([1, 2]), [2]);
  const hl = v1[8] | (v1[9] << 8);
  const v2 = new Uint8Array(v1.length + 2);
  v2.set(v1.subarray(0, 8));
  v2[6] = 2;
  new DataView(v2.buffer).setUint32(8, hl, true);
  v2.set(v1.subarray(10), 12);
  assert.deepEqual(Array.from(parseNpy(v2).data), [1, 2]);
  // 30000 dimensions of size 1 need a header longer than 65535 bytes
  const shape = new Array(30000).fill(1);
  const big = encodeNpy(new Float64Array([7]), shape);
  assert.equal(big[6], 2);
  const back = parseNpy(big);
  assert.equal(back.shape.length, 30000);
  assert.equal(back.data[0], 7);
});

Deno.test("npy parses the shared QG fixture noise32_q.npy against the manifest", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(new URL("manifest.json", FIX)));
  const c = manifest.cases.noise32;
  const a = await readNpy(new URL("noise32_q.npy", FIX));
  assert.deepEqual(a.shape, [4, 2, 32, 32]);
  assert.equal(a.dtype, "<f8");
  assert.ok(a.data instanceof Float64Array);
  const n = 32;
  let checked = 0;
  c.files.q_steps.forEach((step: number, s: number) => {
    const ref = c.q_checksums[String(step)];
    const f = a.data.subarray(s * 2 * n * n, (s + 1) * 2 * n * n);
    let sum = 0, maxabs = 0;
    for (const v of f) {
      sum += v;
      maxabs = Math.max(maxabs, Math.abs(v));
    }
    assert.ok(Math.abs(sum - ref.sum) <= 1e-12 * Math.abs(ref.sum) + 1e-25, `sum at step ${step}`);
    assert.equal(maxabs, ref.maxabs);
    for (const [key, want] of Object.entries(ref.samples)) {
      const [l, j, i] = key.split(",").map(Number);
      const idx = ((l + 2) % 2) * n * n + ((j + n) % n) * n + ((i + n) % n);
      assert.equal(f[idx], want, `sample ${key} at step ${step}`);
      checked++;
    }
  });
  assert.ok(checked >= 5);
});

Deno.test("npy writeNpy then readNpy through a file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/sub/x.npy`;
    await writeNpy(path, new Float32Array([1, 2, 3, 4]), [2, 2]);
    const a = await readNpy(path);
    assert.deepEqual(a.shape, [2, 2]);
    assert.deepEqual(Array.from(a.data), [1, 2, 3, 4]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Builds an .npy v1.0 file with the given header dict and data bytes. */
function withHeader(dict: string, data = new Uint8Array(8)): Uint8Array {
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 78, 85, 77, 80, 89, 1, 0]);
  new DataView(out.buffer).setUint16(8, total - 10, true);
  const h = dict + " ".repeat(total - 10 - dict.length - 1) + "\n";
  for (let i = 0; i < h.length; i++) out[10 + i] = h.charCodeAt(i);
  out.set(data, total);
  return out;
}

Deno.test("npy errors name the problem", () => {
  const bad = (bytes: Uint8Array, pattern: RegExp): void => {
    assert.throws(() => parseNpy(bytes), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError, String(e));
      assert.match((e as Error).message, pattern);
      return true;
    });
  };
  bad(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), /magic/);
  bad(withHeader("{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }"), /fortran_order/);
  bad(withHeader("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }"), /big-endian/);
  bad(withHeader("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }"), /dtype '<c16'/);
  bad(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"), /truncated/);
  bad(withHeader("{'descr': '<f8', 'shape': (1,), }"), /fortran_order/);
  bad(withHeader("{'descr': '<f8', 'fortran_order': False, }"), /shape/);
  const v9 = withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }");
  v9[6] = 9;
  bad(v9, /version 9\.0/);
  const long = withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }");
  bad(long.subarray(0, 40), /header length/);
  const i8 = new Uint8Array(new BigInt64Array([2n ** 60n + 1n]).buffer);
  bad(withHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", i8), /exactly/);
  // big-endian single bytes are fine
  const u1 = withHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }");
  assert.equal(parseNpy(u1).data.length, 2);
  assert.throws(() => encodeNpy(new Float64Array(3), [2, 2]), InvalidArgumentError);
  assert.throws(() => encodeNpy(new Float64Array(3), [1.5, 2]), InvalidArgumentError);
});
