// The LETKF's WebAssembly kernel (wasm/letkf.c, the default engine of letkfAnalysis) against the
// TypeScript reference (eigenvectors by tred2/tql2), the stored NumPy peer fixture, the Kalman
// filter, and itself on two threads.
import assert from "node:assert/strict";
import { letkfAnalysis, letkfNeighbours, type LetkfOptions } from "../src/assim/letkf.ts";
import { LetkfWasmKernel, setLetkfThreads } from "../src/assim/letkf_wasm.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { readNpy } from "../src/io/npy.ts";
import { Rng } from "../src/rng.ts";

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
  return e;
};

interface Case {
  N: number;
  nx: number;
  layers: number;
  m: number;
  cutoff: number;
  sigma: number;
  inflation: number;
  rtps: number;
  seed: number;
}

function makeCase(c: Case) {
  const rng = new Rng(c.seed), L = 1e6;
  const grid = { nx: c.nx, ny: c.nx, layers: c.layers, lengthX: L };
  const normal = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
  const forecast = normal(c.N * c.layers * c.nx * c.nx);
  const observed = normal(c.N * c.m), y = normal(c.m);
  const xy = Float64Array.from({ length: 2 * c.m }, () => rng.uniform() * L);
  const neighbours = letkfNeighbours(grid, xy, c.cutoff);
  const input = { members: c.N, forecast, observed, y, sigma: c.sigma };
  const options: LetkfOptions = { neighbours, inflation: c.inflation, rtps: c.rtps };
  return { grid, input, options, neighbours };
}

Deno.test("LETKF wasm kernel: the TypeScript engine's analysis to round-off", () => {
  const cases: Case[] = [
    // the benchmark's shape, smaller: ~30 local observations for 16 members
    {
      N: 16,
      nx: 16,
      layers: 2,
      m: 300,
      cutoff: 2e5,
      sigma: 0.1,
      inflation: 1.05,
      rtps: 0.5,
      seed: 1,
    },
    // fewer local observations than members (a multiple eigenvalue (N−1)/ρ) and empty columns
    {
      N: 20,
      nx: 16,
      layers: 2,
      m: 12,
      cutoff: 1.5e5,
      sigma: 0.5,
      inflation: 1.2,
      rtps: 0,
      seed: 2,
    },
    // odd N (padding of the SIMD rows), one and three layers, N = 2 and 3
    { N: 7, nx: 8, layers: 1, m: 40, cutoff: 4e5, sigma: 0.3, inflation: 1, rtps: 0.3, seed: 3 },
    { N: 13, nx: 8, layers: 3, m: 60, cutoff: 3e5, sigma: 1, inflation: 1.1, rtps: 0, seed: 4 },
    { N: 2, nx: 8, layers: 2, m: 30, cutoff: 3e5, sigma: 0.7, inflation: 1, rtps: 0, seed: 5 },
    { N: 3, nx: 8, layers: 2, m: 30, cutoff: 3e5, sigma: 0.7, inflation: 1.3, rtps: 0.2, seed: 6 },
    // precise observations: a wide spread of eigenvalues
    { N: 32, nx: 8, layers: 2, m: 200, cutoff: 5e5, sigma: 0.01, inflation: 1, rtps: 0, seed: 7 },
  ];
  for (const c of cases) {
    const { grid, input, options, neighbours } = makeCase(c);
    const ts = letkfAnalysis(input, grid, { ...options, engine: "ts" });
    const wasm = letkfAnalysis(input, grid, options);
    const scale = Math.max(...Array.from(ts, Math.abs));
    const err = maxAbs(wasm, ts);
    assert.ok(err < 1e-12 * scale, `${JSON.stringify(c)}: max |wasm − ts| = ${err}`);
    assert.ok(maxAbs(wasm, input.forecast) > 1e-3, "the analysis moved");
    if (c.seed === 2) {
      let empty = 0;
      for (let k = 0; k + 1 < neighbours.offsets.length; k++) {
        if (neighbours.offsets[k + 1] === neighbours.offsets[k]) empty++;
      }
      assert.ok(empty > 0, "the sparse case has columns without observations");
    }
  }
});

