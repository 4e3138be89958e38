import assert from "node:assert/strict";
import { gaspariCohn } from "../src/assim/gaspari_cohn.ts";
import { letkfAnalysis, letkfNeighbours } from "../src/assim/letkf.ts";
import { SymmetricEigen } from "../src/assim/symmetric_eigen.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { readNpy } from "../src/io/npy.ts";
import { Rng } from "../src/rng.ts";

/** Row-major n×n matrix helpers for the Kalman filter reference. */
function matmul(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      for (let j = 0; j < m; j++) c[i * m + j] += a[i * k + p] * b[p * m + j];
    }
  }
  return c;
}
function transpose(a: Float64Array, n: number, m: number): Float64Array {
  const t = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) t[j * n + i] = a[i * m + j];
  return t;
}
function inverse(a: Float64Array, n: number): Float64Array { // Gauss–Jordan with partial pivoting
  const w = Float64Array.from(a), inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(w[r * n + c]) > Math.abs(w[p * n + c])) p = r;
    for (let j = 0; j < n; j++) {
      [w[c * n + j], w[p * n + j]] = [w[p * n + j], w[c * n + j]];
      [inv[c * n + j], inv[p * n + j]] = [inv[p * n + j], inv[c * n + j]];
    }
    const d = w[c * n + c];
    for (let j = 0; j < n; j++) {
      w[c * n + j] /= d;
      inv[c * n + j] /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = w[r * n + c];
      for (let j = 0; j < n; j++) {
        w[r * n + j] -= f * w[c * n + j];
        inv[r * n + j] -= f * inv[c * n + j];
      }
    }
  }
  return inv;
}
/** Sample covariance (N − 1) of rows of [N, n], and the mean. */
function moments(x: Float64Array, N: number, n: number): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(n), cov = new Float64Array(n * n);
  for (let a = 0; a < N; a++) for (let i = 0; i < n; i++) mean[i] += x[a * n + i] / N;
  for (let a = 0; a < N; a++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        cov[i * n + j] += (x[a * n + i] - mean[i]) * (x[a * n + j] - mean[j]) / (N - 1);
      }
    }
  }
  return { mean, cov };
}
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
  return e;
};

Deno.test("LETKF: reproduces the Kalman filter's mean and covariance (linear-Gaussian, N > n)", () => {
  const rng = new Rng(7);
  for (const [n, N, m, s] of [[6, 40, 4, 0.7], [5, 12, 9, 0.2]] as const) {
    // a correlated prior ensemble: x = C z with C random, then a linear H and noisy y
    const C = Float64Array.from({ length: n * n }, () => rng.normal());
    const Z = Float64Array.from({ length: N * n }, () => rng.normal());
    const Xf = transpose(matmul(C, transpose(Z, N, n), n, n, N), n, N); // [N, n]
    const H = Float64Array.from({ length: m * n }, () => rng.normal());
    const y = Float64Array.from({ length: m }, () => 2 * rng.normal());
    const HX = matmul(Xf, transpose(H, m, n), N, n, m); // [N, m]
    // state = one column with n "layers": [N, n, 1, 1]
    const grid = { nx: 1, ny: 1, layers: n, lengthX: 1e6 };
    const neighbours = letkfNeighbours(grid, new Float64Array(2 * m), Infinity);
    const Xa = letkfAnalysis({ members: N, forecast: Xf, observed: HX, y, sigma: s }, grid, {
      neighbours,
    });
    // Kalman filter with the ensemble's covariance: K = Pf Hᵀ (H Pf Hᵀ + s² I)⁻¹
    const { mean: xf, cov: Pf } = moments(Xf, N, n);
    const PfHt = matmul(Pf, transpose(H, m, n), n, n, m);
    const S = matmul(H, PfHt, m, n, m);
    for (let i = 0; i < m; i++) S[i * m + i] += s * s;
    const K = matmul(PfHt, inverse(S, m), n, m, m);
    const innov = Float64Array.from(y, (v, i) => v - matmul(H, xf, m, n, 1)[i]);
    const meanKf = Float64Array.from(xf, (v, i) => v + matmul(K, innov, n, m, 1)[i]);
    const IKH = matmul(K, H, n, m, n).map((v, i) => (i % (n + 1) === 0 ? 1 : 0) - v);
    const PaKf = matmul(IKH, Pf, n, n, n);
    const { mean, cov } = moments(Xa, N, n);
    const scale = Math.max(...Array.from(Pf, Math.abs));
    assert.ok(maxAbs(mean, meanKf) < 1e-11 * scale, `mean error ${maxAbs(mean, meanKf)}`);
    assert.ok(maxAbs(cov, PaKf) < 1e-11 * scale, `covariance error ${maxAbs(cov, PaKf)}`);
    // the analysis is not the forecast (the test can fail)
    assert.ok(maxAbs(mean, xf) > 1e-3);
  }
});

