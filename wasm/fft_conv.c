// Circular 2-D convolution (cross-correlation) by the FFT, for the U-Net's stride-1 k×k convs
// on power-of-two grids (NHWC; filters [kh, kw, cin, cout], odd kh, kw). For output channel o
//   y[p] = bias[o] + sum_{d, i} g[d, i, o] x[p + d, i]   (indices mod H, W; d = tap − (k−1)/2),
// so Y(f) = X(f) · conj(G(f)) with G the DFT of g placed at d; the filter gradient is
//   dg[d, i, o] = sum_p dy[p, o] x[p + d, i] = (1/HW) sum_f conj(DY(f, o)) X(f, i) e^{+i f·d}.
//
// Spectra keep the half plane v in [0, W/2] (the signals are real): S[img][u][v][2][cp], the real
// parts of cp channels (a multiple of 4, zero padded) then the imaginary parts; the FFTs run on
// such channel vectors (radix 2, in place). Two real rows go through one complex row FFT.
// The filter spectrum P = conj(G)/(HW) is packed [u][v][cp/8][cin][re 8, im 8] for the product;
// the unnormalised inverse FFT then gives y directly, and the bias is added to the DC bin.
// Work is split over images (FFTs) or frequency rows u (products) by the caller's ranges, so a
// helper thread can take half. Twiddles: tw[2k], tw[2k + 1] = cos, sin(2πk/M), M = max(H, W).
// No stack is used (checked by the build): the helper thread shares the memory, not a stack.

#include "simd.h"

static inline v128_t vmul(v128_t a, v128_t b) { return wasm_f32x4_mul(a, b); }
static inline v128_t vadd(v128_t a, v128_t b) { return wasm_f32x4_add(a, b); }
static inline v128_t vsub(v128_t a, v128_t b) { return wasm_f32x4_sub(a, b); }

// In-place complex FFT of n channel vectors at base, base + es, … (each [re cp][im cp]);
// sign −1 forward (e^{−2πi jk/n}), +1 inverse (unnormalised).
static void fft_vec(float *base, long es, int n, int cp, const float *tw, int m, int inverse) {
  for (int i = 1, j = 0; i < n; i++) {
    int bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      float *a = base + i * es, *b = base + j * es;
      for (int c = 0; c < 2 * cp; c += 4) {
        const v128_t t = LD(a + c);
        ST(a + c, LD(b + c));
        ST(b + c, t);
      }
    }
  }
  const float sg = inverse ? 1.f : -1.f;
  for (int len = 2; len <= n; len <<= 1) {
    const int half = len >> 1, step = m / len;
    for (int k = 0; k < half; k++) {
      const v128_t wr = wasm_f32x4_splat(tw[2 * k * step]);
      const v128_t wi = wasm_f32x4_splat(sg * tw[2 * k * step + 1]);
      for (int i = k; i < n; i += len) {
        float *a = base + i * es, *b = a + half * es;
        for (int c = 0; c < cp; c += 4) {
          const v128_t ar = LD(a + c), ai = LD(a + cp + c);
          const v128_t br = LD(b + c), bi = LD(b + cp + c);
          const v128_t tr = vsub(vmul(br, wr), vmul(bi, wi));
          const v128_t ti = FMA(br, wi, vmul(bi, wr));
          ST(a + c, vadd(ar, tr));
          ST(a + cp + c, vadd(ai, ti));
          ST(b + c, vsub(ar, tr));
          ST(b + cp + c, vsub(ai, ti));
        }
      }
    }
  }
}

