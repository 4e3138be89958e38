// The LETKF's local analyses (float64, WebAssembly SIMD128): for a batch of grid columns, build
// the ensemble-space matrix A = (N − 1)/ρ I + Ybᵀ R⁻¹ Yb from the column's weighted local
// observations and apply Wa = sqrt(N − 1) A^(-1/2) and Pa = A⁻¹ to the column's anomalies without
// forming any eigenvector: A = Q T Qᵀ (Householder tridiagonalisation, Q kept as its reflectors),
// T = Uᵀ Λ U (implicit QL as EISPACK tql2, U kept as its plane rotations), and
// f(A) x = Q Uᵀ f(Λ) U Qᵀ x for the layers' anomaly vectors and Ybᵀ R⁻¹ d at once. The same
// analysis as src/assim/letkf.ts (which forms the eigenvectors) to round-off.
//
// Layouts (doubles unless said): Yt [m][N] observed-member anomalies; d [m] innovations; rinv [m]
// 1/σo²; offsets [G + 1] (int32), index [E] (int32), weight [E] Gaspari–Cohn weights (column c's
// local observations are entries offsets[c] .. offsets[c + 1] − 1); xm [layers][G] forecast mean;
// Xp [N][layers][G] anomalies; out [N][layers][G] analysis ensemble. No stack is used.

#include <wasm_simd128.h>

typedef v128_t V;
#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store((p), (v))
#define SPL(p) wasm_v128_load64_splat(p)
#define ADD wasm_f64x2_add
#define SUB wasm_f64x2_sub
#define MUL wasm_f64x2_mul
#define SPLAT wasm_f64x2_splat

static inline int pad4(int n) { return (n + 3) & ~3; }
static inline int pad2(int n) { return (n + 1) & ~1; }

// Scratch doubles needed by letkf_columns for N members, layers layers and at most pmax local
// observations per column.
int letkf_scratch_doubles(int N, int layers, int pmax) {
  const int Np = pad4(N), nv = pad2(layers + 1), pm = pad2(pmax);
  return pm * Np + 3 * Np + 2 * (2 * Np * Np + 5 * Np + Np * nv + 90 * N * N);
}

