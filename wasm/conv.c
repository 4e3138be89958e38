// Direct 2-D convolution kernels for the U-Net (NHWC, filters [kh, kw, cin, cout]), SIMD128.
//
// conv_fwd:   out[r, w, o] = bias[o] + sum_{u,v,i} x[r·s + u, w·s + v, i] · f[u, v, i, o]
//             over output rows r in [row0, row1) of the flattened (n·ho) rows; x is the padded
//             input [n, hp, wp, cin] (no padding is done here).
// conv_wgrad: dw[u, v, i, o] += sum_{r,w} x[r·s + u, w·s + v, i] · dy[r, w, o] over output rows
//             [row0, row1) (a partial sum: threads split the rows and add their partials).
//
// Register blocking: 4 output pixels × 8 output channels (forward, from a packed filter: one block
// of 8 output channels contiguous) and 4 filter inputs × 8 output channels (filter gradient, over
// up to 128 output pixels of one image per tile), with narrower and scalar tails. Wider tiles (5 or
// 6 pixels) run slower: V8 then spills vector registers. FMA(a, b, c) is a·b + c; with RELAXED it
// is f32x4.relaxed_madd (the build patches clang 14's prototype opcode), else mul + add.
// No stack is used (checked by the build): the helper thread shares the memory, not a stack.

#include "simd.h"

// Forward: the filter is first packed into blocks of 8 output channels, [cp/8][kh·kc][8] with
// kc = kw·cin and cp = cout rounded up to 8 (zeros), so that one block's weights are contiguous.
static void pack_filter(const float *f, const float *bias, float *pack, float *bpack, int taps,
                        int cout) {
  const int cp = (cout + 7) & ~7;
  for (int o0 = 0; o0 < cp; o0 += 8) {
    float *d = pack + (long)o0 * taps;
    for (int t = 0; t < taps; t++) {
      for (int q = 0; q < 8; q++) d[t * 8 + q] = o0 + q < cout ? f[(long)t * cout + o0 + q] : 0.f;
    }
    for (int q = 0; q < 8; q++) bpack[o0 + q] = bias && o0 + q < cout ? bias[o0 + q] : 0.f;
  }
}

// the first n (< 8) lanes of (a, b) to p, without a stack buffer (threads share no stack)
static inline void store_lanes(float *p, v128_t a, v128_t b, int n) {
  if (n > 0) p[0] = wasm_f32x4_extract_lane(a, 0);
  if (n > 1) p[1] = wasm_f32x4_extract_lane(a, 1);
  if (n > 2) p[2] = wasm_f32x4_extract_lane(a, 2);
  if (n > 3) p[3] = wasm_f32x4_extract_lane(a, 3);
  if (n > 4) p[4] = wasm_f32x4_extract_lane(b, 0);
  if (n > 5) p[5] = wasm_f32x4_extract_lane(b, 1);
  if (n > 6) p[6] = wasm_f32x4_extract_lane(b, 2);
}

// P output pixels (stride ps apart in x) × 8 output channels of one packed block
static inline __attribute__((always_inline)) void fwd_block(const float *xb, const float *wb,
                                                            const float *bb, float *ob, int xrow,
                                                            int ps, int kh, int kc, int cout,
                                                            int nvalid, const int P) {
  v128_t a0[6], a1[6];
  const v128_t b0 = LD(bb), b1 = LD(bb + 4);
  for (int q = 0; q < P; q++) {
    a0[q] = b0;
    a1[q] = b1;
  }
  for (int u = 0; u < kh; u++) {
    const float *p = xb + u * xrow;
    const float *w = wb + u * kc * 8;
    for (int i = 0; i < kc; i++, w += 8) {
      const v128_t w0 = LD(w), w1 = LD(w + 4);
      for (int q = 0; q < P; q++) {
        const v128_t x = SPLAT(p + q * ps + i);
        a0[q] = FMA(x, w0, a0[q]);
        a1[q] = FMA(x, w1, a1[q]);
      }
    }
  }
  if (nvalid == 8) {
    for (int q = 0; q < P; q++) {
      ST(ob + q * cout, a0[q]);
      ST(ob + q * cout + 4, a1[q]);
    }
  } else {
    for (int q = 0; q < P; q++) store_lanes(ob + q * cout, a0[q], a1[q], nvalid);
  }
}

