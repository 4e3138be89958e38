import assert from "node:assert/strict";
import { createRealFFT2, simdSupported } from "../src/fft/create.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import type { FFTBackend, RealFFT2 } from "../src/fft/types.ts";

const BACKENDS: FFTBackend[] = simdSupported() ? ["ts", "wasm"] : ["ts"];

/** Deterministic uniform(-0.5, 0.5) numbers (mulberry32). */
function random(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  }
  return out;
}

/** Direct O(N^2) forward DFT, NumPy rfft2 layout (angles reduced exactly before scaling). */
function directRfft2(ny: number, nx: number, x: Float64Array): Float64Array {
  const nk = nx / 2 + 1;
  const out = new Float64Array(ny * nk * 2);
  for (let l = 0; l < ny; l++) {
    for (let k = 0; k < nk; k++) {
      let re = 0, im = 0;
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const t = -2 * Math.PI * (((k * i) % nx) / nx + ((l * j) % ny) / ny);
          re += x[j * nx + i] * Math.cos(t);
          im += x[j * nx + i] * Math.sin(t);
        }
      }
      out[(l * nk + k) * 2] = re;
      out[(l * nk + k) * 2 + 1] = im;
    }
  }
  return out;
}

/**
 * NumPy irfft2 by its definition: complex inverse along y for each stored column, then a c2r
 * inverse along x that ignores the imaginary parts of the k = 0 and k = nx/2 entries.
 */
function directIrfft2(ny: number, nx: number, s: Float64Array): Float64Array {
  const nk = nx / 2 + 1;
  const col = new Float64Array(ny * nk * 2);
  for (let j = 0; j < ny; j++) {
    for (let k = 0; k < nk; k++) {
      let re = 0, im = 0;
      for (let l = 0; l < ny; l++) {
        const t = (2 * Math.PI * ((l * j) % ny)) / ny;
        const a = s[(l * nk + k) * 2], b = s[(l * nk + k) * 2 + 1];
        re += a * Math.cos(t) - b * Math.sin(t);
        im += a * Math.sin(t) + b * Math.cos(t);
      }
      col[(j * nk + k) * 2] = re / ny;
      col[(j * nk + k) * 2 + 1] = im / ny;
    }
  }
  const out = new Float64Array(ny * nx);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      let v = 0;
      for (let k = 0; k < nk; k++) {
        const a = col[(j * nk + k) * 2], b = col[(j * nk + k) * 2 + 1];
        const t = (2 * Math.PI * ((k * i) % nx)) / nx;
        if (k === 0 || k === nx / 2) v += a * Math.cos(t);
        else v += 2 * (a * Math.cos(t) - b * Math.sin(t));
      }
      out[j * nx + i] = v / nx;
    }
  }
  return out;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max |a - b| / max |b| */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m / Math.max(maxAbs(b), 1e-300);
}

const SMALL: [number, number][] = [[16, 16], [16, 32], [32, 16], [2, 2], [4, 8], [8, 2], [2, 64]];

