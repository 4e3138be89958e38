// Real 2-D FFT (float64, WebAssembly SIMD128) for power-of-two grids, NumPy rfft2 layout.
//
// Build: deno task build:wasm  (clang --target=wasm32 -msimd128 -O3 -nostdlib, see build.ts)
//
// Same algorithm as src/fft/ts.ts:
// - x (rows): real FFT of length nx as a complex FFT of length n2 = nx/2 on the packed pairs
//   x[2n] + i x[2n+1], then the split post-processing (pre-processing for the inverse).
// - y (columns): complex FFT of length ny on all nk = nx/2+1 columns at once; one "element" is a
//   row of complex numbers. Columns are processed in strips of STRIP complex numbers so that a
//   strip (ny x STRIP x 16 bytes) stays in cache across all stages. Likewise the x-pass runs
//   on blocks of rows (about ROW_BYTES), each stage looping over the rows of the block so that
//   a twiddle is loaded once per block and stage.
// - In-place radix-4 decimation in time on bit-reversed input (one radix-2 stage first when
//   log2 n is odd). The bit reversal is fused into copies that are needed anyway: the forward
//   row pass gathers the input row in bit-reversed order and writes row j to row bitrev(j); the
//   inverse column pass gathers spectrum rows into the scratch buffer in bit-reversed order; the
//   inverse row pre-processing scatters to bit-reversed positions. No separate permutation pass.
// - One complex number per f64x2 vector (re, im); a complex multiply is 2 mul + 1 add + 1 swap
//   with twiddles stored pre-splatted as (wr, wr) and (-wi, wi).
//
// Each plan owns one instance (globals below are its plan). No libc, no libm: JS passes a table
// of cos/sin(2*pi*j/L), L = max(nx, ny), from which all twiddles are taken by exact index.

#include <wasm_simd128.h>

typedef v128_t V;
#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store(p, v)
#define ADD wasm_f64x2_add
#define SUB wasm_f64x2_sub
#define MUL wasm_f64x2_mul
#define SWAP(x) wasm_i64x2_shuffle(x, x, 1, 0)
#define INLINE static inline __attribute__((always_inline))
#ifndef STRIP
#define STRIP 16
#endif
#ifndef ROW_BYTES
#define ROW_BYTES 16384
#endif

// sign bit in lane 0 / lane 1 (constants, so they become v128.const)
#define SIGN_LO wasm_f64x2_const(-0.0, 0.0)
#define SIGN_HI wasm_f64x2_const(0.0, -0.0)

INLINE V cmul(V x, V wa, V wb) { return ADD(MUL(x, wa), MUL(SWAP(x), wb)); }
// -i x (forward) or +i x (inverse)
INLINE V mul_i(V x, int inv) { return wasm_v128_xor(SWAP(x), inv ? SIGN_LO : SIGN_HI); }

// ---------------------------------------------------------------- plan
static int NX, NY, N2, NK, LOGR, LOGC;
static int *BR_ROW, *BR_COL;
static V *TW_ROW[2], *TW_COL[2], *POST[2]; // [0] forward, [1] inverse
static double *SCR;

static int ilog2(int n) {
  int l = 0;
  while ((1 << l) < n) l++;
  return l;
}

// Bytes of radix-4 stage twiddles for an n-point FFT: 6 vectors per (stage, j).
static int tw_count(int n) {
  int c = 0;
  for (int h = (ilog2(n) & 1) ? 2 : 1; h < n; h *= 4) c += h;
  return c * 6;
}

static void set_tw(V *v, double wr, double wi) {
  v[0] = wasm_f64x2_make(wr, wr);
  v[1] = wasm_f64x2_make(-wi, wi);
}

// Fills stage twiddles W_{4h}^{j}, W^{2j}, W^{3j} (forward: e^{-i...}; inverse: conjugate).
static void fill_tw(V *t, int n, const double *cs, int L, int inv) {
  double sg = inv ? 1.0 : -1.0;
  for (int h = (ilog2(n) & 1) ? 2 : 1; h < n; h *= 4) {
    int step = L / (4 * h);
    for (int j = 0; j < h; j++, t += 6) {
      int i1 = j * step, i2 = 2 * j * step, i3 = 3 * j * step;
      set_tw(t, cs[2 * i1], sg * cs[2 * i1 + 1]);
      set_tw(t + 2, cs[2 * i2], sg * cs[2 * i2 + 1]);
      set_tw(t + 4, cs[2 * i3], sg * cs[2 * i3 + 1]);
    }
  }
}