// one output row of the forward conv from the packed filter
static void fwd_row(const float *x, const float *pack, const float *bpack, float *out, int wp,
                    int cin, int kh, int kw, int cout, int s, int wo) {
  const int xrow = wp * cin, ps = s * cin, kc = kw * cin, taps = kh * kc;
  for (int o0 = 0; o0 < cout; o0 += 8) {
    const int nv = cout - o0 < 8 ? cout - o0 : 8;
    const float *wb = pack + (long)o0 * taps, *bb = bpack + o0;
    int w0 = 0;
    for (; w0 + 4 <= wo; w0 += 4) {
      fwd_block(x + w0 * ps, wb, bb, out + w0 * cout + o0, xrow, ps, kh, kc, cout, nv, 4);
    }
    for (; w0 < wo; w0++) {
      fwd_block(x + w0 * ps, wb, bb, out + w0 * cout + o0, xrow, ps, kh, kc, cout, nv, 1);
    }
  }
}

// Bytes of scratch conv_fwd needs for its packed filter and bias.
int conv_pack_bytes(int kh, int kw, int cin, int cout) {
  const int cp = (cout + 7) & ~7;
  return (kh * kw * cin * cp + cp) * 4;
}

void conv_fwd(const float *x, const float *f, const float *bias, float *out, float *scratch,
              int hp, int wp, int cin, int kh, int kw, int cout, int s, int ho, int wo, int row0,
              int row1, int pack) {
  const int taps = kh * kw * cin, cp = (cout + 7) & ~7;
  float *bpack = scratch + (long)taps * cp;
  if (pack) pack_filter(f, bias, scratch, bpack, taps, cout);
  for (int r = row0; r < row1; r++) {
    const int b = r / ho, y = r % ho;
    const float *xr = x + ((long)b * hp + (long)y * s) * wp * cin;
    fwd_row(xr, scratch, bpack, out + (long)r * wo * cout, wp, cin, kh, kw, cout, s, wo);
  }
}