for (const backend of BACKENDS) {
  Deno.test(`fft ${backend}: rfft2 matches a direct DFT on small grids`, () => {
    for (const [ny, nx] of SMALL) {
      const fft = createRealFFT2(ny, nx, { backend });
      assert.equal(fft.backend, backend);
      assert.equal(fft.nk, nx / 2 + 1);
      const x = fft.alloc(ny * nx);
      x.set(random(ny * nx, ny * 1000 + nx));
      const s = fft.alloc(ny * fft.nk * 2);
      fft.rfft2(x, s);
      const err = relErr(s, directRfft2(ny, nx, x));
      assert.ok(err < 1e-13, `${ny}x${nx}: rel err ${err}`);
      // a single mode: x = cos(2π(3i/nx)) gives nx*ny/2 at (l=0, k=3)
      if (nx >= 8) {
        x.fill(0);
        for (let j = 0; j < ny; j++) {
          for (let i = 0; i < nx; i++) x[j * nx + i] = Math.cos((2 * Math.PI * 3 * i) / nx);
        }
        fft.rfft2(x, s);
        assert.ok(Math.abs(s[3 * 2] - (nx * ny) / 2) < 1e-12 * nx * ny);
        assert.ok(Math.abs(s[3 * 2 + 1]) < 1e-12 * nx * ny);
      }
    }
  });

  Deno.test(`fft ${backend}: irfft2 inverts rfft2 and leaves src unchanged`, () => {
    for (const [ny, nx] of [...SMALL, [64, 64], [128, 32]] as [number, number][]) {
      const fft = createRealFFT2(ny, nx, { backend });
      const x = random(ny * nx, 7 + ny + nx);
      const s = fft.alloc(ny * fft.nk * 2);
      const y = fft.alloc(ny * nx);
      fft.rfft2(x, s);
      const before = s.slice();
      fft.irfft2(s, y);
      assert.deepEqual(s, before, "irfft2 modified its input");
      const err = relErr(y, x);
      assert.ok(err < 1e-14, `${ny}x${nx}: round trip rel err ${err}`);
    }
  });

  Deno.test(`fft ${backend}: irfft2 of a non-Hermitian spectrum follows numpy`, () => {
    for (const [ny, nx] of [[16, 16], [16, 32], [32, 16], [4, 2]] as [number, number][]) {
      const fft = createRealFFT2(ny, nx, { backend });
      const nk = fft.nk;
      // i*k times a random spectrum: imaginary parts everywhere, including the k = 0 and
      // k = nx/2 columns and the l = -ny/2 row.
      const s = fft.alloc(ny * nk * 2);
      s.set(random(ny * nk * 2, 99 + nx));
      for (let l = 0; l < ny; l++) {
        for (let k = 0; k < nk; k++) {
          const p = (l * nk + k) * 2, kk = k + 0.5;
          const re = s[p], im = s[p + 1];
          s[p] = -kk * im;
          s[p + 1] = kk * re;
        }
      }
      const before = s.slice();
      const y = fft.alloc(ny * nx);
      fft.irfft2(s, y);
      assert.deepEqual(s, before);
      const err = relErr(y, directIrfft2(ny, nx, s));
      assert.ok(err < 1e-13, `${ny}x${nx}: rel err ${err}`);
    }
  });

  Deno.test(`fft ${backend}: count > 1 batches equal one-by-one calls`, () => {
    const ny = 32, nx = 64, count = 3;
    const fft = createRealFFT2(ny, nx, { backend });
    const spec = ny * fft.nk * 2, real = ny * nx;
    const x = fft.alloc(count * real);
    x.set(random(count * real, 5));
    const s = fft.alloc(count * spec);
    fft.rfft2(x, s, count);
    const y = fft.alloc(count * real);
    fft.irfft2(s, y, count);
    for (let f = 0; f < count; f++) {
      const one = new Float64Array(spec);
      fft.rfft2(x.subarray(f * real, (f + 1) * real), one);
      assert.deepEqual(s.subarray(f * spec, (f + 1) * spec), one);
      const back = new Float64Array(real);
      fft.irfft2(one, back);
      assert.deepEqual(y.subarray(f * real, (f + 1) * real), back);
    }
  });

  Deno.test(`fft ${backend}: arrays from outside alloc work, in any combination`, () => {
    const ny = 16, nx = 32, count = 2;
    const fft = createRealFFT2(ny, nx, { backend });
    const spec = ny * fft.nk * 2, real = ny * nx;
    const x = random(count * real, 11);
    const ref = fft.alloc(count * spec);
    const xin = fft.alloc(count * real);
    xin.set(x);
    fft.rfft2(xin, ref, count);
    const refBack = fft.alloc(count * real);
    fft.irfft2(ref, refBack, count);
    for (const [srcIn, dstIn] of [[false, false], [false, true], [true, false]]) {
      const src = srcIn ? xin : x;
      const dst = dstIn ? fft.alloc(count * spec) : new Float64Array(count * spec);
      fft.rfft2(src, dst, count);
      assert.deepEqual(dst, ref);
      const back = srcIn ? fft.alloc(count * real) : new Float64Array(count * real);
      fft.irfft2(dst, back, count);
      assert.deepEqual(back, refBack);
    }
    // a subarray view at an offset
    const big = new Float64Array(count * spec + 6);
    const view = big.subarray(6);
    fft.rfft2(x, view, count);
    assert.deepEqual(view, ref);
  });
}