// Half-plane spectra of images [i0, i1) of x [n][h][w][c] into s [n][h][w/2 + 1][2][cp];
// z is this thread's scratch row (w·2·cp floats).
void fft_fwd_images(const float *x, float *s, int h, int w, int c, int cp, const float *tw, int m,
                    float *z, int i0, int i1) {
  const int wh = w / 2 + 1;
  const long es = 2 * cp, simg = (long)h * wh * es;
  const v128_t half = wasm_f32x4_splat(0.5f);
  for (int img = i0; img < i1; img++) {
    const float *xi = x + (long)img * h * w * c;
    float *si = s + img * simg;
    for (int r = 0; r < h; r += 2) {
      const float *r0 = xi + (long)r * w * c, *r1 = r0 + (long)w * c;
      for (int q = 0; q < w; q++) {
        float *zq = z + q * es;
        if ((c & 3) == 0) {
          for (int k = 0; k < c; k += 4) {
            ST(zq + k, LD(r0 + q * c + k));
            ST(zq + cp + k, LD(r1 + q * c + k));
          }
          // the padding lanes (cp may exceed c by more than a tail)
          for (int k = c; k < cp; k += 4) {
            ST(zq + k, wasm_f32x4_splat(0.f));
            ST(zq + cp + k, wasm_f32x4_splat(0.f));
          }
        } else {
          for (int k = 0; k < cp; k++) {
            zq[k] = k < c ? r0[q * c + k] : 0.f;
            zq[cp + k] = k < c ? r1[q * c + k] : 0.f;
          }
        }
      }
      fft_vec(z, es, w, cp, tw, m, 0);
      // z = a + i·b with a, b the spectra of rows r, r + 1: a = (Z[k] + conj Z[−k]) / 2,
      // b = (Z[k] − conj Z[−k]) / 2i
      float *s0 = si + (long)r * wh * es, *s1 = s0 + wh * es;
      for (int k = 0; k < wh; k++) {
        const float *zk = z + k * es, *zm = z + ((w - k) & (w - 1)) * es;
        float *a = s0 + k * es, *b = s1 + k * es;
        for (int q = 0; q < cp; q += 4) {
          const v128_t zr = LD(zk + q), zi = LD(zk + cp + q);
          const v128_t yr = LD(zm + q), yi = LD(zm + cp + q);
          ST(a + q, vmul(vadd(zr, yr), half));
          ST(a + cp + q, vmul(vsub(zi, yi), half));
          ST(b + q, vmul(vadd(zi, yi), half));
          ST(b + cp + q, vmul(vsub(yr, zr), half));
        }
      }
    }
    for (int v = 0; v < wh; v++) fft_vec(si + v * es, wh * es, h, cp, tw, m, 0);
  }
}

// Unnormalised inverse of fft_fwd_images for images [i0, i1): s (overwritten) → y [n][h][w][c].
void fft_inv_images(float *s, float *y, int h, int w, int c, int cp, const float *tw, int m,
                    float *z, int i0, int i1) {
  const int wh = w / 2 + 1;
  const long es = 2 * cp, simg = (long)h * wh * es;
  for (int img = i0; img < i1; img++) {
    float *si = s + img * simg;
    float *yi = y + (long)img * h * w * c;
    for (int v = 0; v < wh; v++) fft_vec(si + v * es, wh * es, h, cp, tw, m, 1);
    for (int r = 0; r < h; r += 2) {
      const float *s0 = si + (long)r * wh * es, *s1 = s0 + wh * es;
      // Z = A + i·B over the full row (A[−k] = conj A[k]); its inverse is row r + i·row r+1
      for (int k = 0; k < w; k++) {
        float *zk = z + k * es;
        if (k < wh) {
          const float *a = s0 + k * es, *b = s1 + k * es;
          for (int q = 0; q < cp; q += 4) {
            ST(zk + q, vsub(LD(a + q), LD(b + cp + q)));
            ST(zk + cp + q, vadd(LD(a + cp + q), LD(b + q)));
          }
        } else {
          const float *a = s0 + (w - k) * es, *b = s1 + (w - k) * es;
          for (int q = 0; q < cp; q += 4) {
            ST(zk + q, vadd(LD(a + q), LD(b + cp + q)));
            ST(zk + cp + q, vsub(LD(b + q), LD(a + cp + q)));
          }
        }
      }
      fft_vec(z, es, w, cp, tw, m, 1);
      float *y0 = yi + (long)r * w * c, *y1 = y0 + (long)w * c;
      for (int q = 0; q < w; q++) {
        const float *zq = z + q * es;
        if ((c & 3) == 0) {
          for (int k = 0; k < c; k += 4) {
            ST(y0 + q * c + k, LD(zq + k));
            ST(y1 + q * c + k, LD(zq + cp + k));
          }
        } else {
          for (int k = 0; k < c; k++) {
            y0[q * c + k] = zq[k];
            y1[q * c + k] = zq[cp + k];
          }
        }
      }
    }
  }
}

