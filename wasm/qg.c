// Pointwise kernels of the two-layer QG step (float64, WebAssembly SIMD128), linked into the
// same module as fft.c so that they work in place on the FFT plan's memory.
//
// They do exactly what src/qg/kernels_ts.ts does, in the same order of floating-point
// operations, so the WASM and TypeScript paths give bit-identical states. Layouts (doubles):
// spectra [field][ny][nk][re, im]; real fields [field][ny][nx]; per-point constants [ny][nk].
// One complex number per f64x2 vector.

#include <wasm_simd128.h>

typedef v128_t V;
#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store(p, v)
#define ADD wasm_f64x2_add
#define MUL wasm_f64x2_mul
#define SPLAT wasm_f64x2_splat
#define SWAP(x) wasm_i64x2_shuffle(x, x, 1, 0)

// ψ̂ = A q̂ for both layers; n = ny * nk spectral points.
void qg_invert(const double *a11, const double *a12, const double *a21, const double *a22,
               const double *qh, double *ph, int n) {
  const double *q2 = qh + 2 * n;
  double *p2 = ph + 2 * n;
  for (int i = 0; i < n; i++) {
    V x1 = LD(qh + 2 * i), x2 = LD(q2 + 2 * i);
    ST(ph + 2 * i, ADD(MUL(SPLAT(a11[i]), x1), MUL(SPLAT(a12[i]), x2)));
    ST(p2 + 2 * i, ADD(MUL(SPLAT(a21[i]), x1), MUL(SPLAT(a22[i]), x2)));
  }
}

// [û1, û2, v̂1, v̂2, q̂1, q̂2] with û = −i l ψ̂ = (l ψi, −l ψr) and v̂ = i k ψ̂ = (−k ψi, k ψr).
void qg_velocity_spectra(const double *k, const double *l, const double *ph, const double *qh,
                         double *uvqh, int ny, int nk) {
  const int S = ny * nk * 2;
  for (int layer = 0; layer < 2; layer++) {
    const double *p = ph + layer * S;
    double *u = uvqh + layer * S, *v = uvqh + (2 + layer) * S;
    for (int j = 0; j < ny; j++) {
      const V lv = wasm_f64x2_make(l[j], -l[j]);
      for (int m = 0; m < nk; m++) {
        const int idx = 2 * (j * nk + m);
        const V ps = SWAP(LD(p + idx));
        ST(u + idx, MUL(lv, ps));
        ST(v + idx, MUL(wasm_f64x2_make(-k[m], k[m]), ps));
      }
    }
  }
  double *q = uvqh + 4 * S;
  for (int i = 0; i < 2 * S; i += 2) ST(q + i, LD(qh + i));
}

// Fx = (u + U) q, Fy = v q per layer into [Fx1, Fx2, Fy1, Fy2]; returns max(|u + U|, |v|)
// (NaN if any velocity is NaN). r = ny * nx points per field (even).
double qg_fluxes(const double *uvq, double *flux, int r, double U1, double U2) {
  V mx = SPLAT(0.0);
  for (int layer = 0; layer < 2; layer++) {
    const V U = SPLAT(layer == 0 ? U1 : U2);
    const double *u = uvq + layer * r, *v = uvq + (2 + layer) * r, *q = uvq + (4 + layer) * r;
    double *fx = flux + layer * r, *fy = flux + (2 + layer) * r;
    for (int i = 0; i < r; i += 2) {
      const V uu = ADD(LD(u + i), U), vv = LD(v + i), qq = LD(q + i);
      ST(fx + i, MUL(uu, qq));
      ST(fy + i, MUL(vv, qq));
      mx = wasm_f64x2_max(mx, wasm_f64x2_max(wasm_f64x2_abs(uu), wasm_f64x2_abs(vv)));
    }
  }
  const double a = wasm_f64x2_extract_lane(mx, 0), b = wasm_f64x2_extract_lane(mx, 1);
  if (a != a) return a;
  if (b != b) return b;
  return a > b ? a : b;
}

// T = −i k F̂x − i l F̂y − i k Qy ψ̂ per layer: re = k Fx.im + l Fy.im + (k Qy) ψ.im,
// im = −k Fx.re − l Fy.re − (k Qy) ψ.re.
void qg_advection_tendency(const double *k, const double *l, const double *fluxh,
                           const double *ph, double *T, int ny, int nk, double Qy1, double Qy2) {
  const int S = ny * nk * 2;
  const V flip = wasm_f64x2_const(1.0, -1.0);
  for (int layer = 0; layer < 2; layer++) {
    const double Qy = layer == 0 ? Qy1 : Qy2;
    const double *fx = fluxh + layer * S, *fy = fluxh + (2 + layer) * S, *p = ph + layer * S;
    double *t = T + layer * S;
    for (int j = 0; j < ny; j++) {
      const V lv = SPLAT(l[j]);
      for (int m = 0; m < nk; m++) {
        const int idx = 2 * (j * nk + m);
        const V kv = SPLAT(k[m]), kq = SPLAT(k[m] * Qy);
        const V a = ADD(ADD(MUL(kv, SWAP(LD(fx + idx))), MUL(lv, SWAP(LD(fy + idx)))),
                        MUL(kq, SWAP(LD(p + idx))));
        ST(t + idx, MUL(a, flip));
      }
    }
  }
}

// Bottom drag on the lower layer: T̂2 += r_ek κ² ψ̂2.
void qg_friction(const double *kappa2, const double *ph, double *T, int n, double rek) {
  const double *p2 = ph + 2 * n;
  double *t2 = T + 2 * n;
  for (int i = 0; i < n; i++) {
    ST(t2 + 2 * i, ADD(LD(t2 + 2 * i), MUL(SPLAT(rek * kappa2[i]), LD(p2 + 2 * i))));
  }
}

// q̂ ← filtr · (((q̂ + da T0) + db T1) + dc T2) for both layers; returns the sum of all new
// values (non-finite iff the new state is).
double qg_ab_step(double *qh, const double *T0, const double *T1, const double *T2,
                  const double *filtr, int n, double da, double db, double dc) {
  const V a = SPLAT(da), b = SPLAT(db), c = SPLAT(dc);
  V sum = SPLAT(0.0);
  for (int layer = 0; layer < 2; layer++) {
    const int o = layer * 2 * n;
    for (int i = 0; i < n; i++) {
      const int r = o + 2 * i;
      const V x = ADD(ADD(ADD(LD(qh + r), MUL(a, LD(T0 + r))), MUL(b, LD(T1 + r))),
                      MUL(c, LD(T2 + r)));
      const V y = MUL(SPLAT(filtr[i]), x);
      ST(qh + r, y);
      sum = ADD(sum, y);
    }
  }
  return wasm_f64x2_extract_lane(sum, 0) + wasm_f64x2_extract_lane(sum, 1);
}