// filter gradient of nr consecutive output rows of one image: dw[u, j, o] += sum_{r,w}
// x[r·s + u, w·s·cin + j] · dy[r, w, o] where j = v·cin + i runs over the kw·cin contiguous values
// of one filter row (several rows per tile: fewer accumulator loads and stores on small grids)
static void wgrad_rows(const float *x, const float *dy, float *dw, int wp, int cin, int kh,
                       int kw, int cout, int s, int wo, int nr) {
  const int xrow = wp * cin, ps = s * cin, kc = kw * cin;
  const int xrs = s * xrow, drs = wo * cout;
  for (int u = 0; u < kh; u++) {
    const float *xb = x + u * xrow;
    float *db = dw + u * kc * cout;
    int i0 = 0;
    for (; i0 + 4 <= kc; i0 += 4) {
      int o0 = 0;
      for (; o0 + 8 <= cout; o0 += 8) {
        float *d = db + i0 * cout + o0;
        v128_t a00 = LD(d), a01 = LD(d + 4);
        v128_t a10 = LD(d + cout), a11 = LD(d + cout + 4);
        v128_t a20 = LD(d + 2 * cout), a21 = LD(d + 2 * cout + 4);
        v128_t a30 = LD(d + 3 * cout), a31 = LD(d + 3 * cout + 4);
        for (int rr = 0; rr < nr; rr++) {
          const float *xp = xb + rr * xrs + i0;
          const float *gp = dy + rr * drs + o0;
          for (int w = 0; w < wo; w++, xp += ps, gp += cout) {
            v128_t g0 = LD(gp), g1 = LD(gp + 4);
            v128_t x0 = SPLAT(xp);
            a00 = FMA(x0, g0, a00);
            a01 = FMA(x0, g1, a01);
            v128_t x1 = SPLAT(xp + 1);
            a10 = FMA(x1, g0, a10);
            a11 = FMA(x1, g1, a11);
            v128_t x2 = SPLAT(xp + 2);
            a20 = FMA(x2, g0, a20);
            a21 = FMA(x2, g1, a21);
            v128_t x3 = SPLAT(xp + 3);
            a30 = FMA(x3, g0, a30);
            a31 = FMA(x3, g1, a31);
          }
        }
        ST(d, a00);
        ST(d + 4, a01);
        ST(d + cout, a10);
        ST(d + cout + 4, a11);
        ST(d + 2 * cout, a20);
        ST(d + 2 * cout + 4, a21);
        ST(d + 3 * cout, a30);
        ST(d + 3 * cout + 4, a31);
      }
      for (; o0 + 4 <= cout; o0 += 4) {
        float *d = db + i0 * cout + o0;
        v128_t a0 = LD(d), a1 = LD(d + cout), a2 = LD(d + 2 * cout), a3 = LD(d + 3 * cout);
        for (int rr = 0; rr < nr; rr++) {
          const float *xp = xb + rr * xrs + i0;
          const float *gp = dy + rr * drs + o0;
          for (int w = 0; w < wo; w++, xp += ps, gp += cout) {
            v128_t g = LD(gp);
            a0 = FMA(SPLAT(xp), g, a0);
            a1 = FMA(SPLAT(xp + 1), g, a1);
            a2 = FMA(SPLAT(xp + 2), g, a2);
            a3 = FMA(SPLAT(xp + 3), g, a3);
          }
        }
        ST(d, a0);
        ST(d + cout, a1);
        ST(d + 2 * cout, a2);
        ST(d + 3 * cout, a3);
      }
      for (; o0 < cout; o0++) {
        for (int q = 0; q < 4; q++) {
          float acc = 0.f;
          for (int rr = 0; rr < nr; rr++) {
            for (int w = 0; w < wo; w++) {
              acc += xb[rr * xrs + w * ps + i0 + q] * dy[rr * drs + w * cout + o0];
            }
          }
          db[(i0 + q) * cout + o0] += acc;
        }
      }
    }
    for (; i0 < kc; i0++) {
      int o0 = 0;
      for (; o0 + 4 <= cout; o0 += 4) {
        float *d = db + i0 * cout + o0;
        v128_t a = LD(d);
        for (int rr = 0; rr < nr; rr++) {
          const float *xp = xb + rr * xrs + i0;
          const float *gp = dy + rr * drs + o0;
          for (int w = 0; w < wo; w++, xp += ps, gp += cout) a = FMA(SPLAT(xp), LD(gp), a);
        }
        ST(d, a);
      }
      for (; o0 < cout; o0++) {
        float acc = 0.f;
        for (int rr = 0; rr < nr; rr++) {
          for (int w = 0; w < wo; w++) {
            acc += xb[rr * xrs + w * ps + i0] * dy[rr * drs + w * cout + o0];
          }
        }
        db[i0 * cout + o0] += acc;
      }
    }
  }
}

void conv_wgrad(const float *x, const float *dy, float *dw, int hp, int wp, int cin, int kh,
                int kw, int cout, int s, int ho, int wo, int row0, int row1) {
  const int chunk = wo >= 128 ? 1 : 128 / wo;
  for (int r = row0; r < row1;) {
    const int b = r / ho, y = r % ho;
    int nr = ho - y; // rows left in this image
    if (nr > chunk) nr = chunk;
    if (nr > row1 - r) nr = row1 - r;
    const float *xr = x + ((long)b * hp + (long)y * s) * wp * cin;
    wgrad_rows(xr, dy + (long)r * wo * cout, dw, wp, cin, kh, kw, cout, s, wo, nr);
    r += nr;
  }
}