if (simdSupported()) {
  Deno.test("fft: wasm and ts agree on larger and non-square grids", () => {
    for (const [ny, nx] of [[64, 64], [256, 256], [1024, 16], [16, 1024], [128, 512]]) {
      const w = createRealFFT2(ny, nx, { backend: "wasm" });
      const t = createRealFFT2(ny, nx, { backend: "ts" });
      const count = 2, spec = ny * w.nk * 2, real = ny * nx;
      const x = random(count * real, ny + 3 * nx);
      const sw = w.alloc(count * spec), st = new Float64Array(count * spec);
      w.rfft2(x, sw, count);
      t.rfft2(x, st, count);
      assert.ok(relErr(sw, st) < 1e-14, `${ny}x${nx} forward`);
      const yw = w.alloc(count * real), yt = new Float64Array(count * real);
      w.irfft2(sw, yw, count);
      t.irfft2(st, yt, count);
      assert.ok(relErr(yw, yt) < 1e-14, `${ny}x${nx} inverse`);
      assert.ok(relErr(yw, x) < 1e-14, `${ny}x${nx} round trip`);
    }
  });

  Deno.test("fft: wasm alloc views stay valid across many plans and allocations", () => {
    const fft = createRealFFT2(16, 16, { backend: "wasm", arenaDoubles: 1000 });
    const a = fft.alloc(256);
    a.set(random(256, 1));
    const others = Array.from({ length: 5 }, () => createRealFFT2(64, 64, { backend: "wasm" }));
    const b = fft.alloc(900); // beyond the arena: an ordinary array, still usable
    assert.equal(a.length, 256);
    assert.equal(b.length, 900);
    const s = new Float64Array(16 * 9 * 2);
    fft.rfft2(a, s);
    fft.irfft2(s, b);
    assert.ok(relErr(b.subarray(0, 256), a) < 1e-14);
    assert.equal(others.length, 5);
  });
}

Deno.test("fft: auto picks wasm when SIMD is available", () => {
  const fft: RealFFT2 = createRealFFT2(16, 16);
  assert.equal(fft.backend, simdSupported() ? "wasm" : "ts");
  assert.equal(createRealFFT2(16, 16, { backend: "auto" }).backend, fft.backend);
});

Deno.test("fft: bad sizes and arguments throw InvalidArgumentError", () => {
  for (const [ny, nx] of [[100, 64], [64, 0], [1, 16], [2048, 64], [64, 12.5], [NaN, 64]]) {
    assert.throws(() => createRealFFT2(ny, nx), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError);
      assert.match((e as Error).message, /power of two in 2\.\.1024/);
      return true;
    });
  }
  assert.throws(
    () => createRealFFT2(16, 16, { backend: "gpu" as FFTBackend }),
    InvalidArgumentError,
  );
  for (const backend of BACKENDS) {
    const fft = createRealFFT2(16, 16, { backend });
    const x = new Float64Array(256), s = new Float64Array(16 * 9 * 2);
    assert.throws(() => fft.rfft2(x, s, 2), InvalidArgumentError);
    assert.throws(() => fft.rfft2(x, s, 0), InvalidArgumentError);
    assert.throws(() => fft.irfft2(s, new Float64Array(10)), InvalidArgumentError);
  }
});
