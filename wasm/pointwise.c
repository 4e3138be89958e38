// Fused element-wise kernels of the U-Net for the conv engine (SIMD128, split over the engine's
// threads by element or row ranges): SiLU and its gradient, the channel LayerNorm and its
// gradient, and column sums (bias gradients). tfjs-wasm runs these as 2–9 separate single-threaded
// ops each; here each is one pass. No stack is used (the helper thread shares the memory).

#include "simd.h"

// Constants of vexp. Not `const`: V8 rebuilds a v128 constant at every use inside a loop, so the
// kernels load them once (the compiler cannot fold a writable global) and pass them in registers.
float soad_exp_consts[12] = {-87.f, 88.f, 1.44269504088896341f, 12582912.f, -0.693359375f,
                             2.12194440e-4f, 1.f / 720.f, 1.f / 120.f, 1.f / 24.f, 1.f / 6.f,
                             0.5f, 1.f};
int soad_exp_bias = 0x4B400000 - 127; // bits of 1.5·2^23, less the exponent bias

typedef struct {
  v128_t lo, hi, log2e, magic, ln2a, ln2b, c6, c5, c4, c3, c2, one, bias;
} ExpK;

static inline ExpK expk(void) {
  const float *k = soad_exp_consts;
  const ExpK e = {SPLAT(k), SPLAT(k + 1), SPLAT(k + 2), SPLAT(k + 3),
                  SPLAT(k + 4), SPLAT(k + 5), SPLAT(k + 6), SPLAT(k + 7),
                  SPLAT(k + 8), SPLAT(k + 9), SPLAT(k + 10), SPLAT(k + 11),
                  wasm_v128_load32_splat(&soad_exp_bias)};
  return e;
}

// exp(x) for x in [−87, 88] (clamped): 2^k · p(r), k = round(x·log2 e), r = x − k·ln 2 (|r| ≤
// ln2 / 2, in two parts), p the degree-6 Taylor polynomial (relative error < 2e-7). The rounding
// adds 1.5·2^23, after which the low mantissa bits of the sum hold k as an integer.
static inline v128_t vexp(v128_t x, const ExpK *K) {
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, K->lo), K->hi);
  const v128_t j = FMA(x, K->log2e, K->magic);
  const v128_t k = wasm_f32x4_sub(j, K->magic);
  v128_t r = FMA(k, K->ln2a, x);
  r = FMA(k, K->ln2b, r);
  v128_t p = K->c6;
  p = FMA(p, r, K->c5);
  p = FMA(p, r, K->c4);
  p = FMA(p, r, K->c3);
  p = FMA(p, r, K->c2);
  p = FMA(p, r, K->one);
  p = FMA(p, r, K->one);
  // 2^k: (bits(j) − bits(magic) + 127) << 23
  const v128_t e = wasm_i32x4_shl(wasm_i32x4_sub(j, K->bias), 23);
  return wasm_f32x4_mul(p, e);
}

static inline v128_t vsigmoid(v128_t x, const ExpK *K) {
  return wasm_f32x4_div(K->one, wasm_f32x4_add(K->one, vexp(wasm_f32x4_neg(x), K)));
}

static inline float ssigmoid(float x) {
  const ExpK K = expk();
  return wasm_f32x4_extract_lane(vsigmoid(wasm_f32x4_splat(x), &K), 0);
}

// y = x · sigmoid(x) for elements [i0, i1)
void silu_fwd(const float *x, float *y, int i0, int i1) {
  const ExpK K = expk();
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v128_t v = LD(x + i);
    ST(y + i, wasm_f32x4_mul(v, vsigmoid(v, &K)));
  }
  for (; i < i1; i++) y[i] = x[i] * ssigmoid(x[i]);
}

// dx = dy · s · (1 + x · (1 − s)), s = sigmoid(x), for elements [i0, i1)
void silu_bwd(const float *x, const float *dy, float *dx, int i0, int i1) {
  const ExpK K = expk();
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v128_t v = LD(x + i), s = vsigmoid(v, &K);
    const v128_t d = FMA(v, wasm_f32x4_sub(K.one, s), K.one);
    ST(dx + i, wasm_f32x4_mul(wasm_f32x4_mul(LD(dy + i), s), d));
  }
  for (; i < i1; i++) {
    const float s = ssigmoid(x[i]);
    dx[i] = dy[i] * s * (1.f + x[i] * (1.f - s));
  }
}