// The pruned DFTs over the filter taps read twiddle tables made by the caller:
// tpw[v][b] = (cos, sin)(2π·v·(b − rw)/w) for v ≤ w/2, tph[u][a] = (cos, sin)(2π·u·(a − rh)/h).

// Filter spectrum, step 1 (along w): t[a][v][ci][2][cop] = sum_b g[a][b][ci][·] e^{+2πi v·db/w}
// for the filter g [kh][kw][cin][cop] (cop a multiple of 8, zero padded).
void kdft_rows(const float *g, float *t, int kh, int kw, int cin, int cop, int w,
               const float *tpw) {
  const int wh = w / 2 + 1;
  for (int a = 0; a < kh; a++) {
    for (int v = 0; v < wh; v++) {
      for (int ci = 0; ci < cin; ci++) {
        float *tr = t + (((long)a * wh + v) * cin + ci) * 2 * cop, *ti = tr + cop;
        for (int o = 0; o < cop; o += 4) {
          v128_t sr = wasm_f32x4_splat(0.f), si = sr;
          for (int b = 0; b < kw; b++) {
            const v128_t gv = LD(g + (((long)a * kw + b) * cin + ci) * cop + o);
            const float *e = tpw + 2 * (v * kw + b);
            sr = FMA(gv, SPLAT(e), sr);
            si = FMA(gv, SPLAT(e + 1), si);
          }
          ST(tr + o, sr);
          ST(ti + o, si);
        }
      }
    }
  }
}

// Filter spectrum, step 2 (along h) for rows u in [u0, u1): p = conj(G)/(h·w), packed
// [u][v][cop/8][cin][re 8, im 8], from t of kdft_rows.
void kdft_cols(const float *t, float *p, int kh, int cin, int cop, int h, int w, const float *tph,
               int u0, int u1) {
  const int wh = w / 2 + 1, nb = cop / 8;
  const v128_t scale = wasm_f32x4_splat(1.f / ((float)h * (float)w));
  const long ta = (long)wh * cin * 2 * cop;
  for (int u = u0; u < u1; u++) {
    const float *eu = tph + 2 * u * kh;
    for (int v = 0; v < wh; v++) {
      float *pv = p + ((long)u * wh + v) * nb * cin * 16;
      for (int ci = 0; ci < cin; ci++) {
        const float *tv = t + ((long)v * cin + ci) * 2 * cop;
        for (int ob = 0; ob < nb; ob++) {
          v128_t r0 = wasm_f32x4_splat(0.f), r1 = r0, i0 = r0, i1 = r0;
          for (int a = 0; a < kh; a++) {
            const float *tr = tv + a * ta + ob * 8;
            const v128_t xr0 = LD(tr), xr1 = LD(tr + 4), xi0 = LD(tr + cop), xi1 = LD(tr + cop + 4);
            const v128_t c = SPLAT(eu + 2 * a), s = SPLAT(eu + 2 * a + 1);
            const v128_t sn = wasm_f32x4_neg(s);
            // (xr + i·xi)(c + i·s) = xr·c − xi·s + i(xr·s + xi·c)
            r0 = FMA(xi0, sn, FMA(xr0, c, r0));
            r1 = FMA(xi1, sn, FMA(xr1, c, r1));
            i0 = FMA(xi0, c, FMA(xr0, s, i0));
            i1 = FMA(xi1, c, FMA(xr1, s, i1));
          }
          float *d = pv + ((long)ob * cin + ci) * 16;
          ST(d, vmul(r0, scale));
          ST(d + 4, vmul(r1, scale));
          ST(d + 8, vmul(i0, scale));
          ST(d + 12, vmul(i1, scale));
        }
      }
    }
  }
}