static unsigned layout(int ny, int nx, unsigned base, const double *cs, int fill) {
  int n2 = nx / 2, nk = n2 + 1, L = nx > ny ? nx : ny;
  unsigned p = (base + 15) & ~15u;
#define TAKE(ptr, type, count)                                                                     \
  do {                                                                                             \
    if (fill) ptr = (type *)p;                                                                     \
    p += (unsigned)(count) * sizeof(type);                                                         \
    p = (p + 15) & ~15u;                                                                           \
  } while (0)
  TAKE(BR_ROW, int, n2);
  TAKE(BR_COL, int, ny);
  for (int d = 0; d < 2; d++) {
    TAKE(TW_ROW[d], V, tw_count(n2));
    TAKE(TW_COL[d], V, tw_count(ny));
    TAKE(POST[d], V, 2 * (n2 / 2 + 1));
  }
  TAKE(SCR, double, ny * nk * 2);
#undef TAKE
  if (!fill) return p;
  NX = nx, NY = ny, N2 = n2, NK = nk, LOGR = ilog2(n2), LOGC = ilog2(ny);
  for (int i = 0; i < n2; i++) {
    int r = 0;
    for (int b = 0; b < LOGR; b++) r |= ((i >> b) & 1) << (LOGR - 1 - b);
    BR_ROW[i] = r;
  }
  for (int i = 0; i < ny; i++) {
    int r = 0;
    for (int b = 0; b < LOGC; b++) r |= ((i >> b) & 1) << (LOGC - 1 - b);
    BR_COL[i] = r;
  }
  for (int d = 0; d < 2; d++) {
    fill_tw(TW_ROW[d], n2, cs, L, d);
    fill_tw(TW_COL[d], ny, cs, L, d);
  }
  double sc = 1.0 / ((double)nx * (double)ny);
  int step = L / nx;
  for (int k = 0; k <= n2 / 2; k++) {
    double c = cs[2 * k * step], s = cs[2 * k * step + 1];
    set_tw(POST[0] + 2 * k, -0.5 * s, -0.5 * c); // -i W^k / 2, W = e^{-2 pi i / nx}
    set_tw(POST[1] + 2 * k, -sc * s, sc * c);    // i W^{-k} / (nx ny)
  }
  return p;
}

/** Bytes needed after `base` by the plan tables and scratch of a ny x nx plan. */
unsigned fft_plan_bytes(int ny, int nx) { return layout(ny, nx, 0, 0, 0); }

/** Builds the plan at `base` (16-aligned) from `cs` = [cos, sin](2 pi j / max(nx, ny)).
 *  Returns the first free byte after the plan. */
unsigned fft_plan(int ny, int nx, const double *cs, unsigned base) {
  return layout(ny, nx, base, cs, 1);
}

// ---------------------------------------------------------------- kernels
typedef struct {
  V a1, b1, a2, b2, a3, b3;
} TW;

INLINE TW load_tw(const V *w) { return (TW){w[0], w[1], w[2], w[3], w[4], w[5]}; }

INLINE void bfly4(double *p0, double *p1, double *p2, double *p3, TW w, int inv, int tw) {
  V a = LD(p0), c = LD(p1), b = LD(p2), d = LD(p3);
  if (tw) {
    b = cmul(b, w.a1, w.b1);
    c = cmul(c, w.a2, w.b2);
    d = cmul(d, w.a3, w.b3);
  }
  V t0 = ADD(a, c), t1 = SUB(a, c), t2 = ADD(b, d), t3 = mul_i(SUB(b, d), inv);
  ST(p0, ADD(t0, t2));
  ST(p2, SUB(t0, t2));
  ST(p1, ADD(t1, t3));
  ST(p3, SUB(t1, t3));
}

