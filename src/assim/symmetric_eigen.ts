/**
 * Eigen-decomposition of a small dense symmetric matrix: Householder tridiagonalisation then the
 * implicit QL algorithm (EISPACK tred2/tql2, as in JAMA). The LETKF's N×N ensemble-space solves use it.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** Reusable workspace for {@link symmetricEigen} on n×n matrices. */
export class SymmetricEigen {
  /** Matrix size. */
  readonly n: number;
  /** Eigenvectors after {@link SymmetricEigen.decompose}: row k (entries k·n … k·n + n − 1) is the k-th. */
  readonly vectors: Float64Array;
  /** Eigenvalues after {@link SymmetricEigen.decompose} (not sorted). */
  readonly values: Float64Array;
  #e: Float64Array;

  /**
   * @example
   * ```ts
   * import { SymmetricEigen } from "@soad/soad/internal";
   * const eig = new SymmetricEigen(2);
   * eig.decompose(new Float64Array([2, 1, 1, 2]));
   * console.log([...eig.values].sort()); // [1, 3]
   * ```
   */
  constructor(n: number) {
    if (!(Number.isInteger(n) && n >= 1)) {
      throw new InvalidArgumentError(`matrix size must be an integer >= 1, got ${n}`);
    }
    this.n = n;
    this.vectors = new Float64Array(n * n);
    this.values = new Float64Array(n);
    this.#e = new Float64Array(n);
  }

  /**
   * Decomposes the symmetric row-major `a` (n×n; only read) as Σ_k λ_k v_k v_kᵀ into
   * {@link SymmetricEigen.vectors} and {@link SymmetricEigen.values}.
   *
   * @example
   * ```ts
   * import { SymmetricEigen } from "@soad/soad/internal";
   * const eig = new SymmetricEigen(1);
   * eig.decompose(new Float64Array([5]));
   * console.log(eig.values[0], eig.vectors[0]); // 5 1
   * ```
   */
  decompose(a: ArrayLike<number>): void {
    const n = this.n;
    if (a.length !== n * n) {
      throw new InvalidArgumentError(
        `expected a ${n}x${n} matrix (${n * n} values), got ${a.length}`,
      );
    }
    const V = this.vectors;
    for (let i = 0; i < n * n; i++) V[i] = a[i];
    tred2(n, V, this.values, this.#e);
    for (let i = 0; i < n; i++) { // rows = vectors from here on (contiguous rotations in tql2)
      for (let j = 0; j < i; j++) {
        const t = V[i * n + j];
        V[i * n + j] = V[j * n + i];
        V[j * n + i] = t;
      }
    }
    tql2(n, V, this.values, this.#e);
  }
}

function tred2(n: number, V: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0, h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j * n + i] = f;
        g = e[j] + V[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j] * d[k];
          e[k] += V[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k * n + j] -= f * e[k] + g * d[k];
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i];
    V[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1] * V[k * n + j];
        for (let k = 0; k <= i; k++) V[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j];
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

function tql2(n: number, V: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0, tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) {
          throw new InvalidArgumentError(
            "symmetric eigen-solve did not converge (non-finite input?)",
          );
        }
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.sqrt(p * p + 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1, c2 = c, c3 = c, s = 0, s2 = 0;
        const el1 = e[l + 1];
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.sqrt(p * p + e[i] * e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const ri = i * n, rj = ri + n;
          for (let k = 0; k < n; k++) {
            h = V[rj + k];
            const vi = V[ri + k];
            V[rj + k] = s * vi + c * h;
            V[ri + k] = c * vi - s * h;
          }
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] = d[l] + f;
    e[l] = 0;
  }
}