// P images (1 or 2, a compile-time constant after inlining) × 8 output channels at one
// frequency: y = x · p, from x0 (image stride ix) and the packed block pb
static inline __attribute__((always_inline)) void mul_block(const float *x0, long ix,
                                                             const float *pb, float *y0, long iy,
                                                             int cin, int cip, int cop,
                                                             const int P) {
  v128_t r0[2], r1[2], i0[2], i1[2];
  for (int q = 0; q < P; q++) r0[q] = r1[q] = i0[q] = i1[q] = wasm_f32x4_splat(0.f);
  for (int ci = 0; ci < cin; ci++) {
    const float *pq = pb + ci * 16;
    const v128_t pr0 = LD(pq), pr1 = LD(pq + 4), pi0 = LD(pq + 8), pi1 = LD(pq + 12);
    for (int q = 0; q < P; q++) {
      // (ar + i·ai)(pr + i·pi) = ar·pr − ai·pi + i(ar·pi + ai·pr)
      const float *xq = x0 + q * ix;
      const v128_t ar = SPLAT(xq + ci), ai = SPLAT(xq + cip + ci);
      const v128_t an = wasm_f32x4_neg(ai);
      r0[q] = FMA(an, pi0, FMA(ar, pr0, r0[q]));
      r1[q] = FMA(an, pi1, FMA(ar, pr1, r1[q]));
      i0[q] = FMA(ai, pr0, FMA(ar, pi0, i0[q]));
      i1[q] = FMA(ai, pr1, FMA(ar, pi1, i1[q]));
    }
  }
  for (int q = 0; q < P; q++) {
    float *yq = y0 + q * iy;
    ST(yq, r0[q]);
    ST(yq + 4, r1[q]);
    ST(yq + cop, i0[q]);
    ST(yq + cop + 4, i1[q]);
  }
}

// Y[img][f] = X[img][f] · P[f] (+ bias at f = 0) for frequency rows u in [u0, u1):
// x [n][h][wh][2][cip] (cin channels used), p packed, y [n][h][wh][2][cop].
void spec_mul(const float *x, const float *p, const float *bias, float *y, int n, int h, int wh,
              int cin, int cip, int cop, int u0, int u1) {
  const int nb = cop / 8;
  const long fx = 2L * cip, fy = 2L * cop, ix = (long)h * wh * fx, iy = (long)h * wh * fy;
  for (long f = (long)u0 * wh; f < (long)u1 * wh; f++) {
    for (int ob = 0; ob < nb; ob++) {
      const float *pb = p + (f * nb + ob) * cin * 16;
      int img = 0;
      for (; img + 1 < n; img += 2) {
        mul_block(x + img * ix + f * fx, ix, pb, y + img * iy + f * fy + ob * 8, iy, cin, cip,
                  cop, 2);
      }
      if (img < n) {
        mul_block(x + img * ix + f * fx, ix, pb, y + img * iy + f * fy + ob * 8, iy, cin, cip,
                  cop, 1);
      }
    }
    if (f == 0 && bias) {
      for (int img = 0; img < n; img++) {
        float *y0 = y + img * iy;
        for (int o = 0; o < cop; o += 4) ST(y0 + o, vadd(LD(y0 + o), LD(bias + o)));
      }
    }
  }
}

// t[0..8] += (r + i·m)(c + i·s) for 8 channels: real parts at t, imaginary parts at t + cop
static inline void add_turned(float *t, int cop, v128_t r0, v128_t r1, v128_t m0, v128_t m1,
                              v128_t c, v128_t s) {
  const v128_t sn = wasm_f32x4_neg(s);
  float *ti = t + cop;
  ST(t, FMA(m0, sn, FMA(r0, c, LD(t))));
  ST(t + 4, FMA(m1, sn, FMA(r1, c, LD(t + 4))));
  ST(ti, FMA(m0, c, FMA(r0, s, LD(ti))));
  ST(ti + 4, FMA(m1, c, FMA(r1, s, LD(ti + 4))));
}