// The first stage (radix-2 when log2 n is odd, else radix-4; no twiddles) of `cnt` transforms:
// element e of transform t is read from in + (br ? br[e] : e) * es + t * ts and written to
// out + e * es + t * ts (in == out is fine).
INLINE void first_stage(double *out, const double *in, const int *br, int n, int log, int es,
                        int cnt, int ts, int inv) {
  if (n == 1) {
    for (int t = 0; t < cnt; t++) ST(out + t * ts, LD(in + t * ts));
  } else if (log & 1) {
    for (int b = 0; b < n; b += 2) {
      const double *i0 = in + (br ? br[b] : b) * es, *i1 = in + (br ? br[b + 1] : b + 1) * es;
      double *o0 = out + b * es;
      for (int t = 0; t < cnt; t++) {
        V x = LD(i0 + t * ts), y = LD(i1 + t * ts);
        ST(o0 + t * ts, ADD(x, y));
        ST(o0 + es + t * ts, SUB(x, y));
      }
    }
  } else {
    for (int b = 0; b < n; b += 4) {
      const double *i0 = in + (br ? br[b] : b) * es, *i1 = in + (br ? br[b + 1] : b + 1) * es;
      const double *i2 = in + (br ? br[b + 2] : b + 2) * es;
      const double *i3 = in + (br ? br[b + 3] : b + 3) * es;
      double *o0 = out + b * es;
      for (int t = 0; t < cnt; t++) {
        const int o = t * ts;
        V a = LD(i0 + o), c = LD(i1 + o), bb = LD(i2 + o), d = LD(i3 + o);
        V t0 = ADD(a, c), t1 = SUB(a, c), t2 = ADD(bb, d), t3 = mul_i(SUB(bb, d), inv);
        ST(o0 + o, ADD(t0, t2));
        ST(o0 + 2 * es + o, SUB(t0, t2));
        ST(o0 + es + o, ADD(t1, t3));
        ST(o0 + 3 * es + o, SUB(t1, t3));
      }
    }
  }
}

// The radix-4 stages after the first one, in place, on `cnt` transforms at once (element e of
// transform t at a + e * es + t * ts); the inner loop runs over the transforms, so each twiddle
// is loaded once per stage.
INLINE void later_stages(double *a, int n, int log, int es, int cnt, int ts, const V *tw,
                         int inv) {
  int h = (log & 1) ? 2 : 4; // quarter block size of the second stage
  if (!(log & 1)) tw += 6; // skip the twiddles of the (twiddle-free) first radix-4 stage
  for (; h < n; h *= 4) {
    const int s = 4 * h, he = h * es;
    for (int j = 0; j < h; j++, tw += 6) {
      const TW w = load_tw(tw);
      for (int b = j; b < n; b += s) {
        double *p = a + b * es;
        if (j == 0) {
          for (int t = 0; t < cnt; t++) {
            double *q = p + t * ts;
            bfly4(q, q + he, q + 2 * he, q + 3 * he, w, inv, 0);
          }
        } else {
          for (int t = 0; t < cnt; t++) {
            double *q = p + t * ts;
            bfly4(q, q + he, q + 2 * he, q + 3 * he, w, inv, 1);
          }
        }
      }
    }
  }
}

// Forward x-pass on the `cnt` spectrum rows starting at row r0 of `a` (rows in bit-reversed
// order: spectrum row r comes from real row BR_COL[r]).
static void rows_forward(double *a, const double *x, int r0, int cnt) {
  const int n = N2, log = LOGR, rs = NK * 2;
  for (int t = 0; t < cnt; t++) {
    first_stage(a + t * rs, x + BR_COL[r0 + t] * NX, BR_ROW, n, log, 2, 1, 0, 0);
  }
  later_stages(a, n, log, 2, cnt, rs, TW_ROW[0], 0);
  // X[k] = Fe + G, X[m] = conj(Fe - G), Fe = (Z[k] + conj Z[m]) / 2, G = (Z[k] - conj Z[m]) V_k
  for (int t = 0; t < cnt; t++) {
    double *r = a + t * rs;
    double zr = r[0], zi = r[1];
    r[0] = zr + zi;
    r[1] = 0.0;
    r[2 * n] = zr - zi;
    r[2 * n + 1] = 0.0;
  }
  const V half = wasm_f64x2_splat(0.5);
  const V *pt = POST[0];
  for (int k = 1, m = n - 1; k <= m; k++, m--) {
    const V pa = pt[2 * k], pb = pt[2 * k + 1];
    for (int t = 0; t < cnt; t++) {
      double *r = a + t * rs;
      V zk = LD(r + 2 * k), czm = wasm_v128_xor(LD(r + 2 * m), SIGN_HI);
      V fe = MUL(ADD(zk, czm), half);
      V g = cmul(SUB(zk, czm), pa, pb);
      ST(r + 2 * k, ADD(fe, g));
      ST(r + 2 * m, wasm_v128_xor(SUB(fe, g), SIGN_HI));
    }
  }
}