// A (rows stride Np, Np a multiple of 4) = Zᵀ Z for Z [p][Np]: 4×4 blocks of the lower triangle,
// then mirrored. Padding columns of Z are zero, so A's padding rows and columns are zero.
static void gram(const double *restrict Z, int p, int Np, double *restrict A) {
  for (int a0 = 0; a0 < Np; a0 += 4) {
    for (int b0 = 0; b0 <= a0; b0 += 4) {
      V s00 = SPLAT(0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00,
        s31 = s00;
      const double *z = Z;
      for (int q = 0; q < p; q++, z += Np) {
        const V b0v = LD(z + b0), b1v = LD(z + b0 + 2);
        const V x0 = SPL(z + a0), x1 = SPL(z + a0 + 1), x2 = SPL(z + a0 + 2),
                x3 = SPL(z + a0 + 3);
        s00 = ADD(s00, MUL(x0, b0v));
        s01 = ADD(s01, MUL(x0, b1v));
        s10 = ADD(s10, MUL(x1, b0v));
        s11 = ADD(s11, MUL(x1, b1v));
        s20 = ADD(s20, MUL(x2, b0v));
        s21 = ADD(s21, MUL(x2, b1v));
        s30 = ADD(s30, MUL(x3, b0v));
        s31 = ADD(s31, MUL(x3, b1v));
      }
      double *r = A + a0 * Np + b0;
      ST(r, s00);
      ST(r + 2, s01);
      ST(r + Np, s10);
      ST(r + Np + 2, s11);
      ST(r + 2 * Np, s20);
      ST(r + 2 * Np + 2, s21);
      ST(r + 3 * Np, s30);
      ST(r + 3 * Np + 2, s31);
    }
  }
  for (int a = 0; a < Np; a++) {
    for (int b = a + 1; b < Np; b++) A[a * Np + b] = A[b * Np + a];
  }
}

// The reflector of step k from row k of A (its entries k + 1 .. n − 1): v (v[k + 1] = 1) into the
// zeroed row v, ee[k] = β; returns tau (0: nothing to annihilate, H_k = I).
static inline __attribute__((always_inline)) double reflector(int n, int k, const double *x,
                                                              double *restrict v, double *ee) {
  const int j0 = k + 1;
  const double alpha = x[j0];
  double xn2 = 0;
  for (int j = j0 + 1; j < n; j++) xn2 += x[j] * x[j];
  if (xn2 == 0) {
    ee[k] = alpha;
    return 0;
  }
  const double norm = __builtin_sqrt(alpha * alpha + xn2);
  const double beta = alpha > 0 ? -norm : norm;
  const double scal = 1 / (alpha - beta);
  ee[k] = beta;
  v[j0] = 1;
  for (int j = j0 + 1; j < n; j++) v[j] = x[j] * scal;
  return (beta - alpha) / beta;
}

// Householder tridiagonalisation of the symmetric n×n A (full storage, rows stride Np, zero
// padding beyond n): T = Qᵀ A Q with diagonal dd, off-diagonal ee (ee[k] = T[k][k + 1],
// ee[n − 1] = 0) and Q = H_0 ⋯ H_(n−3), H_k = I − tau[k] v vᵀ, v = row k of Hv (entries k + 1 .. n − 1,
// v[k + 1] = 1; zero elsewhere). A is overwritten. pv and wv: Np doubles each. Step k's rank-2
// update of the rows k + 2 .. n − 1 also forms step k + 1's product p = t A22 v (one pass over A
// per step; row k + 1, which step k + 1's reflector comes from, is updated first).
static void tridiagonalise(int n, int Np, double *restrict A, double *restrict Hv,
                           double *restrict tau, double *restrict dd, double *restrict ee,
                           double *restrict pv, double *restrict wv) {
  for (int i = 0; i < n * Np; i++) Hv[i] = 0;
  if (n > 2) { // step 0's reflector and product
    const double t = reflector(n, 0, A, Hv, ee);
    tau[0] = t;
    if (t != 0) {
      for (int i = 1; i < n; i++) {
        const double *restrict r = A + i * Np;
        V s = SPLAT(0);
        for (int j = 0; j < Np; j += 2) s = ADD(s, MUL(LD(r + j), LD(Hv + j)));
        pv[i] = t * (wasm_f64x2_extract_lane(s, 0) + wasm_f64x2_extract_lane(s, 1));
      }
    }
  }
  for (int k = 0; k + 2 < n; k++) {
    const int j0 = k + 1, js = j0 & ~1;
    const double *restrict v = Hv + k * Np;
    dd[k] = A[k * Np + k];
    const double t = tau[k];
    const int next = k + 3 < n; // a step k + 1 follows
    double *restrict vn = Hv + j0 * Np;
    if (t == 0) {
      if (next) {
        const double tn = tau[j0] = reflector(n, j0, A + j0 * Np, vn, ee);
        if (tn != 0) {
          for (int i = j0 + 1; i < n; i++) {
            const double *restrict r = A + i * Np;
            V s = SPLAT(0);
            for (int j = js; j < Np; j += 2) s = ADD(s, MUL(LD(r + j), LD(vn + j)));
            pv[i] = tn * (wasm_f64x2_extract_lane(s, 0) + wasm_f64x2_extract_lane(s, 1));
          }
        }
      }
      continue;
    }
    // K = −t/2 (p·v); w = p + K v
    double pvdot = 0;
    for (int i = j0; i < n; i++) pvdot += pv[i] * v[i];
    const double K = -0.5 * t * pvdot;
    for (int j = 0; j < Np; j++) wv[j] = 0;
    for (int j = j0; j < n; j++) wv[j] = pv[j] + K * v[j];
    // A22 −= v wᵀ + w vᵀ: row j0 first, then the others with the next step's product
    {
      double *restrict r = A + j0 * Np;
      const V vi = SPLAT(v[j0]), wi = SPLAT(wv[j0]);
      for (int j = js; j < Np; j += 2) {
        ST(r + j, SUB(LD(r + j), ADD(MUL(vi, LD(wv + j)), MUL(wi, LD(v + j)))));
      }
    }
    double tn = 0;
    if (next) tn = tau[j0] = reflector(n, j0, A + j0 * Np, vn, ee);
    if (tn != 0) {
      // two rows at a time: two independent sums, the vectors' loads shared
      int i = j0 + 1;
      for (; i + 1 < n; i += 2) {
        double *restrict r0 = A + i * Np;
        double *restrict r1 = r0 + Np;
        const V vi0 = SPLAT(v[i]), wi0 = SPLAT(wv[i]);
        const V vi1 = SPLAT(v[i + 1]), wi1 = SPLAT(wv[i + 1]);
        V s0 = SPLAT(0), s1 = s0;
        for (int j = js; j < Np; j += 2) {
          const V wj = LD(wv + j), vj = LD(v + j), nj = LD(vn + j);
          const V x0 = SUB(LD(r0 + j), ADD(MUL(vi0, wj), MUL(wi0, vj)));
          const V x1 = SUB(LD(r1 + j), ADD(MUL(vi1, wj), MUL(wi1, vj)));
          ST(r0 + j, x0);
          ST(r1 + j, x1);
          s0 = ADD(s0, MUL(x0, nj));
          s1 = ADD(s1, MUL(x1, nj));
        }
        pv[i] = tn * (wasm_f64x2_extract_lane(s0, 0) + wasm_f64x2_extract_lane(s0, 1));
        pv[i + 1] = tn * (wasm_f64x2_extract_lane(s1, 0) + wasm_f64x2_extract_lane(s1, 1));
      }
      for (; i < n; i++) {
        double *restrict r = A + i * Np;
        const V vi = SPLAT(v[i]), wi = SPLAT(wv[i]);
        V s = SPLAT(0);
        for (int j = js; j < Np; j += 2) {
          const V x = SUB(LD(r + j), ADD(MUL(vi, LD(wv + j)), MUL(wi, LD(v + j))));
          ST(r + j, x);
          s = ADD(s, MUL(x, LD(vn + j)));
        }
        pv[i] = tn * (wasm_f64x2_extract_lane(s, 0) + wasm_f64x2_extract_lane(s, 1));
      }
    } else {
      for (int i = j0 + 1; i < n; i++) {
        double *restrict r = A + i * Np;
        const V vi = SPLAT(v[i]), wi = SPLAT(wv[i]);
        for (int j = js; j < Np; j += 2) {
          ST(r + j, SUB(LD(r + j), ADD(MUL(vi, LD(wv + j)), MUL(wi, LD(v + j)))));
        }
      }
    }
  }
  if (n >= 2) {
    dd[n - 2] = A[(n - 2) * Np + n - 2];
    ee[n - 2] = A[(n - 2) * Np + n - 1];
  }
  dd[n - 1] = A[(n - 1) * Np + n - 1];
  ee[n - 1] = 0;
}

// X (rows stride nv, nv even) ← H_k X for the rows k + 1 .. n − 1 (H_k symmetric).
static void reflect(int n, int k, int nv, const double *restrict v, double t,
                    double *restrict X) {
  if (t == 0) return;
  if (nv == 4) { // two or three layers: both column pairs in one pass
    V s0 = SPLAT(0), s1 = s0;
    for (int j = k + 1; j < n; j++) {
      const V vj = SPLAT(v[j]);
      s0 = ADD(s0, MUL(vj, LD(X + j * 4)));
      s1 = ADD(s1, MUL(vj, LD(X + j * 4 + 2)));
    }
    s0 = MUL(s0, SPLAT(t));
    s1 = MUL(s1, SPLAT(t));
    for (int j = k + 1; j < n; j++) {
      const V vj = SPLAT(v[j]);
      ST(X + j * 4, SUB(LD(X + j * 4), MUL(vj, s0)));
      ST(X + j * 4 + 2, SUB(LD(X + j * 4 + 2), MUL(vj, s1)));
    }
    return;
  }
  for (int c = 0; c < nv; c += 2) {
    V s = SPLAT(0);
    for (int j = k + 1; j < n; j++) s = ADD(s, MUL(SPLAT(v[j]), LD(X + j * nv + c)));
    s = MUL(s, SPLAT(t));
    for (int j = k + 1; j < n; j++) {
      ST(X + j * nv + c, SUB(LD(X + j * nv + c), MUL(SPLAT(v[j]), s)));
    }
  }
}

// Eigenvalues of symmetric tridiagonals (dd, ee) by the implicit QL method (EISPACK tql2 without
// the vectors) into dd; the plane rotations that make U (T = Uᵀ Λ U, U = G_K ⋯ G_1) are applied to
// the rows of X (n × nv) as they come (X ← U X; off the critical path) and recorded (row i, cos,
// sin) in rot. Two problems run interleaved, one rotation of each in turn: a rotation's sqrt and
// divisions form a long dependency chain, and the other problem's fills its latency. The chain is
// kept short: 1/r is formed as r·(1/r²) and the next p as (1/r)(p d − e g), so the square root, the
// division and p d − e g all start from p and run side by side (EISPACK's order, 1/r after r and
// p = c d − s g after 1/r, gave the same values to round-off, ≈ 6 % slower overall).
typedef struct {
  double *dd, *ee, *X, *rot;
  int alive, l, m, i, iter, sweep, nrot;
  double f, tst1, c, c2, c3, s, s2, p, el1, dl1;
} QL;

static const double EPS = 0x1p-52;

// Starts a QL iteration on the unreduced block l .. m; returns 0 after 60 iterations.
static inline __attribute__((always_inline)) int ql_start(QL *q, int n) {
  if (++q->iter > 60) return 0;
  double *dd = q->dd, *ee = q->ee;
  const int l = q->l;
  const double g = dd[l];
  double p = (dd[l + 1] - g) / (2 * ee[l]);
  double r = __builtin_sqrt(p * p + 1);
  if (p < 0) r = -r;
  dd[l] = ee[l] / (p + r);
  dd[l + 1] = ee[l] * (p + r);
  q->dl1 = dd[l + 1];
  const double h = g - dd[l];
  for (int i = l + 2; i < n; i++) dd[i] -= h;
  q->f += h;
  q->p = dd[q->m];
  q->c = q->c2 = q->c3 = 1;
  q->s = q->s2 = 0;
  q->el1 = ee[l + 1];
  q->i = q->m - 1;
  q->sweep = 1;
  return 1;
}

// One rotation of problem q (after any bookkeeping before it); returns 0 when q has finished
// (alive = 0) and −1 when it did not converge.
static inline __attribute__((always_inline)) int ql_step(QL *q, int n, int nv) {
  double *dd = q->dd, *ee = q->ee;
  for (;;) {
    if (q->sweep && q->i >= q->l) {
      const int i = q->i;
      q->c3 = q->c2;
      q->c2 = q->c;
      q->s2 = q->s;
      const double c = q->c, s = q->s, p = q->p, ei = ee[i], di = dd[i];
      const double g = c * ei, h = c * p;
      const double x2 = p * p + ei * ei, r = __builtin_sqrt(x2), ri = r * (1 / x2);
      ee[i + 1] = s * r;
      const double sn = ei * ri, cn = p * ri;
      q->p = ri * (p * di - ei * g);
      dd[i + 1] = h + sn * (cn * g + sn * di);
      q->c = cn;
      q->s = sn;
      // rows i, i + 1 of X: x_(i+1) ← s x_i + c x_(i+1), x_i ← c x_i − s x_(i+1)
      double *xi = q->X + i * nv, *xj = xi + nv;
      const V cv = SPLAT(cn), sv = SPLAT(sn);
      for (int k = 0; k < nv; k += 2) {
        const V a0 = LD(xi + k), b0 = LD(xj + k);
        ST(xj + k, ADD(MUL(sv, a0), MUL(cv, b0)));
        ST(xi + k, SUB(MUL(cv, a0), MUL(sv, b0)));
      }
      double *rr = q->rot + 3 * q->nrot++;
      rr[0] = i;
      rr[1] = cn;
      rr[2] = sn;
      q->i = i - 1;
      return 1;
    }
    const int l = q->l;
    if (q->sweep) { // end of an iteration
      q->sweep = 0;
      const double p = -q->s * q->s2 * q->c3 * q->el1 * ee[l] / q->dl1;
      ee[l] = q->s * p;
      dd[l] = q->c * p;
      if (__builtin_fabs(ee[l]) > EPS * q->tst1) {
        if (!ql_start(q, n)) return -1;
        continue;
      }
      dd[l] += q->f;
      ee[l] = 0;
      q->l = l + 1;
      continue;
    }
    if (l >= n) {
      q->alive = 0;
      return 0;
    }
    const double a = __builtin_fabs(dd[l]) + __builtin_fabs(ee[l]);
    if (a > q->tst1) q->tst1 = a;
    int m = l;
    while (m < n && __builtin_fabs(ee[m]) > EPS * q->tst1) m++;
    if (m == l) {
      dd[l] += q->f;
      ee[l] = 0;
      q->l = l + 1;
      continue;
    }
    q->m = m;
    q->iter = 0;
    if (!ql_start(q, n)) return -1;
  }
}

// Rotations of both problems while both are inside a sweep, their arithmetic in the two lanes of
// f64x2 vectors (lane 0: a, lane 1: b): the same IEEE operations as ql_step's, so the same bits.
static inline __attribute__((always_inline)) void ql_sweep2(QL *a, QL *b, int nv) {
  V C = wasm_f64x2_make(a->c, b->c), S = wasm_f64x2_make(a->s, b->s);
  V C2 = wasm_f64x2_make(a->c2, b->c2), C3 = wasm_f64x2_make(a->c3, b->c3);
  V S2 = wasm_f64x2_make(a->s2, b->s2), P = wasm_f64x2_make(a->p, b->p);
  int ia = a->i, ib = b->i;
  const int la = a->l, lb = b->l;
  double *add = a->dd, *aee = a->ee, *bdd = b->dd, *bee = b->ee;
  double *ar = a->rot + 3 * a->nrot, *br = b->rot + 3 * b->nrot;
  int count = 0;
  for (; ia >= la && ib >= lb; ia--, ib--, count++) {
    C3 = C2;
    C2 = C;
    S2 = S;
    const V E = wasm_f64x2_make(aee[ia], bee[ib]), D = wasm_f64x2_make(add[ia], bdd[ib]);
    const V G = MUL(C, E), H = MUL(C, P);
    const V X2 = ADD(MUL(P, P), MUL(E, E));
    const V R = wasm_f64x2_sqrt(X2), RI = MUL(R, wasm_f64x2_div(SPLAT(1), X2));
    const V SR = MUL(S, R);
    aee[ia + 1] = wasm_f64x2_extract_lane(SR, 0);
    bee[ib + 1] = wasm_f64x2_extract_lane(SR, 1);
    const V SN = MUL(E, RI), CN = MUL(P, RI);
    P = MUL(RI, SUB(MUL(P, D), MUL(E, G)));
    const V D1 = ADD(H, MUL(SN, ADD(MUL(CN, G), MUL(SN, D))));
    add[ia + 1] = wasm_f64x2_extract_lane(D1, 0);
    bdd[ib + 1] = wasm_f64x2_extract_lane(D1, 1);
    C = CN;
    S = SN;
    const double ca = wasm_f64x2_extract_lane(CN, 0), sa = wasm_f64x2_extract_lane(SN, 0);
    const double cb = wasm_f64x2_extract_lane(CN, 1), sb = wasm_f64x2_extract_lane(SN, 1);
    {
      double *xi = a->X + ia * nv, *xj = xi + nv;
      const V cv = SPLAT(ca), sv = SPLAT(sa);
      for (int k = 0; k < nv; k += 2) {
        const V a0 = LD(xi + k), b0 = LD(xj + k);
        ST(xj + k, ADD(MUL(sv, a0), MUL(cv, b0)));
        ST(xi + k, SUB(MUL(cv, a0), MUL(sv, b0)));
      }
    }
    {
      double *xi = b->X + ib * nv, *xj = xi + nv;
      const V cv = SPLAT(cb), sv = SPLAT(sb);
      for (int k = 0; k < nv; k += 2) {
        const V a0 = LD(xi + k), b0 = LD(xj + k);
        ST(xj + k, ADD(MUL(sv, a0), MUL(cv, b0)));
        ST(xi + k, SUB(MUL(cv, a0), MUL(sv, b0)));
      }
    }
    ar[0] = ia;
    ar[1] = ca;
    ar[2] = sa;
    ar += 3;
    br[0] = ib;
    br[1] = cb;
    br[2] = sb;
    br += 3;
  }
  a->i = ia;
  b->i = ib;
  a->nrot += count;
  b->nrot += count;
  a->c = wasm_f64x2_extract_lane(C, 0);
  b->c = wasm_f64x2_extract_lane(C, 1);
  a->s = wasm_f64x2_extract_lane(S, 0);
  b->s = wasm_f64x2_extract_lane(S, 1);
  a->c2 = wasm_f64x2_extract_lane(C2, 0);
  b->c2 = wasm_f64x2_extract_lane(C2, 1);
  a->c3 = wasm_f64x2_extract_lane(C3, 0);
  b->c3 = wasm_f64x2_extract_lane(C3, 1);
  a->s2 = wasm_f64x2_extract_lane(S2, 0);
  b->s2 = wasm_f64x2_extract_lane(S2, 1);
  a->p = wasm_f64x2_extract_lane(P, 0);
  b->p = wasm_f64x2_extract_lane(P, 1);
}

// Both problems (b may be absent: b_dd = 0); the rotation counts go to nrot[0], nrot[1]. Returns
// 0, or 1 (2) if problem a (b) did not converge.
static inline __attribute__((always_inline)) int ql_pair_nv(int n, int nv, double *a_dd, double *a_ee, double *a_X, double *a_rot,
                   double *b_dd, double *b_ee, double *b_X, double *b_rot, int *nrot) {
  QL a = {a_dd, a_ee, a_X, a_rot, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0};
  QL b = {b_dd, b_ee, b_X, b_rot, b_dd != 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0};
  while (a.alive | b.alive) {
    if (a.alive && ql_step(&a, n, nv) < 0) return 1;
    if (b.alive && ql_step(&b, n, nv) < 0) return 2;
    if (a.sweep && b.sweep && a.i >= a.l && b.i >= b.l) ql_sweep2(&a, &b, nv);
  }
  nrot[0] = a.nrot;
  nrot[1] = b.nrot;
  return 0;
}

// X ← Gᵀ X for the recorded rotation r (rows i, i + 1).
static inline __attribute__((always_inline)) void unrotate1(const double *rot, int r, int nv,
                                                            double *X) {
  const int i = (int)rot[3 * r];
  const V cv = SPLAT(rot[3 * r + 1]), sv = SPLAT(rot[3 * r + 2]);
  double *xi = X + i * nv, *xj = xi + nv;
  for (int k = 0; k < nv; k += 2) {
    const V a0 = LD(xi + k), b0 = LD(xj + k);
    ST(xi + k, ADD(MUL(cv, a0), MUL(sv, b0)));
    ST(xj + k, SUB(MUL(cv, b0), MUL(sv, a0)));
  }
}

// X ← Uᵀ X (the recorded rotations transposed, last first) for two problems at once (their
// chains are independent; nb = 0 for none).
static inline __attribute__((always_inline)) void unrotate_pair_nv(int nv, int na, const double *ra, double *Xa, int nb, const double *rb,
                          double *Xb) {
  int i = na - 1, j = nb - 1;
  for (; i >= 0 && j >= 0; i--, j--) {
    unrotate1(ra, i, nv, Xa);
    unrotate1(rb, j, nv, Xb);
  }
  for (; i >= 0; i--) unrotate1(ra, i, nv, Xa);
  for (; j >= 0; j--) unrotate1(rb, j, nv, Xb);
}

// The X updates specialised for the common nv = 4 (two or three layers: fully unrolled).
static int ql_pair(int n, int nv, double *a_dd, double *a_ee, double *a_X, double *a_rot,
                   double *b_dd, double *b_ee, double *b_X, double *b_rot, int *nrot) {
  if (nv == 4) return ql_pair_nv(n, 4, a_dd, a_ee, a_X, a_rot, b_dd, b_ee, b_X, b_rot, nrot);
  return ql_pair_nv(n, nv, a_dd, a_ee, a_X, a_rot, b_dd, b_ee, b_X, b_rot, nrot);
}

static void unrotate_pair(int nv, int na, const double *ra, double *Xa, int nb, const double *rb,
                          double *Xb) {
  if (nv == 4) unrotate_pair_nv(4, na, ra, Xa, nb, rb, Xb);
  else unrotate_pair_nv(nv, na, ra, Xa, nb, rb, Xb);
}

// T ← P T P, P the reversal of 0 .. n − 1: the top-down reduction leaves T's larger entries at its
// top, and QL (which deflates from the top) converges in fewer rotations on the reversed matrix;
// f(T) x = P f(P T P) P x. tmp: n doubles.
static void reverse_t(int n, double *dd, double *ee, double *tmp) {
  for (int i = 0; i < n / 2; i++) {
    const double t = dd[i];
    dd[i] = dd[n - 1 - i];
    dd[n - 1 - i] = t;
  }
  for (int i = 0; i + 1 < n; i++) tmp[i] = ee[n - 2 - i];
  for (int i = 0; i + 1 < n; i++) ee[i] = tmp[i];
  ee[n - 1] = 0;
}

// X ← P X (rows 0 .. n − 1 reversed).
static void reverse_rows(int n, int nv, double *X) {
  for (int i = 0; i < n / 2; i++) {
    for (int k = 0; k < nv; k += 2) {
      const V a = LD(X + i * nv + k);
      ST(X + i * nv + k, LD(X + (n - 1 - i) * nv + k));
      ST(X + (n - 1 - i) * nv + k, a);
    }
  }
}

// out[a][s0] = xa[a] (a < N) after relaxation to prior spread α (RTPS, α > 0): the anomalies
// scaled by 1 + α(σf − σa)/σa (σ with N − 1), as relaxToPriorSpread in src/assim/letkf.ts.
static void store(int N, int S, int s0, double *restrict xa, const double *restrict Xp,
                  double alpha, double *restrict out) {
  if (alpha > 0) {
    double vf = 0, mu = 0;
    for (int a = 0; a < N; a++) {
      const double x = Xp[a * S + s0];
      vf += x * x;
      mu += xa[a];
    }
    mu /= N;
    double va = 0;
    for (int a = 0; a < N; a++) {
      const double e = xa[a] - mu;
      va += e * e;
    }
    const double sf = __builtin_sqrt(vf / (N - 1)), sa = __builtin_sqrt(va / (N - 1));
    if (sa > 0) {
      const double scale = 1 + alpha * (sf - sa) / sa;
      for (int a = 0; a < N; a++) xa[a] = mu + (xa[a] - mu) * scale;
    }
  }
  for (int a = 0; a < N; a++) out[a * S + s0] = xa[a];
}

// One column's workspace, carved from wb: A, Hv (Np × Np), cd, tau, dd, ee (Np), X (Np × nv),
// then the rotations (from X + Np × nv).
typedef struct {
  double *A, *Hv, *cd, *tau, *dd, *ee, *X;
} Work;

static inline __attribute__((always_inline)) Work work(double *wb, int Np) {
  Work u;
  u.A = wb;
  u.Hv = u.A + Np * Np;
  u.cd = u.Hv + Np * Np;
  u.tau = u.cd + Np;
  u.dd = u.tau + Np;
  u.ee = u.dd + Np;
  u.X = u.ee + Np;
  return u;
}

// The local analyses of columns c0 .. c1 − 1 into out (see the header for the layouts). diag =
// (N − 1)/ρ, sqrtRho = sqrt(ρ) (columns without observations keep the inflated prior), alpha the
// RTPS factor (0: none). Columns
// with observations go in pairs through the interleaved QL (a column's arithmetic does not depend
// on its partner). Returns 0, or 1 + the column whose eigen-solve did not converge (non-finite
// input).
static int analyse_range(int N, int layers, int G, int c0, int c1, const int *restrict offsets,
                  const int *restrict index, const double *restrict weight,
                  const double *restrict rinv, const double *restrict Yt,
                  const double *restrict d, const double *restrict xm,
                  const double *restrict Xp, double *restrict out, double diag, double sqrtRho,
                  double alpha, int pmax, double *restrict scratch) {
  const int Np = pad4(N), nv = pad2(layers + 1), S = layers * G, pm = pad2(pmax);
  double *Z = scratch, *pv = Z + pm * Np, *wv = pv + Np;
  int *nrot = (int *)(wv + Np);
  const int wsize = 2 * Np * Np + 5 * Np + Np * nv + 90 * N * N;
  double *wb0 = wv + 2 * Np;
  const double fa = __builtin_sqrt((double)(N - 1));
  int col0 = 0, col1 = 0, have = 0;
  for (int c = c0; c <= c1; c++) {
    if (c < c1) {
      const int p0 = offsets[c], p = offsets[c + 1] - p0;
      if (p == 0) {
        for (int l = 0; l < layers; l++) {
          const int s0 = l * G + c;
          for (int a = 0; a < N; a++) pv[a] = xm[s0] + sqrtRho * Xp[a * S + s0];
          store(N, S, s0, pv, Xp, alpha, out);
        }
        continue;
      }
      // Z[q] = sqrt(r_q w_q) Yb[q] and cd = Zᵀ (sqrt(r_q w_q) d_q) = Ybᵀ R⁻¹ d; A = diag I + Zᵀ Z
      const Work u = work(wb0 + have * wsize, Np);
      double *cd = u.cd, *A = u.A, *X = u.X;
      for (int a = 0; a < Np; a += 2) ST(cd + a, SPLAT(0));
      for (int q = 0; q < p; q++) {
        const int k = index[p0 + q];
        const double wq = rinv[k] * weight[p0 + q];
        const double sr = wq > 0 ? __builtin_sqrt(wq) : 0;
        const double *y = Yt + k * N;
        double *z = Z + q * Np;
        for (int a = 0; a < N; a++) z[a] = sr * y[a];
        for (int a = N; a < Np; a++) z[a] = 0;
        const V zq = SPLAT(sr * d[k]);
        for (int a = 0; a < Np; a += 2) ST(cd + a, ADD(LD(cd + a), MUL(zq, LD(z + a))));
      }
      gram(Z, p, Np, A);
      for (int a = 0; a < N; a++) A[a * Np + a] += diag;
      // X columns: the layers' anomalies t_l, then cd; padding columns zero
      for (int a = 0; a < N; a++) {
        double *x = X + a * nv;
        for (int l = 0; l < layers; l++) x[l] = Xp[a * S + l * G + c];
        x[layers] = cd[a];
        for (int l = layers + 1; l < nv; l++) x[l] = 0;
      }
      tridiagonalise(N, Np, A, u.Hv, u.tau, u.dd, u.ee, pv, wv);
      reverse_t(N, u.dd, u.ee, pv);
      if (have == 0) col0 = c;
      else col1 = c;
      have++;
      if (have < 2) continue;
    } else if (have == 0) {
      break;
    }
    const Work u0 = work(wb0, Np), u1 = work(wb0 + wsize, Np);
    // X ← P Qᵀ X for both columns, their reflections interleaved (independent sums)
    for (int k = 0; k + 2 < N; k++) {
      reflect(N, k, nv, u0.Hv + k * Np, u0.tau[k], u0.X);
      if (have == 2) reflect(N, k, nv, u1.Hv + k * Np, u1.tau[k], u1.X);
    }
    reverse_rows(N, nv, u0.X);
    if (have == 2) reverse_rows(N, nv, u1.X);
    const int rc = ql_pair(N, nv, u0.dd, u0.ee, u0.X, u0.X + Np * nv, have == 2 ? u1.dd : 0,
                           u1.ee, u1.X, u1.X + Np * nv, nrot);
    if (rc) return 1 + (rc == 1 ? col0 : col1);
    for (int j = 0; j < have; j++) {
      const Work u = j ? u1 : u0;
      for (int k = 0; k < N; k++) {
        double *x = u.X + k * nv;
        const double f = fa / __builtin_sqrt(u.dd[k]);
        for (int l = 0; l < layers; l++) x[l] *= f;
        x[layers] /= u.dd[k];
      }
    }
    unrotate_pair(nv, nrot[0], u0.X + Np * nv, u0.X, have == 2 ? nrot[1] : 0, u1.X + Np * nv,
                  u1.X);
    // X ← Q P X for both, interleaved
    reverse_rows(N, nv, u0.X);
    if (have == 2) reverse_rows(N, nv, u1.X);
    for (int k = N - 3; k >= 0; k--) {
      reflect(N, k, nv, u0.Hv + k * Np, u0.tau[k], u0.X);
      if (have == 2) reflect(N, k, nv, u1.Hv + k * Np, u1.tau[k], u1.X);
    }
    for (int j = 0; j < have; j++) {
      const Work u = j ? u1 : u0;
      double *X = u.X;
      const int cc = j ? col1 : col0;
      // out_b = x̄ + wa·t + (Wa t)_b per layer
      for (int l = 0; l < layers; l++) {
        const int s0 = l * G + cc;
        double shift = 0;
        for (int a = 0; a < N; a++) shift += X[a * nv + layers] * Xp[a * S + s0];
        const double base = xm[s0] + shift;
        for (int b = 0; b < N; b++) wv[b] = base + X[b * nv + l];
        store(N, S, s0, wv, Xp, alpha, out);
      }
    }
    have = 0;
  }
  return 0;
}

// The local analyses of columns c0 .. c1 − 1 (arguments as analyse_range), in chunks of `chunk`
// columns claimed from the shared counter *next (set to 0 before the first thread starts): threads
// that run this on the same memory share the columns whatever their speed. Each thread passes its
// own scratch. Returns 0, or 1 + a column whose eigen-solve did not converge.
int letkf_columns(int N, int layers, int G, int c0, int c1, const int *restrict offsets,
                  const int *restrict index, const double *restrict weight,
                  const double *restrict rinv, const double *restrict Yt,
                  const double *restrict d, const double *restrict xm,
                  const double *restrict Xp, double *restrict out, double diag, double sqrtRho,
                  double alpha, int pmax, double *restrict scratch, int chunk, int *next) {
  for (;;) {
    const int lo = c0 + __atomic_fetch_add(next, chunk, __ATOMIC_RELAXED);
    if (lo >= c1) return 0;
    const int hi = c1 - lo > chunk ? lo + chunk : c1;
    const int rc = analyse_range(N, layers, G, lo, hi, offsets, index, weight, rinv, Yt, d, xm,
                                 Xp, out, diag, sqrtRho, alpha, pmax, scratch);
    if (rc) return rc;
  }
}