static inline float hsum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) +
         wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

// Layer norm over the c channels of rows [r0, r1) (c a multiple of 4): xhat = (x − mean)·r,
// r = 1/sqrt(var + 1e-5) (biased variance), y = xhat·w + b; writes y, xhat and r (one per row).
void ln_fwd(const float *x, const float *w, const float *b, float *y, float *xhat, float *rr,
            int c, int r0, int r1) {
  const v128_t inv = wasm_f32x4_splat(1.f / (float)c);
  for (int row = r0; row < r1; row++) {
    const float *xr = x + (long)row * c;
    v128_t s = wasm_f32x4_splat(0.f);
    for (int k = 0; k < c; k += 4) s = wasm_f32x4_add(s, LD(xr + k));
    const v128_t mean = wasm_f32x4_splat(hsum(wasm_f32x4_mul(s, inv)));
    v128_t q = wasm_f32x4_splat(0.f);
    for (int k = 0; k < c; k += 4) {
      const v128_t d = wasm_f32x4_sub(LD(xr + k), mean);
      q = FMA(d, d, q);
    }
    const float var = hsum(q) / (float)c;
    const float r = 1.f / __builtin_sqrtf(var + 1e-5f);
    rr[row] = r;
    const v128_t rv = wasm_f32x4_splat(r);
    float *yr = y + (long)row * c, *hr = xhat + (long)row * c;
    for (int k = 0; k < c; k += 4) {
      const v128_t h = wasm_f32x4_mul(wasm_f32x4_sub(LD(xr + k), mean), rv);
      ST(hr + k, h);
      ST(yr + k, FMA(h, LD(w + k), LD(b + k)));
    }
  }
}

// Gradient of ln_fwd for rows [r0, r1): g = dy·w, dx = (g − mean(g) − xhat·mean(g·xhat))·r;
// with dw (and db) non-null also the partial sums dw[k] = Σ dy·xhat, db[k] = Σ dy over the rows
// (written, not accumulated).
void ln_bwd(const float *dy, const float *xhat, const float *rr, const float *w, float *dx,
            float *dw, float *db, int c, int r0, int r1) {
  const v128_t zero = wasm_f32x4_splat(0.f);
  if (dw) {
    for (int k = 0; k < c; k += 4) {
      ST(dw + k, zero);
      ST(db + k, zero);
    }
  }
  for (int row = r0; row < r1; row++) {
    const float *dr = dy + (long)row * c, *hr = xhat + (long)row * c;
    v128_t s1 = zero, s2 = zero;
    for (int k = 0; k < c; k += 4) {
      const v128_t g = wasm_f32x4_mul(LD(dr + k), LD(w + k));
      s1 = wasm_f32x4_add(s1, g);
      s2 = FMA(g, LD(hr + k), s2);
    }
    const v128_t m1 = wasm_f32x4_splat(hsum(s1) / (float)c);
    const v128_t m2n = wasm_f32x4_splat(-hsum(s2) / (float)c);
    const v128_t r = wasm_f32x4_splat(rr[row]);
    float *xr = dx + (long)row * c;
    for (int k = 0; k < c; k += 4) {
      const v128_t d = LD(dr + k), h = LD(hr + k);
      const v128_t g = wasm_f32x4_mul(d, LD(w + k));
      ST(xr + k, wasm_f32x4_mul(FMA(h, m2n, wasm_f32x4_sub(g, m1)), r));
      if (dw) {
        ST(dw + k, FMA(d, h, LD(dw + k)));
        ST(db + k, wasm_f32x4_add(LD(db + k), d));
      }
    }
  }
}

// out[k] = Σ_{rows [r0, r1)} x[row, k] (c a multiple of 4; written, not accumulated), summed in
// blocks of 64 rows for accuracy
void col_sum(const float *x, float *out, int c, int r0, int r1) {
  const v128_t zero = wasm_f32x4_splat(0.f);
  for (int k = 0; k < c; k += 4) ST(out + k, zero);
  for (int b0 = r0; b0 < r1; b0 += 64) {
    const int b1 = b0 + 64 < r1 ? b0 + 64 : r1;
    for (int k = 0; k < c; k += 4) {
      v128_t s = zero;
      for (int row = b0; row < b1; row++) s = wasm_f32x4_add(s, LD(x + (long)row * c + k));
      ST(out + k, wasm_f32x4_add(LD(out + k), s));
    }
  }
}