// Inverse x-pass: `cnt` spectrum rows `s` (stride NK*2; imag of k=0 and k=n2 ignored) into real
// rows `x` (stride NX).
static void rows_inverse(double *x, const double *s, int cnt) {
  const int n = N2, rs = NK * 2;
  const int *br = BR_ROW;
  const double sc = 1.0 / ((double)NX * (double)NY);
  for (int t = 0; t < cnt; t++) {
    double a0 = s[t * rs], c0 = s[t * rs + 2 * n];
    x[t * NX] = sc * (a0 + c0);
    x[t * NX + 1] = sc * (a0 - c0);
  }
  const V vsc = wasm_f64x2_splat(sc);
  const V *pt = POST[1];
  for (int k = 1, m = n - 1; k <= m; k++, m--) {
    const V pa = pt[2 * k], pb = pt[2 * k + 1];
    const int bk = 2 * br[k], bm = 2 * br[m];
    for (int t = 0; t < cnt; t++) {
      const double *r = s + t * rs;
      double *o = x + t * NX;
      V xk = LD(r + 2 * k), cxm = wasm_v128_xor(LD(r + 2 * m), SIGN_HI);
      V fe = MUL(ADD(xk, cxm), vsc);
      V h = cmul(SUB(xk, cxm), pa, pb);
      ST(o + bk, ADD(fe, h));
      ST(o + bm, wasm_v128_xor(SUB(fe, h), SIGN_HI));
    }
  }
  first_stage(x, x, 0, n, LOGR, 2, cnt, NX, 1);
  later_stages(x, n, LOGR, 2, cnt, NX, TW_ROW[1], 1);
}

// y-pass on a strip of `w` complex columns (element e = row e, stride NK*2). The first stage
// reads `in` (row br[e] when `br`), the rest is in place on `out`.
INLINE void cols(double *out, const double *in, const int *br, int w, int inv) {
  const int rs = NK * 2;
  first_stage(out, in, br, NY, LOGC, rs, w, 2, inv);
  later_stages(out, NY, LOGC, rs, w, 2, TW_COL[inv], inv);
}

static void col_forward(double *a) {
  for (int c0 = 0; c0 < NK; c0 += STRIP) {
    int w = NK - c0 < STRIP ? NK - c0 : STRIP;
    cols(a + 2 * c0, a + 2 * c0, 0, w, 0);
  }
}

static void col_inverse(double *out, const double *in) {
  for (int c0 = 0; c0 < NK; c0 += STRIP) {
    int w = NK - c0 < STRIP ? NK - c0 : STRIP;
    cols(out + 2 * c0, in + 2 * c0, BR_COL, w, 1);
  }
}

// Rows per block of the x-pass: about ROW_BYTES of spectrum rows, so a block stays in L1.
static int row_block(void) {
  int r = ROW_BYTES / (NK * 16);
  if (r < 1) r = 1;
  if (r > NY) r = NY;
  return r;
}

// ---------------------------------------------------------------- entry points

/** Forward: `count` real fields [ny][nx] at `src` -> half spectra [ny][nk] (complex) at `dst`. */
void fft_rfft2(const double *src, double *dst, int count) {
  const int rs = NK * 2, rb = row_block();
  for (int f = 0; f < count; f++) {
    const double *x = src + (long)f * NY * NX;
    double *a = dst + (long)f * NY * rs;
    for (int r0 = 0; r0 < NY; r0 += rb) {
      rows_forward(a + r0 * rs, x, r0, NY - r0 < rb ? NY - r0 : rb);
    }
    col_forward(a);
  }
}

/** Inverse: `count` half spectra at `src` (unchanged) -> real fields at `dst`. */
void fft_irfft2(const double *src, double *dst, int count) {
  const int rs = NK * 2, rb = row_block();
  for (int f = 0; f < count; f++) {
    const double *s = src + (long)f * NY * rs;
    double *x = dst + (long)f * NY * NX;
    col_inverse(SCR, s);
    for (int r0 = 0; r0 < NY; r0 += rb) {
      rows_inverse(x + r0 * NX, SCR + r0 * rs, NY - r0 < rb ? NY - r0 : rb);
    }
  }
}