Deno.test("LETKF: Gaspari–Cohn taper against its closed form (Gaspari & Cohn 1999, eq. 4.10)", () => {
  const closed = (r: number): number => {
    if (r <= 1) return -(r ** 5) / 4 + r ** 4 / 2 + 5 * r ** 3 / 8 - 5 * r ** 2 / 3 + 1;
    if (r < 2) {
      return r ** 5 / 12 - r ** 4 / 2 + 5 * r ** 3 / 8 + 5 * r ** 2 / 3 - 5 * r + 4 - 2 / (3 * r);
    }
    return 0;
  };
  for (let r = 0; r <= 2.5; r += 0.01) {
    assert.ok(Math.abs(gaspariCohn(r) - closed(r)) < 1e-14, `r = ${r}`);
    assert.equal(gaspariCohn(-r), gaspariCohn(r));
  }
  assert.equal(gaspariCohn(0), 1);
  assert.ok(Math.abs(gaspariCohn(1) - 5 / 24) < 1e-15);
  assert.equal(gaspariCohn(2), 0);
  assert.ok(Math.abs(gaspariCohn(0.5) - 0.68489583333333) < 1e-12); // by hand
  // continuous at r = 1 and r = 2, decreasing in between
  assert.ok(Math.abs(gaspariCohn(1 - 1e-9) - gaspariCohn(1 + 1e-9)) < 1e-8);
  assert.ok(gaspariCohn(2 - 1e-6) < 1e-15);
  for (let r = 0; r < 2; r += 0.05) assert.ok(gaspariCohn(r + 0.05) < gaspariCohn(r));
});

Deno.test("LETKF: the same analysis ensemble as the NumPy peer (stored fixture)", async () => {
  const dir = new URL("./fixtures/letkf/", import.meta.url);
  const load = async (f: string) =>
    Float64Array.from((await readNpy(new URL(f, dir))).data as Float64Array);
  const [Xf, HXf, y, xy] = await Promise.all(
    ["Xf", "HXf", "y", "obs_xy"].map((f) => load(`${f}.npy`)),
  );
  const grid = { nx: 8, ny: 8, layers: 2, lengthX: 1e6 };
  for (
    const [name, cutoff, inflation, rtps] of [["loc", 4e5, 1.1, 0.3], [
      "global",
      Infinity,
      1,
      0,
    ]] as const
  ) {
    const neighbours = letkfNeighbours(grid, xy, cutoff);
    const Xa = letkfAnalysis({ members: 10, forecast: Xf, observed: HXf, y, sigma: 0.3 }, grid, {
      neighbours,
      inflation,
      rtps,
    });
    const ref = await load(`Xa_${name}.npy`);
    assert.ok(maxAbs(Xa, ref) < 1e-12, `${name}: max |ours − peer| = ${maxAbs(Xa, ref)}`);
    assert.ok(maxAbs(Xa, Xf) > 0.01, `${name}: the analysis moved`);
  }
});