Deno.test("LETKF wasm kernel: the NumPy peer's stored analysis (localised, inflation, RTPS)", async () => {
  const dir = new URL("./fixtures/letkf/", import.meta.url);
  const load = async (f: string) =>
    Float64Array.from((await readNpy(new URL(f, dir))).data as Float64Array);
  const [Xf, HXf, y, xy, ref] = await Promise.all(
    ["Xf", "HXf", "y", "obs_xy", "Xa_loc"].map((f) => load(`${f}.npy`)),
  );
  const grid = { nx: 8, ny: 8, layers: 2, lengthX: 1e6 };
  const input = { members: 10, forecast: Xf, observed: HXf, y, sigma: 0.3 };
  const neighbours = letkfNeighbours(grid, xy, 4e5);
  const Xa = letkfAnalysis(input, grid, { neighbours, inflation: 1.1, rtps: 0.3, engine: "wasm" });
  assert.ok(maxAbs(Xa, ref) < 1e-12, `max |wasm − peer| = ${maxAbs(Xa, ref)}`);
  // every observation at the centre of a one-column grid (Gaspari–Cohn weight 1): the global
  // analysis of the TS engine, which the Kalman filter test of letkf_analysis_test.ts checks
  const one = { nx: 1, ny: 1, layers: 20, lengthX: 1e6 };
  const centre = new Float64Array(2 * 12).fill(5e5);
  const single = {
    members: 10,
    forecast: Xf.subarray(0, 200),
    observed: HXf.subarray(0, 120),
    y: y.subarray(0, 12),
    sigma: 0.3,
  };
  const local = letkfAnalysis(single, one, { neighbours: letkfNeighbours(one, centre, 1e5) });
  const global = letkfAnalysis(single, one, {
    neighbours: letkfNeighbours(one, centre, Infinity),
  });
  assert.ok(maxAbs(local, global) < 1e-12, `weight-1 column: ${maxAbs(local, global)}`);
  // a cutoff beyond the domain: every observation at weight GC(r) < 1, still the TS analysis
  const far = letkfNeighbours(grid, xy, 1e8);
  const a = letkfAnalysis(input, grid, { neighbours: far, engine: "wasm" });
  const b = letkfAnalysis(input, grid, { neighbours: far, engine: "ts" });
  assert.ok(maxAbs(a, b) < 1e-12, `far cutoff: ${maxAbs(a, b)}`);
});

Deno.test("LETKF wasm kernel: two threads give the same bytes as one; ranges of columns", async () => {
  const { grid, input, options, neighbours } = makeCase({
    N: 12,
    nx: 16,
    layers: 2,
    m: 150,
    cutoff: 2.5e5,
    sigma: 0.2,
    inflation: 1.1,
    rtps: 0.4,
    seed: 11,
  });
  const one = letkfAnalysis(input, grid, options);
  assert.equal(await setLetkfThreads(2), 2);
  try {
    const two = letkfAnalysis(input, grid, options);
    assert.deepEqual(two, one);
    // again, with the memory already sized (the helper reads fresh views)
    assert.deepEqual(letkfAnalysis(input, grid, options), one);
  } finally {
    assert.equal(await setLetkfThreads(1), 1);
  }
  // a kernel of its own on a range of columns: those columns as in the full analysis (no RTPS)
  const full = letkfAnalysis(input, grid, { ...options, rtps: 0 });
  const N = 12, S = 2 * 16 * 16, m = 150;
  const xm = new Float64Array(S), Xp = new Float64Array(N * S);
  for (let a = 0; a < N; a++) for (let s = 0; s < S; s++) xm[s] += input.forecast[a * S + s] / N;
  for (let a = 0; a < N; a++) {
    for (let s = 0; s < S; s++) Xp[a * S + s] = input.forecast[a * S + s] - xm[s];
  }
  const Yt = new Float64Array(m * N), d = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    let mu = 0;
    for (let a = 0; a < N; a++) mu += input.observed[a * m + k] / N;
    for (let a = 0; a < N; a++) Yt[k * N + a] = input.observed[a * m + k] - mu;
    d[k] = input.y[k] - mu;
  }
  const kernel = new LetkfWasmKernel();
  const part = kernel.analyse(
    {
      members: N,
      layers: 2,
      neighbours,
      rinv: new Float64Array(m).fill(1 / 0.04),
      Yt,
      d,
      xm,
      Xp,
      inflation: 1.1,
    },
    40,
    100,
  );
  let inRange = 0, outside = 0;
  for (let a = 0; a < N; a++) {
    for (let s = 0; s < S; s++) {
      const c = s % 256, e = a * S + s;
      if (c >= 40 && c < 100) inRange = Math.max(inRange, Math.abs(part[e] - full[e]));
      else outside = Math.max(outside, Math.abs(part[e]));
    }
  }
  assert.ok(inRange < 1e-13, `columns 40..99: ${inRange}`);
  assert.equal(outside, 0);
  assert.throws(
    () =>
      kernel.analyse({ members: N, layers: 2, neighbours, rinv: Yt, Yt, d, xm, Xp, inflation: 1 }),
    /inputs must be/,
  );
});

Deno.test("LETKF: non-finite input is refused by both engines; bad engine", () => {
  const { grid, input, options } = makeCase({
    N: 6,
    nx: 8,
    layers: 2,
    m: 40,
    cutoff: 4e5,
    sigma: 0.5,
    inflation: 1,
    rtps: 0,
    seed: 12,
  });
  const observed = Float64Array.from(input.observed);
  observed[3 * 40 + 5] = NaN;
  const forecast = Float64Array.from(input.forecast);
  forecast[7] = Infinity;
  for (const engine of ["wasm", "ts"] as const) {
    assert.throws(
      () => letkfAnalysis({ ...input, observed }, grid, { ...options, engine }),
      (e: unknown) =>
        e instanceof InvalidArgumentError && /non-finite value at obs 5\b/.test(e.message),
    );
    assert.throws(
      () => letkfAnalysis({ ...input, forecast }, grid, { ...options, engine }),
      (e: unknown) => e instanceof InvalidArgumentError && /state entry 7\b/.test(e.message),
    );
  }
  assert.throws(
    () => letkfAnalysis(input, grid, { ...options, engine: "gpu" as "wasm" }),
    /engine must be/,
  );
});