// Partial filter gradient over frequency rows u in [u0, u1): dg [kh][kw][cin][cop] (written, not
// accumulated) from the spectra x (cip) and dy (cop) of all n images; tp is this thread's scratch
// of kh·wh·cin·2·cop floats.
void spec_wgrad(const float *x, const float *dy, float *tp, float *dg, int n, int h, int w,
                int cin, int cip, int cop, int kh, int kw, const float *tph, const float *tpw,
                int u0, int u1) {
  const int wh = w / 2 + 1;
  const long fx = 2L * cip, fy = 2L * cop, ix = (long)h * wh * fx, iy = (long)h * wh * fy;
  const long tsz = (long)kh * wh * cin * 2 * cop;
  const v128_t zero = wasm_f32x4_splat(0.f);
  for (long i = 0; i < tsz; i += 4) ST(tp + i, zero);
  // t[a][v] = sum_u D(u, v) e^{+2πi u·da/h}, D = sum_img conj(DY) · X
  for (int u = u0; u < u1; u++) {
    for (int v = 0; v < wh; v++) {
      const long f = (long)u * wh + v;
      for (int o = 0; o < cop; o += 8) {
        for (int ci = 0; ci < cin; ci += 2) {
          // D for channels ci and ci + 1 (the same when cin is odd and this is the last)
          const int cj = ci + 1 < cin ? ci + 1 : ci;
          v128_t dr0 = zero, dr1 = zero, di0 = zero, di1 = zero;
          v128_t er0 = zero, er1 = zero, ei0 = zero, ei1 = zero;
          for (int img = 0; img < n; img++) {
            const float *yq = dy + img * iy + f * fy + o;
            const v128_t yr0 = LD(yq), yr1 = LD(yq + 4), yi0 = LD(yq + cop), yi1 = LD(yq + cop + 4);
            const float *xq = x + img * ix + f * fx;
            const v128_t xr = SPLAT(xq + ci), xi = SPLAT(xq + cip + ci);
            const v128_t xn = wasm_f32x4_neg(xr);
            dr0 = FMA(yi0, xi, FMA(yr0, xr, dr0));
            dr1 = FMA(yi1, xi, FMA(yr1, xr, dr1));
            di0 = FMA(yi0, xn, FMA(yr0, xi, di0));
            di1 = FMA(yi1, xn, FMA(yr1, xi, di1));
            const v128_t zr = SPLAT(xq + cj), zi = SPLAT(xq + cip + cj);
            const v128_t zn = wasm_f32x4_neg(zr);
            er0 = FMA(yi0, zi, FMA(yr0, zr, er0));
            er1 = FMA(yi1, zi, FMA(yr1, zr, er1));
            ei0 = FMA(yi0, zn, FMA(yr0, zi, ei0));
            ei1 = FMA(yi1, zn, FMA(yr1, zi, ei1));
          }
          for (int a = 0; a < kh; a++) {
            const v128_t c = SPLAT(tph + 2 * (u * kh + a)), s = SPLAT(tph + 2 * (u * kh + a) + 1);
            float *tr = tp + (((long)a * wh + v) * cin + ci) * 2 * cop + o;
            add_turned(tr, cop, dr0, dr1, di0, di1, c, s);
            if (cj != ci) add_turned(tr + 2 * cop, cop, er0, er1, ei0, ei1, c, s);
          }
        }
      }
    }
  }
  // dg[a][b] = (1/hw) sum_v c_v Re(t[a][v] e^{+2πi v·db/w}), c_v = 1 at v = 0 and w/2, else 2;
  // the first v writes, the others add
  const float scale = 1.f / ((float)h * (float)w);
  for (int a = 0; a < kh; a++) {
    for (int b = 0; b < kw; b++) {
      float *d = dg + ((long)a * kw + b) * cin * cop;
      for (int v = 0; v < wh; v++) {
        const float cv = (v == 0 || v == w / 2 ? 1.f : 2.f) * scale;
        const v128_t c = wasm_f32x4_splat(cv * tpw[2 * (v * kw + b)]);
        const v128_t sn = wasm_f32x4_splat(-cv * tpw[2 * (v * kw + b) + 1]);
        const float *tv = tp + ((long)a * wh + v) * cin * 2 * cop;
        for (int ci = 0; ci < cin; ci++) {
          const float *tr = tv + (long)ci * 2 * cop;
          float *dc = d + (long)ci * cop;
          for (int o = 0; o < cop; o += 4) {
            const v128_t acc = FMA(LD(tr + cop + o), sn, vmul(LD(tr + o), c));
            ST(dc + o, v == 0 ? acc : vadd(LD(dc + o), acc));
          }
        }
      }
    }
  }
}