const peer = new URL("./fixtures/letkf/letkf_numpy.py", import.meta.url).pathname;
const peerReady = await (async () => {
  try {
    await Deno.stat(peer);
    const o = await new Deno.Command("/usr/bin/python3", { args: ["-c", "import numpy"] }).output();
    return o.success;
  } catch {
    return false;
  }
})();
if (!peerReady) {
  console.log("letkf peer live check skipped: needs /usr/bin/python3 with numpy");
}

Deno.test({
  name: "LETKF: the live NumPy peer on fresh inputs (localised, 16x16, inflation, RTPS)",
  ignore: !peerReady,
  fn: async () => {
    const rng = new Rng(3);
    const N = 8, nx = 16, m = 40, grid = { nx, ny: nx, layers: 2, lengthX: 1e6 };
    const Xf = Float64Array.from({ length: N * 2 * nx * nx }, () => rng.normal());
    const HXf = Float64Array.from({ length: N * m }, () => rng.normal());
    const y = Float64Array.from({ length: m }, () => rng.normal());
    const xy = Float64Array.from({ length: 2 * m }, () => rng.uniform() * 1e6);
    const dir = await Deno.makeTempDir();
    try {
      const script = `import numpy as np, sys, importlib.util
spec = importlib.util.spec_from_file_location("p", "${peer}"); p = importlib.util.module_from_spec(spec); spec.loader.exec_module(p)
d = "${dir}"; r = lambda n, s: np.fromfile(f"{d}/{n}", dtype="<f8").reshape(s)
Xa = p.analyse(r("Xf", (${N}, 2, ${nx}, ${nx})), r("HXf", (${N}, ${m})), r("y", (${m},)), r("xy", (${m}, 2)), 1e6, 0.5, 3e5, 1.2, 0.5)
Xa.astype("<f8").tofile(f"{d}/Xa")`;
      for (const [f, a] of [["Xf", Xf], ["HXf", HXf], ["y", y], ["xy", xy]] as const) {
        await Deno.writeFile(`${dir}/${f}`, new Uint8Array(a.buffer));
      }
      const o = await new Deno.Command("/usr/bin/python3", { args: ["-c", script] }).output();
      assert.ok(o.success, new TextDecoder().decode(o.stderr));
      const ref = new Float64Array((await Deno.readFile(`${dir}/Xa`)).buffer);
      const Xa = letkfAnalysis({ members: N, forecast: Xf, observed: HXf, y, sigma: 0.5 }, grid, {
        neighbours: letkfNeighbours(grid, xy, 3e5),
        inflation: 1.2,
        rtps: 0.5,
      });
      assert.ok(maxAbs(Xa, ref) < 1e-12, `max |ours − peer| = ${maxAbs(Xa, ref)}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("LETKF: symmetric eigen-solve reconstructs the matrix; bad inputs are refused", () => {
  const rng = new Rng(1), n = 9;
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) A[i * n + j] = A[j * n + i] = rng.normal();
  }
  A[4 * n + 4] = A[5 * n + 5]; // a near-tie does not matter
  const eig = new SymmetricEigen(n);
  eig.decompose(A);
  const R = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        R[i * n + j] += eig.values[k] * eig.vectors[k * n + i] * eig.vectors[k * n + j];
      }
    }
  }
  assert.ok(maxAbs(R, A) < 1e-13);
  const grid = { nx: 2, ny: 2, layers: 1, lengthX: 1 };
  const nb = letkfNeighbours(grid, [0.25, 0.25], 0.3);
  const ok = { members: 2, forecast: [1, 2, 3, 4, 0, 0, 0, 0], observed: [1, 0], y: [1], sigma: 1 };
  assert.throws(
    () => letkfAnalysis({ ...ok, members: 1 }, grid, { neighbours: nb }),
    InvalidArgumentError,
  );
  assert.throws(
    () => letkfAnalysis({ ...ok, forecast: [1] }, grid, { neighbours: nb }),
    /forecast must be/,
  );
  assert.throws(() => letkfAnalysis(ok, grid, { neighbours: nb, inflation: 0.5 }), /inflation/);
  assert.throws(() => letkfAnalysis({ ...ok, sigma: 0 }, grid, { neighbours: nb }), /std/);
  assert.throws(() => letkfNeighbours(grid, [0.5], 1), /\[m, 2\]/);
  // columns beyond the cutoff keep the (inflated) prior
  const xa = letkfAnalysis(ok, grid, { neighbours: nb, inflation: 4 });
  assert.equal(nb.offsets[4] - nb.offsets[3], 0);
  assert.deepEqual([xa[3], xa[7]], [2 + 2 * 2, 2 - 2 * 2]);
});

Deno.test("LETKF: weight interpolation is exact on the solved columns and close in between", () => {
  const rng = new Rng(4), N = 12, nx = 32, m = 200, L = 1e6;
  const grid = { nx, ny: nx, layers: 2, lengthX: L };
  // a smooth ensemble (a few Fourier modes per member) observed directly at random points
  const Xf = new Float64Array(N * 2 * nx * nx);
  for (let a = 0; a < N; a++) {
    const k = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
    for (let l = 0; l < 2; l++) {
      for (let i = 0; i < nx; i++) {
        for (let j = 0; j < nx; j++) {
          const x = (2 * Math.PI * j) / nx, y = (2 * Math.PI * i) / nx;
          Xf[((a * 2 + l) * nx + i) * nx + j] = k[0] * Math.sin(x) + k[1] * Math.cos(y) +
            k[2] * Math.sin(x + 2 * y) + (l + 1) * k[3] * Math.cos(2 * x - y);
        }
      }
    }
  }
  const idx = Array.from({ length: m }, () => Math.floor(rng.uniform() * nx * nx));
  const xy = new Float64Array(2 * m), HX = new Float64Array(N * m), y = new Float64Array(m);
  idx.forEach((g, k) => {
    xy[2 * k] = ((g % nx) + 0.5) * L / nx;
    xy[2 * k + 1] = (Math.floor(g / nx) + 0.5) * L / nx;
    for (let a = 0; a < N; a++) HX[a * m + k] = Xf[a * 2 * nx * nx + g];
    y[k] = 0.5 * rng.normal();
  });
  const neighbours = letkfNeighbours(grid, xy, 4e5);
  const input = { members: N, forecast: Xf, observed: HX, y, sigma: 0.3 };
  const exact = letkfAnalysis(input, grid, { neighbours, inflation: 1.1, rtps: 0.4 });
  const interp = letkfAnalysis(input, grid, {
    neighbours,
    inflation: 1.1,
    rtps: 0.4,
    weightStride: 2,
  });
  let onSolved = 0, between = 0, scale = 0, incr = 0;
  for (let a = 0; a < N; a++) {
    for (let l = 0; l < 2; l++) {
      for (let i = 0; i < nx; i++) {
        for (let j = 0; j < nx; j++) {
          const e = ((a * 2 + l) * nx + i) * nx + j, diff = Math.abs(exact[e] - interp[e]);
          if (i % 2 === 0 && j % 2 === 0) onSolved = Math.max(onSolved, diff);
          else between = Math.max(between, diff);
          scale = Math.max(scale, Math.abs(exact[e]));
          incr = Math.max(incr, Math.abs(exact[e] - Xf[e]));
        }
      }
    }
  }
  assert.ok(onSolved < 1e-12 * scale, `solved columns: ${onSolved}`);
  assert.ok(
    between < 0.05 * incr,
    `interpolated columns: ${between} vs analysis increments ${incr}`,
  );
  assert.ok(between > 0, "interpolation is not the exact analysis (the test can fail)");
  assert.throws(() => letkfAnalysis(input, grid, { neighbours, weightStride: 3 }), /weightStride/);
});
