// SIMD helpers shared by the conv module's sources (wasm/conv.c, wasm/fft_conv.c).
// FMA(a, b, c) is a·b + c: f32x4.relaxed_madd with RELAXED (the build patches clang 14's
// prototype opcode), else mul + add.
#ifndef SOAD_SIMD_H
#define SOAD_SIMD_H

#include <wasm_simd128.h>

typedef float v4f __attribute__((vector_size(16)));

#ifdef RELAXED
#define FMA(a, b, c) ((v128_t)__builtin_wasm_fma_f32x4((v4f)(a), (v4f)(b), (v4f)(c)))
#else
#define FMA(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))
#endif

#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store((p), (v))
#define SPLAT(p) wasm_v128_load32_splat(p)

#endif
