/* Int8 2-D convolution, bit-exact with TFLM reference_integer_ops::ConvPerChannel, optionally fused
 * with the 1x2 max pool that follows it and/or with a global average pooling (MEAN) after it
 * (see tdnn.h).
 *
 * The input is first copied to int16 scratch with the padding made explicit (filled with the input
 * zero point: with the zero point folded into the bias, a padded tap then adds exactly nothing, as
 * TFLM's skipped tap does). Every filter row of every output position is then one contiguous run of
 * k_w*in_c int16 values. Weights stay int8 in flash, reordered at compile time (see tdnn.h).
 *
 * M4 path (CMSIS-NN arm_nn_mat_mult_kernel_s8_s16 structure, turned around): output channels are the
 * outer loop. The int8 weights of two channels are unpacked once into int16 scratch, interleaved per
 * group of four taps, so the inner loop is pure loads + SMLAD: per four taps of two positions x two
 * channels, two LDRD of input, two LDRD of weights, eight SMLAD. Requantization parameters stay in
 * registers along a channel pair, and a fused MEAN sums outputs instead of storing them.
 * One filter row (k_h == 1, every Conv1D): a whole output row of a channel pair is one assembly block
 * (row_asm: MAC loop, max pool, requantization, clamp, MEAN sum or store) so nothing spills per block,
 * with the weights unpacked doubled so SMLAD yields the 2 * acc that SMMULR takes. Every flag of the row
 * assembly is a compile-time constant of one extern variant (tdnn.h); the compiler calls the one whose
 * flags hold for the layer (the alignment flag must hold: LDRD faults on unaligned addresses on silicon).
 * The row assembly's MAC is unrolled for up to TDNN_CONV_K1_MAX_GROUPS 4-tap groups and entered by BX at
 * the point that leaves the layer's group count (no loop instructions, immediate offsets).
 * After the copy the input is never read again, so the output may overlap the input. */
#include <string.h>

#include "tdnn.h"
#include "tdnn_math.h"

/* Geometry in conv positions (before the fused pool). */
static inline int32_t conv_w(const tdnn_conv_params *p) { return p->out_w * p->pool_w; }
static inline int32_t padded_h(const tdnn_conv_params *p) { return (p->out_h - 1) * p->stride_h + p->k_h; }
static inline int32_t padded_w(const tdnn_conv_params *p) { return (conv_w(p) - 1) * p->stride_w + p->k_w; }
static inline int32_t run_len(const tdnn_conv_params *p) { return (p->k_w * p->in_c + 3) & ~3; }
/* int16 elements of the unpacked weights of two channels (kept a multiple of 2 so the input stays aligned). */
static inline int32_t wchunk_elems(const tdnn_conv_params *p) { return 2 * p->k_h * run_len(p); }

/* int16 elements reserved after the weights for the row assembly's context (row_ctx, 80 bytes). */
#define CTX_ELEMS 40
/* The padded input follows the weights and the context. Word aligned: the scratch is (planner: every
 * arena offset is a multiple of 4), wchunk_elems is a multiple of 8 and CTX_ELEMS of 2. */
static inline int32_t padded_offset(const tdnn_conv_params *p) { return wchunk_elems(p) + CTX_ELEMS; }

int32_t tdnn_convolve_s8_scratch_size(const tdnn_conv_params *p)
{
    /* + 4: a padded run may read 3 values past the end */
    return padded_offset(p) + padded_h(p) * padded_w(p) * p->in_c + 4;
}

/* Requantization of one channel with everything per channel precomputed once per channel. */
typedef struct {
    int32_t mult, shift, round;
} requant_ch;

static inline requant_ch requant_setup(const tdnn_conv_params *p, int32_t oc)
{
    requant_ch q = {p->mult[oc], p->shift[oc], 0};
    if (p->fast_requant) {
        /* Right shift r = -shift > 0 with the output offset folded into the rounding term. */
        const int32_t r = -q.shift;
        q.shift = r;
        q.round = (1 << (r - 1)) + p->out_offset * (1 << r);
    }
    return q;
}

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>

static inline int32_t smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
#else
static inline int32_t smmulr(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * (int64_t)b + (1LL << 31)) >> 32);
}
#endif

/* Exact TFLM requantization + output offset, before the clamp.
 * fast_requant (compiler-checked: every shift < 0, |accumulator| < 2^30 and no overflow below):
 *   SaturatingRoundingDoublingHighMul(x, M) = floor((x*M + 2^30) / 2^31) = SMMULR(2x, M) for M > 0, and
 *   RoundingDivideByPOT(y, r) + off = (y + 2^(r-1) - (y < 0) + off*2^r) >> r (round half away from zero;
 *   off*2^r is a multiple of 2^r, so adding it before the flooring shift adds exactly off). */
static inline int32_t requant(const tdnn_conv_params *p, const requant_ch *q, int32_t acc)
{
    if (p->fast_requant) {
        const int32_t y = smmulr(acc * 2, q->mult);
        return (y + q->round + (y >> 31)) >> q->shift;
    }
    return tdnn_requantize(acc, q->mult, q->shift) + p->out_offset;
}

static inline int32_t clamp(const tdnn_conv_params *p, int32_t v)
{
    return tdnn_min_i32(tdnn_max_i32(v, p->act_min), p->act_max);
}

/* The fused MEAN of one channel from the sum of its int8 outputs (tdnn_mean_s8's arithmetic). */
static int8_t mean_of(const tdnn_conv_params *p, int32_t sum)
{
    const int32_t count = p->out_h * p->out_w;
    if (p->mean_mult == 0) {
        return (int8_t)(sum / count);
    }
    const int32_t x = sum - p->out_offset * count;
    int32_t v;
    if (p->mean_shift <= 0 && x < (1 << 29) && x > -(1 << 29)) {
        /* tdnn_requantize with a right shift r: floor((x*M + 2^30) / 2^31) == SMMULR(2x, M), then
         * rounding half away from zero (2x cannot overflow here) */
        const int32_t r = -p->mean_shift, y = smmulr(2 * x, p->mean_mult);
        v = (r == 0 ? y : (y + (1 << (r - 1)) - (y < 0)) >> r) + p->mean_out_zp;
    } else {
        v = tdnn_requantize(x, p->mean_mult, p->mean_shift) + p->mean_out_zp;
    }
    return (int8_t)tdnn_min_i32(tdnn_max_i32(v, -128), 127);
}

#if defined(__ARM_FEATURE_DSP)

/* mean_of's fast path with its per-layer terms formed once per layer (mean_of otherwise). */
typedef struct {
    int32_t offc, mult, r, round, corr, zp, fast;
} mean_pre;

static inline mean_pre mean_setup(const tdnn_conv_params *p)
{
    const int32_t r = -p->mean_shift;
    const mean_pre m = {p->out_offset * p->out_h * p->out_w, p->mean_mult, r, r > 0 ? 1 << (r - 1) : 0,
                        r > 0 ? -1 : 0, p->mean_out_zp, p->mean_mult != 0 && r >= 0};
    return m;
}

static inline __attribute__((always_inline)) int8_t mean_fast(const tdnn_conv_params *p, const mean_pre *m,
                                                              int32_t sum)
{
    const int32_t x = sum - m->offc;
    if (!m->fast || x >= (1 << 29) || x <= -(1 << 29)) {
        return mean_of(p, sum);
    }
    /* mean_of: (y + 2^(r-1) - (y < 0)) >> r for r > 0, y for r == 0 */
    const int32_t y = smmulr(2 * x, m->mult);
    return (int8_t)__ssat(((y + m->round + ((y >> 31) & m->corr)) >> m->r) + m->zp, 8);
}

/* SXTB16 with its free ROR #8 operand (GCC does not fold a separate rotate into it). */
static inline uint32_t sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* SXTAB16 with ROR #8 (acc + the sign-extended bytes 1 and 3 of x), likewise not formed by GCC. */
static inline uint32_t sxtab16_ror8(uint32_t acc, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
    return r;
}

static inline uint32_t read_u32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4); /* one (possibly unaligned) LDR */
    return v;
}

static inline void write_u32(void *p, uint32_t v) { memcpy(p, &v, 4); }

/* Four int8 -> four int16 (natural order) with two SXTB16 and two PKH (GCC does not form PKH here). */
static inline void widen4(const int8_t *src, int16_t *dst)
{
    const uint32_t x = read_u32(src);
    const uint32_t e = __sxtb16(x);    /* x0, x2 */
    const uint32_t o = sxtb16_ror8(x); /* x1, x3 */
    uint32_t lo, hi;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(lo) : "r"(e), "r"(o)); /* x0, x1 */
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(hi) : "r"(o), "r"(e)); /* x2, x3 */
    write_u32(dst, lo); /* STR: unaligned is fine on the M4 (only LDRD/STRD/LDM/STM fault) */
    write_u32(dst + 2, hi);
}

/* n8 blocks of 8 int8 -> 8 int16 (natural order); dst must be word aligned (STM), src may be unaligned
 * (plain LDR, allowed unaligned on the M4) unless SRC_AL (src word aligned: LDRD). Per 8 values: 1-2
 * loads, 4 SXTB16, 4 PKH, one STM; two blocks per loop iteration. */
static inline __attribute__((always_inline)) void widen8_blocks(const int8_t *src, int16_t *dst, int32_t n8,
                                                                const int SRC_AL)
{
    register uint32_t o0 __asm__("r0"), o1 __asm__("r1"), o2 __asm__("r2"), o3 __asm__("r3");
    uint32_t x, y, e, o;
    int32_t n16 = n8 >> 1;
#define TDNN_WIDEN8                                                                                       \
    ".if %c[al]\n\t"                                                                                       \
    "ldrd %[x], %[y], [%[s]], #8\n\t"                                                                      \
    ".else\n\t"                                                                                            \
    "ldr %[x], [%[s]], #4\n\t"                                                                             \
    "ldr %[y], [%[s]], #4\n\t"                                                                             \
    ".endif\n\t"                                                                                           \
    "sxtb16 %[e], %[x]\n\t"                       /* x0, x2 */                                             \
    "sxtb16 %[o], %[x], ror #8\n\t"               /* x1, x3 */                                             \
    "pkhbt %[o0], %[e], %[o], lsl #16\n\t"        /* x0, x1 */                                             \
    "pkhtb %[o1], %[o], %[e], asr #16\n\t"        /* x2, x3 */                                             \
    "sxtb16 %[e], %[y]\n\t"                                                                                \
    "sxtb16 %[o], %[y], ror #8\n\t"                                                                        \
    "pkhbt %[o2], %[e], %[o], lsl #16\n\t"                                                                 \
    "pkhtb %[o3], %[o], %[e], asr #16\n\t"                                                                 \
    "stmia %[d]!, {%[o0], %[o1], %[o2], %[o3]}\n\t"
    if (n16 > 0) {
        __asm__ volatile("1:\n\t" TDNN_WIDEN8 TDNN_WIDEN8 "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         : [o0] "=&r"(o0), [o1] "=&r"(o1), [o2] "=&r"(o2), [o3] "=&r"(o3), [x] "=&r"(x),
                           [y] "=&r"(y), [e] "=&r"(e), [o] "=&r"(o), [s] "+&r"(src), [d] "+&r"(dst), [n] "+&r"(n16)
                         : [al] "i"(SRC_AL)
                         : "cc", "memory");
    }
    if (n8 & 1) {
        __asm__ volatile(TDNN_WIDEN8
                         : [o0] "=&r"(o0), [o1] "=&r"(o1), [o2] "=&r"(o2), [o3] "=&r"(o3), [x] "=&r"(x),
                           [y] "=&r"(y), [e] "=&r"(e), [o] "=&r"(o), [s] "+&r"(src), [d] "+&r"(dst)
                         : [al] "i"(SRC_AL)
                         : "memory");
    }
#undef TDNN_WIDEN8
}
#endif

/* int8 input -> int16 scratch with the zero-point border. */
static void pad_input(const tdnn_conv_params *p, const int8_t *input, int16_t *scratch)
{
    const int32_t ph = padded_h(p);
    const int32_t pw = padded_w(p);
    const int32_t c = p->in_c;
    const int16_t zp = p->input_zp;
    const int32_t left = tdnn_min_i32(p->pad_left, pw);
    const int32_t inside = tdnn_max_i32(0, tdnn_min_i32(p->in_w, pw - left));
    for (int32_t y = 0; y < ph; y++) {
        const int32_t iy = y - p->pad_top;
        int16_t *dst = scratch + y * pw * c;
        int32_t i = 0;
        if (iy >= 0 && iy < p->in_h) {
            for (; i < left * c; i++) {
                dst[i] = zp;
            }
            const int8_t *src = input + iy * p->in_w * c;
            const int32_t n = inside * c;
            int32_t j = 0;
#if defined(__ARM_FEATURE_DSP)
            if (((i & 1) != 0) && n > 0) { /* make dst + i + j word aligned for the STM */
                dst[i] = src[0];
                j = 1;
            }
            if (n - j >= 8) {
                const int32_t n8 = (n - j) >> 3;
                if ((((uintptr_t)(src + j)) & 3) == 0) {
                    widen8_blocks(src + j, dst + i + j, n8, 1);
                } else {
                    widen8_blocks(src + j, dst + i + j, n8, 0);
                }
                j += n8 * 8;
            }
            for (; j + 4 <= n; j += 4) {
                widen4(src + j, dst + i + j);
            }
#endif
            for (; j < n; j++) {
                dst[i + j] = src[j];
            }
            i += n;
        }
        for (; i < pw * c; i++) {
            dst[i] = zp;
        }
    }
    for (int32_t i = 0; i < 4; i++) {
        scratch[ph * pw * c + i] = zp; /* read only against zero weights */
    }
}

#if defined(__ARM_FEATURE_DSP)

typedef struct {
    int32_t a0, a1, b0, b1; /* position 0/1 x channel 0/1 */
} acc4;

/* One filter row of two positions (x0, x1: int16 input runs, x0 word aligned) against two channels'
 * unpacked weights w ([group][c0 pair01, c0 pair23, c1 pair01, c1 pair23]). Written in assembly because
 * GCC neither pairs the loads into LDRD nor keeps the 14 live values out of the stack.
 * ALIGNED_B: x1 is word aligned too (LDRD), else two LDR. Per 4 taps x 2 positions x 2 channels:
 * 4 loads, 8 SMLAD, 2 loop instructions. */
static inline __attribute__((always_inline)) acc4 dot_2x2(acc4 s, const int16_t *x0, const int16_t *x1,
                                                         const uint32_t *w, int32_t groups, int aligned_b)
{
    uint32_t a0, a1, b0, b1, w0, w1;
    if (aligned_b) {
        __asm__ volatile(
            "1:\n\t"
            "ldrd %[a0], %[a1], [%[x0]], #8\n\t"
            "ldrd %[w0], %[w1], [%[w]], #8\n\t"
            "ldrd %[b0], %[b1], [%[x1]], #8\n\t"
            "smlad %[sa0], %[a0], %[w0], %[sa0]\n\t"
            "smlad %[sa0], %[a1], %[w1], %[sa0]\n\t"
            "smlad %[sb0], %[b0], %[w0], %[sb0]\n\t"
            "smlad %[sb0], %[b1], %[w1], %[sb0]\n\t"
            "ldrd %[w0], %[w1], [%[w]], #8\n\t"
            "smlad %[sa1], %[a0], %[w0], %[sa1]\n\t"
            "smlad %[sa1], %[a1], %[w1], %[sa1]\n\t"
            "smlad %[sb1], %[b0], %[w0], %[sb1]\n\t"
            "smlad %[sb1], %[b1], %[w1], %[sb1]\n\t"
            "subs %[n], %[n], #1\n\t"
            "bne 1b\n\t"
            : [sa0] "+r"(s.a0), [sa1] "+r"(s.a1), [sb0] "+r"(s.b0), [sb1] "+r"(s.b1), [x0] "+r"(x0), [x1] "+r"(x1),
              [w] "+r"(w), [n] "+r"(groups), [a0] "=&r"(a0), [a1] "=&r"(a1), [b0] "=&r"(b0), [b1] "=&r"(b1),
              [w0] "=&r"(w0), [w1] "=&r"(w1)
            :
            : "cc", "memory");
    } else {
        __asm__ volatile(
            "1:\n\t"
            "ldrd %[a0], %[a1], [%[x0]], #8\n\t"
            "ldrd %[w0], %[w1], [%[w]], #8\n\t"
            "ldr %[b1], [%[x1], #4]\n\t"
            "ldr %[b0], [%[x1]], #8\n\t"
            "smlad %[sa0], %[a0], %[w0], %[sa0]\n\t"
            "smlad %[sa0], %[a1], %[w1], %[sa0]\n\t"
            "smlad %[sb0], %[b0], %[w0], %[sb0]\n\t"
            "smlad %[sb0], %[b1], %[w1], %[sb0]\n\t"
            "ldrd %[w0], %[w1], [%[w]], #8\n\t"
            "smlad %[sa1], %[a0], %[w0], %[sa1]\n\t"
            "smlad %[sa1], %[a1], %[w1], %[sa1]\n\t"
            "smlad %[sb1], %[b0], %[w0], %[sb1]\n\t"
            "smlad %[sb1], %[b1], %[w1], %[sb1]\n\t"
            "subs %[n], %[n], #1\n\t"
            "bne 1b\n\t"
            : [sa0] "+r"(s.a0), [sa1] "+r"(s.a1), [sb0] "+r"(s.b0), [sb1] "+r"(s.b1), [x0] "+r"(x0), [x1] "+r"(x1),
              [w] "+r"(w), [n] "+r"(groups), [a0] "=&r"(a0), [a1] "=&r"(a1), [b0] "=&r"(b0), [b1] "=&r"(b1),
              [w0] "=&r"(w0), [w1] "=&r"(w1)
            :
            : "cc", "memory");
    }
    return s;
}

/* dot_2x2 for runs at any halfword alignment (odd row lengths): plain LDR, no LDRD. */
static acc4 dot_2x2_unaligned(acc4 s, const int16_t *x0, const int16_t *x1, const uint32_t *w, int32_t groups)
{
    for (int32_t g = 0; g < groups; g++, x0 += 4, x1 += 4, w += 4) {
        const uint32_t a0 = read_u32(x0), a1 = read_u32(x0 + 2), b0 = read_u32(x1), b1 = read_u32(x1 + 2);
        s.a0 = __smlad(a0, w[0], __smlad(a1, w[1], s.a0));
        s.b0 = __smlad(b0, w[0], __smlad(b1, w[1], s.b0));
        s.a1 = __smlad(a0, w[2], __smlad(a1, w[3], s.a1));
        s.b1 = __smlad(b0, w[2], __smlad(b1, w[3], s.b1));
    }
    return s;
}

/* Unpack the reordered int8 weights (w0 w2 w1 w3 per group) of channels c0, c1 into interleaved
 * int16 pairs: SXTB16 gives (w0, w1), SXTB16 ROR #8 gives (w2, w3). */
static inline __attribute__((always_inline)) void unpack_weights_x(const int8_t *w0, const int8_t *w1, int32_t groups,
                                                                   uint32_t *dst, const int TWICE)
{
    for (int32_t g = 0; g < groups; g++) {
        const uint32_t x = read_u32(w0 + 4 * g);
        const uint32_t y = read_u32(w1 + 4 * g);
        const uint32_t e0 = __sxtb16(x), o0 = sxtb16_ror8(x), e1 = __sxtb16(y), o1 = sxtb16_ror8(y);
        /* SXTAB16 adds the same sign-extended bytes again: 2 * [-128, 127] fits an int16 half */
        dst[0] = TWICE ? (uint32_t)__sxtab16(e0, x) : e0;
        dst[1] = TWICE ? sxtab16_ror8(o0, x) : o0;
        dst[2] = TWICE ? (uint32_t)__sxtab16(e1, y) : e1;
        dst[3] = TWICE ? sxtab16_ror8(o1, y) : o1;
        dst += 4;
    }
}

static void unpack_weights(const int8_t *w0, const int8_t *w1, int32_t groups, uint32_t *dst)
{
    unpack_weights_x(w0, w1, groups, dst, 0);
}

/* Doubled weights: SMLAD then accumulates 2 * acc, the operand SMMULR needs (no shift per output).
 * In assembly, two groups per iteration: per group two LDR (the flash weights need no alignment), four
 * SXTB16 + four SXTAB16, one STM (dst is word aligned: the scratch start). */
static inline __attribute__((always_inline)) void unpack_weights_twice(const int8_t *w0, const int8_t *w1,
                                                                       int32_t groups, uint32_t *dst)
{
    register uint32_t d0 __asm__("r0"), d1 __asm__("r1"), d2 __asm__("r2"), d3 __asm__("r3");
    uint32_t x, y;
    int32_t n2 = groups >> 1;
#define TDNN_UNPACK_GROUP                                                                                  \
    "ldr %[x], [%[a]], #4\n\t"                                                                             \
    "ldr %[y], [%[b]], #4\n\t"                                                                             \
    "sxtb16 %[d0], %[x]\n\t"                                                                               \
    "sxtab16 %[d0], %[d0], %[x]\n\t"                                                                        \
    "sxtb16 %[d1], %[x], ror #8\n\t"                                                                        \
    "sxtab16 %[d1], %[d1], %[x], ror #8\n\t"                                                                \
    "sxtb16 %[d2], %[y]\n\t"                                                                               \
    "sxtab16 %[d2], %[d2], %[y]\n\t"                                                                        \
    "sxtb16 %[d3], %[y], ror #8\n\t"                                                                        \
    "sxtab16 %[d3], %[d3], %[y], ror #8\n\t"                                                                \
    "stmia %[d]!, {%[d0], %[d1], %[d2], %[d3]}\n\t"
    if (n2 > 0) {
        __asm__ volatile("1:\n\t" TDNN_UNPACK_GROUP TDNN_UNPACK_GROUP "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         : [d0] "=&r"(d0), [d1] "=&r"(d1), [d2] "=&r"(d2), [d3] "=&r"(d3), [x] "=&r"(x),
                           [y] "=&r"(y), [a] "+&r"(w0), [b] "+&r"(w1), [d] "+&r"(dst), [n] "+&r"(n2)
                         :
                         : "cc", "memory");
    }
    if (groups & 1) {
        __asm__ volatile(TDNN_UNPACK_GROUP
                         : [d0] "=&r"(d0), [d1] "=&r"(d1), [d2] "=&r"(d2), [d3] "=&r"(d3), [x] "=&r"(x),
                           [y] "=&r"(y), [a] "+&r"(w0), [b] "+&r"(w1), [d] "+&r"(dst)
                         :
                         : "memory");
    }
#undef TDNN_UNPACK_GROUP
}

/* Fast requantization + clamp, parameters in locals. FULL: the clamp range is [-128, 127] (one SSAT). */
static inline __attribute__((always_inline)) int32_t rq_fast(int32_t acc, int32_t mult, int32_t round,
                                                           int32_t shift, int32_t lo, int32_t hi, int full)
{
    const int32_t y = smmulr(acc * 2, mult);
    const int32_t v = __ssat((y + round + (y >> 31)) >> shift, 8);
    return full ? v : tdnn_min_i32(tdnn_max_i32(v, lo), hi);
}

/* Context of one channel pair for the row assembly, placed in scratch after the pair's unpacked weights
 * and the bias block: one base register addresses the weights (negative offsets), the bias block (LDMDB)
 * and every parameter. Word aligned (see padded_offset); the assembly's LDRD/STRD/LDM offsets below are
 * multiples of 4 from that word-aligned base. */
typedef struct {
    int32_t mult0, mult1;   /* 0: one LDM of the six requantization words */
    int32_t round0, round1; /* 8: rounding term with the output offset folded in */
    int32_t shift0, shift1; /* 16: right shifts */
    int32_t sum0, sum1;     /* 24: fused MEAN sums */
    int32_t entry;          /* 32: C: byte offset of the row's MAC entry; the row assembly: its address */
    int32_t dx;             /* 36: bytes from x0 after a block to the next block's x0 */
    const int16_t *xend;    /* 40: x0 after the row's last block */
    int8_t *out;            /* 44: where the next block stores channel oc */
    int32_t out_c;          /* 48: output bytes per position */
    int32_t c1;             /* 52: oc1 - oc (0 when an odd channel count pairs the last channel with itself) */
    int32_t lo, hi;         /* 56: clamp range */
} row_ctx;

/* Before the context, right after the weights: the bias block, 2 * folded bias of oc, oc1, oc, oc1 (one
 * LDMDB from the context; the doubled-accumulator convention). */
#define BIAS_ELEMS 8
_Static_assert(sizeof(row_ctx) + 2 * BIAS_ELEMS == 2 * CTX_ELEMS, "bias block + row_ctx must fill CTX_ELEMS");
_Static_assert(__builtin_offsetof(row_ctx, shift1) == 20 && __builtin_offsetof(row_ctx, sum0) == 24 &&
                   __builtin_offsetof(row_ctx, entry) == 32 && __builtin_offsetof(row_ctx, dx) == 36 &&
                   __builtin_offsetof(row_ctx, xend) == 40 && __builtin_offsetof(row_ctx, out) == 44 &&
                   __builtin_offsetof(row_ctx, lo) == 56,
               "the row assembly hard-codes these offsets");

/* Requantize the doubled accumulator S = 2 * acc in place (tmp: W), four instructions:
 *   SMMLAR(S, M, round) = floor((round * 2^32 + S * M + 2^31) / 2^32) = round + y exactly, y = SMMULR(S, M)
 *   (no wrap: the compiler's fast_requant bound keeps round + y inside int32);
 * the fast form above adds (y >> 31); this adds (S >> 31) instead. They differ only when S < 0 and y = 0
 * (S >= 0 gives y >= 0, y < 0 needs S < 0), and then (round - 1) >> r == round >> r == out_offset because
 * round = 2^(r-1) + out_offset * 2^r with r >= 1. Then shift and saturate to int8.
 * RELU (act_min >= out_offset): the correction is dropped. It only matters for y < 0, where both forms
 * give at most out_offset (y <= -1: (y + round) >> r <= out_offset), which the clamp raises to act_min. */
#define RQ(S, M, R, SH)                                                                                   \
    ".if %c[relu]\n\t"                                                                                     \
    "smmlar %[" S "], %[" S "], %[" M "], %[" R "]\n\t"                                                      \
    ".else\n\t"                                                                                            \
    "smmlar %[e], %[" S "], %[" M "], %[" R "]\n\t"                                                         \
    "add %[" S "], %[e], %[" S "], asr #31\n\t"                                                            \
    ".endif\n\t"                                                                                           \
    "asr %[" S "], %[" S "], %[" SH "]\n\t"                                                                \
    "ssat %[" S "], #8, %[" S "]\n\t"
#define CLAMP(S)                                                                                          \
    "cmp %[" S "], %[a0]\n\t"                                                                              \
    "it lt\n\t"                                                                                           \
    "movlt %[" S "], %[a0]\n\t"                                                                            \
    "cmp %[" S "], %[b0]\n\t"                                                                              \
    "it gt\n\t"                                                                                           \
    "movgt %[" S "], %[b0]\n\t"

/* One output row of a channel pair: all position pairs from x0 to c->xend, entirely in assembly so that
 * nothing spills between blocks (14 registers: 4 accumulators, 2 input pointers, context, 1 temporary,
 * 6 data). x0 and x1 point at the END of the two positions' runs. Per block: bias (LDMDB), a jump into
 * the unrolled MAC (per 4 taps x 2 positions x 2 channels: 4 loads, 8 SMLAD, no loop instructions),
 * [max of the two positions], requantize, [clamp], sum (MEAN) or store, advance.
 * Alignment (LDRD faults on unaligned addresses on silicon): x0 starts word aligned (row start + even
 * position * step + 8 * groups bytes, rows word aligned) and moves by dx = 4 * step bytes, so it stays
 * aligned; x1 = x0 + 2 * step bytes is aligned only when step is even (ALB), else loaded with LDR, which
 * the M4 allows unaligned. The weights, the bias block and the context are word aligned; every offset
 * from them is a multiple of 4.
 * MEAN with RELU (the temporary e is then free in the loop): the row's sums are packed as
 * sum0 + 65536 * sum1 in e and stored to c->sum0 at the end (exact for up to TDNN_CONV_PACK_MAX outputs
 * per row: |sum| <= 128 * 255 < 2^15); otherwise they are accumulated in c->sum0/sum1. Without MEAN,
 * RELU keeps the output pointer in e instead of c->out (which is then not advanced). */
static inline __attribute__((always_inline)) void row_asm(row_ctx *c, const int16_t *x0, const int16_t *x1,
                                                          const int POOL, const int FULL, const int MEAN,
                                                          const int ALB, const int RELU)
{
    uint32_t e;
    /* Fixed ascending registers: one LDMDB loads the bias block, one LDM the requantization words. */
    register uint32_t sa0 __asm__("r8"), sa1 __asm__("r9"), sb0 __asm__("r10"), sb1 __asm__("r11");
    /* Fixed ascending registers: one LDM loads the six requantization words into them. */
    register uint32_t a0 __asm__("r0"), a1 __asm__("r1"), b0 __asm__("r2"), b1 __asm__("r3"), w0 __asm__("r4"),
        w1 __asm__("r5");
    __asm__ volatile(
        "adr.w %[e], 2f\n\t" /* entry of the unrolled MAC sequence for this group count, once per row */
        "ldr %[a0], [%[n], #32]\n\t"
        "add %[e], %[e], %[a0]\n\t"
        "orr %[e], %[e], #1\n\t" /* Thumb state for BX */
        "str %[e], [%[n], #32]\n\t"
        ".if %c[pack]\n\t"
        "movs %[e], #0\n\t" /* the row's packed MEAN sums */
        ".elseif %c[relu]\n\t"
        "ldr %[e], [%[n], #44]\n\t" /* the output pointer stays in e */
        ".endif\n\t"
        "0:\n\t"
        "ldmdb %[n], {%[sa0], %[sa1], %[sb0], %[sb1]}\n\t" /* the bias block (r8-r11) */
        "ldr pc, [%[n], #32]\n\t" /* into the unrolled MAC (bit 0 set: Thumb) */
        "2:\n\t"
        /* MAX_GROUPS groups, fully unrolled, addressed backwards from the run ends (x0, x1) and from the
         * weights' end (n): the last G groups are the MAC of a G-group run, entered by BX. Every
         * instruction is 32-bit (negative offsets), so a group is a fixed 48 (ALB) or 52 bytes. */
        ".set tdnn_j, %c[maxg]\n\t"
        ".rept %c[maxg]\n\t"
        "ldrd %[a0], %[a1], [%[x0], #-8*tdnn_j]\n\t"
        "ldrd %[w0], %[w1], [%[n], #-16*tdnn_j-16]\n\t"
        ".if %c[alb]\n\t"
        "ldrd %[b0], %[b1], [%[x1], #-8*tdnn_j]\n\t"
        ".else\n\t"
        "ldr.w %[b0], [%[x1], #-8*tdnn_j]\n\t"
        "ldr.w %[b1], [%[x1], #-8*tdnn_j+4]\n\t"
        ".endif\n\t"
        "smlad %[sa0], %[a0], %[w0], %[sa0]\n\t"
        "smlad %[sa0], %[a1], %[w1], %[sa0]\n\t"
        "smlad %[sb0], %[b0], %[w0], %[sb0]\n\t"
        "smlad %[sb0], %[b1], %[w1], %[sb0]\n\t"
        "ldrd %[w0], %[w1], [%[n], #-16*tdnn_j-8]\n\t"
        "smlad %[sa1], %[a0], %[w0], %[sa1]\n\t"
        "smlad %[sa1], %[a1], %[w1], %[sa1]\n\t"
        "smlad %[sb1], %[b0], %[w0], %[sb1]\n\t"
        "smlad %[sb1], %[b1], %[w1], %[sb1]\n\t"
        ".set tdnn_j, tdnn_j-1\n\t"
        ".endr\n\t"
        "3:\n\t"
        ".if (3b - 2b) != %c[maxg] * (52 - 4 * %c[alb])\n\t"
        ".error \"row_asm: unexpected MAC group size\"\n\t"
        ".endif\n\t"
        ".if %c[pool]\n\t" /* fused max pool: max of the two positions, requantized once */
        "cmp %[sa0], %[sb0]\n\t"
        "it lt\n\t"
        "movlt %[sa0], %[sb0]\n\t"
        "cmp %[sa1], %[sb1]\n\t"
        "it lt\n\t"
        "movlt %[sa1], %[sb1]\n\t"
        ".endif\n\t"
        "ldm %[n], {%[a0], %[a1], %[b0], %[b1], %[w0], %[w1]}\n\t" /* mult, round, shift (r0-r5) */
        RQ("sa0", "a0", "b0", "w0")
        RQ("sa1", "a1", "b1", "w1")
        ".if %c[pool] == 0\n\t"
        RQ("sb0", "a0", "b0", "w0")
        RQ("sb1", "a1", "b1", "w1")
        ".endif\n\t"
        ".if %c[full] == 0\n\t"
        "ldrd %[a0], %[b0], [%[n], #56]\n\t"
        CLAMP("sa0")
        CLAMP("sa1")
        ".if %c[pool] == 0\n\t"
        CLAMP("sb0")
        CLAMP("sb1")
        ".endif\n\t"
        ".endif\n\t"
        ".if %c[pack]\n\t" /* sum0 + 65536 * sum1 in e (free without the rounding correction) */
        "add %[e], %[e], %[sa0]\n\t"
        "add %[e], %[e], %[sa1], lsl #16\n\t"
        ".if %c[pool] == 0\n\t"
        "add %[e], %[e], %[sb0]\n\t"
        "add %[e], %[e], %[sb1], lsl #16\n\t"
        ".endif\n\t"
        ".elseif %c[mean]\n\t"
        "ldrd %[a0], %[a1], [%[n], #24]\n\t"
        "add %[a0], %[a0], %[sa0]\n\t"
        "add %[a1], %[a1], %[sa1]\n\t"
        ".if %c[pool] == 0\n\t"
        "add %[a0], %[a0], %[sb0]\n\t"
        "add %[a1], %[a1], %[sb1]\n\t"
        ".endif\n\t"
        "strd %[a0], %[a1], [%[n], #24]\n\t"
        ".else\n\t" /* byte stores: no alignment requirement */
        ".if %c[relu] == 0\n\t"
        "ldr %[e], [%[n], #44]\n\t"
        ".endif\n\t"
        "ldrd %[a0], %[a1], [%[n], #48]\n\t"
        "strb %[sa0], [%[e]]\n\t"
        "strb %[sa1], [%[e], %[a1]]\n\t"
        "add %[e], %[e], %[a0]\n\t"
        ".if %c[pool] == 0\n\t"
        "strb %[sb0], [%[e]]\n\t"
        "strb %[sb1], [%[e], %[a1]]\n\t"
        "add %[e], %[e], %[a0]\n\t"
        ".endif\n\t"
        ".if %c[relu] == 0\n\t"
        "str %[e], [%[n], #44]\n\t"
        ".endif\n\t"
        ".endif\n\t"
        "ldrd %[a0], %[a1], [%[n], #36]\n\t" /* dx, xend */
        "add %[x0], %[x0], %[a0]\n\t"
        "add %[x1], %[x1], %[a0]\n\t"
        "cmp %[x0], %[a1]\n\t"
        "bne 0b\n\t"
        ".if %c[pack]\n\t"
        "str %[e], [%[n], #24]\n\t"
        ".endif\n\t"
        : [sa0] "=&r"(sa0), [sa1] "=&r"(sa1), [sb0] "=&r"(sb0), [sb1] "=&r"(sb1), [x0] "+&r"(x0), [x1] "+&r"(x1),
          [e] "=&r"(e), [a0] "=&r"(a0), [a1] "=&r"(a1), [b0] "=&r"(b0), [b1] "=&r"(b1), [w0] "=&r"(w0),
          [w1] "=&r"(w1)
        : [n] "r"(c), [pool] "i"(POOL), [full] "i"(FULL), [mean] "i"(MEAN), [alb] "i"(ALB), [relu] "i"(RELU),
          [pack] "i"(MEAN && RELU), [maxg] "i"(TDNN_CONV_K1_MAX_GROUPS)
        : "cc", "memory");
}
#undef RQ
#undef CLAMP

/* Positions per row the packed MEAN sums of row_asm hold exactly. */
#define TDNN_CONV_PACK_MAX 255

/* Fast requantization of a doubled accumulator + clamp (the row assembly's arithmetic, for odd tails). */
static inline int32_t rq_twice(int32_t acc2, int32_t mult, int32_t round, int32_t shift, int32_t lo, int32_t hi)
{
    const int32_t y = smmulr(acc2, mult);
    return tdnn_min_i32(tdnn_max_i32(__ssat((y + round + (y >> 31)) >> shift, 8), lo), hi);
}

/* Conv with one filter row (k_h == 1, fast requantization, even padded row length): each output row of a
 * channel pair is one row_asm call; an odd last position (no fused pool) is done in C. */
static inline __attribute__((always_inline)) void conv_k1_fast(const tdnn_conv_params *p, const int16_t *padded,
                                                             uint32_t *wbuf, row_ctx *c, int8_t *output,
                                                             const int POOL, const int FULL, const int MEAN,
                                                             const int ALB, const int RELU)
{
    const int32_t groups = run_len(p) >> 2;
    const int32_t row_step = p->stride_h * padded_w(p) * p->in_c;
    const int32_t step = p->stride_w * p->in_c;
    const int32_t cw = conv_w(p), pairs = cw >> 1;
    const int32_t out_c = p->out_c, out_w = p->out_w;
    int32_t *bias = (int32_t *)(void *)c - 4; /* the bias block */
    c->dx = 4 * step; /* x0 and x1 stay at their run ends during a block */
    c->out_c = out_c;
    c->lo = p->act_min;
    c->hi = p->act_max;
    /* Per channel pair: walk the weights and the per-channel arrays by pointer; k1 variants are only chosen
     * with fast requantization, so the right shift and the rounding term are formed directly. */
    const int8_t *wp = p->weights;
    const int32_t wstride = 4 * groups;
    const int32_t off = p->out_offset;
    const int32_t entry = (TDNN_CONV_K1_MAX_GROUPS - groups) * (52 - 4 * ALB);
    const mean_pre mp = mean_setup(p);
    for (int32_t oc = 0; oc < out_c; oc += 2, wp += 2 * wstride) {
        const int32_t c1 = oc + 1 < out_c; /* 0: an odd last channel is paired with itself */
        const int32_t oc1 = oc + c1;
        unpack_weights_twice(wp, wp + c1 * wstride, groups, wbuf);
        const int32_t r0 = -p->shift[oc], r1 = -p->shift[oc1];
        const int32_t b0 = 2 * p->bias[oc], b1 = 2 * p->bias[oc1]; /* |bias| < 2^30 (fast_requant) */
        bias[0] = bias[2] = b0;
        bias[1] = bias[3] = b1;
        c->mult0 = p->mult[oc];
        c->mult1 = p->mult[oc1];
        c->round0 = (1 << (r0 - 1)) + off * (1 << r0);
        c->round1 = (1 << (r1 - 1)) + off * (1 << r1);
        c->shift0 = r0;
        c->shift1 = r1;
        c->sum0 = c->sum1 = 0;
        c->c1 = c1;
        int32_t sum0 = 0, sum1 = 0; /* MEAN && RELU: the rows' unpacked sums */
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int16_t *row = padded + oy * row_step;
            int8_t *orow = output + oy * out_w * out_c + oc;
            if (pairs > 0) {
                const int16_t *end = row + 4 * groups; /* end of the first position's run */
                c->xend = end + pairs * 2 * step;
                c->out = orow;
                c->entry = entry;
                row_asm(c, end, end + step, POOL, FULL, MEAN, ALB, RELU);
                if (MEAN && RELU) { /* packed = s0 + 65536 * s1 exactly, |s0|, |s1| < 2^15 */
                    const int32_t packed = c->sum0, s0 = (int16_t)packed;
                    sum0 += s0;
                    sum1 += (packed - s0) / 65536;
                }
            }
            if (!POOL && (cw & 1)) { /* x = cw - 1 is even: its run is word aligned */
                const int16_t *x0 = row + (cw - 1) * step;
                acc4 s = {b0, b1, b0, b1};
                s = dot_2x2(s, x0, x0, wbuf, groups, 1);
                const int32_t v0 = rq_twice(s.a0, c->mult0, c->round0, r0, p->act_min, p->act_max);
                const int32_t v1 = rq_twice(s.a1, c->mult1, c->round1, r1, p->act_min, p->act_max);
                if (MEAN && RELU) {
                    sum0 += v0;
                    sum1 += v1;
                } else if (MEAN) {
                    c->sum0 += v0;
                    c->sum1 += v1;
                } else {
                    orow[(cw - 1) * out_c] = (int8_t)v0;
                    orow[(cw - 1) * out_c + c1] = (int8_t)v1;
                }
            }
        }
        if (MEAN && RELU) {
            output[oc] = mean_fast(p, &mp, sum0);
            output[oc1] = mean_fast(p, &mp, sum1);
        } else if (MEAN) {
            output[oc] = mean_fast(p, &mp, c->sum0);
            output[oc1] = mean_fast(p, &mp, c->sum1);
        }
    }
}

/* The conv with k_h > 1 for one combination of compile-time flags (GCC drops the branches of the others):
 * POOL: fused 1x2 max pool; FULL: clamp range [-128, 127]. Fast requant only (k_h == 1: conv_k1_fast). */
static inline __attribute__((always_inline)) void conv_fast(const tdnn_conv_params *p, const int16_t *padded,
                                                          uint32_t *wbuf, int8_t *output, const int POOL,
                                                          const int FULL)
{
    const int32_t MEAN = p->mean_fused;
    const int32_t run = run_len(p);
    const int32_t groups = run >> 2;
    const int32_t k_h = p->k_h;
    const int32_t row_stride = padded_w(p) * p->in_c; /* int16 elements per padded input row */
    const int32_t filter_stride = k_h * run;
    const int32_t step = p->stride_w * p->in_c;
    const int32_t cw = conv_w(p);
    const int32_t out_c = p->out_c, out_h = p->out_h, out_w = p->out_w;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t row_step = p->stride_h * row_stride;
    /* LDRD needs word alignment: the padded input starts word aligned and x is even, so a run start is
     * aligned when the row length is even; the second position also needs an even step. */
    const int32_t aligned_b = (step & 1) == 0;
    for (int32_t oc = 0; oc < out_c; oc += 2) {
        const int32_t oc1 = oc + (oc + 1 < out_c);
        unpack_weights(p->weights + oc * filter_stride, p->weights + oc1 * filter_stride, k_h * groups, wbuf);
        const requant_ch q0 = requant_setup(p, oc), q1 = requant_setup(p, oc1);
        const int32_t bias0 = p->bias[oc], bias1 = p->bias[oc1];
        int32_t sum0 = 0, sum1 = 0;
        const int16_t *row = padded;
        int8_t *orow = output;
        for (int32_t oy = 0; oy < out_h; oy++, row += row_step, orow += out_w * out_c) {
            for (int32_t x = 0; x < cw; x += 2) {
                const int32_t has_px = x + 1 < cw; /* an odd last position is paired with itself */
                const int16_t *x0 = row + x * step;
                const int16_t *x1 = x0 + (has_px ? step : 0);
                acc4 s = {bias0, bias1, bias0, bias1};
                for (int32_t r = 0; r < k_h; r++) {
                    const uint32_t *w = wbuf + r * 4 * groups;
                    if (aligned_b || !has_px) {
                        s = dot_2x2(s, x0 + r * row_stride, x1 + r * row_stride, w, groups, 1);
                    } else {
                        s = dot_2x2(s, x0 + r * row_stride, x1 + r * row_stride, w, groups, 0);
                    }
                }
                if (POOL) {
                    const int32_t v0 = rq_fast(tdnn_max_i32(s.a0, s.b0), q0.mult, q0.round, q0.shift, lo, hi, FULL);
                    const int32_t v1 = rq_fast(tdnn_max_i32(s.a1, s.b1), q1.mult, q1.round, q1.shift, lo, hi, FULL);
                    if (MEAN) {
                        sum0 += v0;
                        sum1 += v1;
                    } else {
                        int8_t *o = orow + (x >> 1) * out_c;
                        o[oc] = (int8_t)v0;
                        o[oc1] = (int8_t)v1;
                    }
                } else {
                    const int32_t v0 = rq_fast(s.a0, q0.mult, q0.round, q0.shift, lo, hi, FULL);
                    const int32_t v1 = rq_fast(s.a1, q1.mult, q1.round, q1.shift, lo, hi, FULL);
                    const int32_t u0 = rq_fast(s.b0, q0.mult, q0.round, q0.shift, lo, hi, FULL);
                    const int32_t u1 = rq_fast(s.b1, q1.mult, q1.round, q1.shift, lo, hi, FULL);
                    if (MEAN) {
                        sum0 += v0 + (has_px ? u0 : 0);
                        sum1 += v1 + (has_px ? u1 : 0);
                    } else { /* pairs computed twice store the same value twice */
                        int8_t *o = orow + x * out_c;
                        o[oc] = (int8_t)v0;
                        o[oc1] = (int8_t)v1;
                        o[has_px * out_c + oc] = (int8_t)u0;
                        o[has_px * out_c + oc1] = (int8_t)u1;
                    }
                }
            }
        }
        if (MEAN) {
            output[oc] = mean_of(p, sum0);
            output[oc1] = mean_of(p, sum1);
        }
    }
}

/* Any flags, requantization in full (shift > 0 or accumulators too wide for the fast form). */
static void conv_general(const tdnn_conv_params *p, const int16_t *padded, uint32_t *wbuf, int8_t *output)
{
    const int32_t run = run_len(p);
    const int32_t groups = run >> 2;
    const int32_t row_stride = padded_w(p) * p->in_c;
    const int32_t filter_stride = p->k_h * run;
    const int32_t step = p->stride_w * p->in_c;
    const int32_t cw = conv_w(p);
    const int32_t aligned_b = (step & 1) == 0;
    const int32_t rows_aligned = (row_stride & 1) == 0; /* x is even: run starts are then word aligned */
    for (int32_t oc = 0; oc < p->out_c; oc += 2) {
        const int32_t oc1 = oc + (oc + 1 < p->out_c);
        unpack_weights(p->weights + oc * filter_stride, p->weights + oc1 * filter_stride, p->k_h * groups, wbuf);
        const requant_ch q0 = requant_setup(p, oc), q1 = requant_setup(p, oc1);
        int32_t sum0 = 0, sum1 = 0;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            const int16_t *row = padded + oy * p->stride_h * row_stride;
            int8_t *orow = output + oy * p->out_w * p->out_c;
            for (int32_t x = 0; x < cw; x += 2) {
                const int32_t has_px = x + 1 < cw;
                const int16_t *x0 = row + x * step;
                const int16_t *x1 = x0 + has_px * step;
                acc4 s = {p->bias[oc], p->bias[oc1], p->bias[oc], p->bias[oc1]};
                for (int32_t r = 0; r < p->k_h; r++) {
                    const uint32_t *w = wbuf + r * 4 * groups;
                    if (!rows_aligned) {
                        s = dot_2x2_unaligned(s, x0 + r * row_stride, x1 + r * row_stride, w, groups);
                    } else if (aligned_b || !has_px) {
                        s = dot_2x2(s, x0 + r * row_stride, x1 + r * row_stride, w, groups, 1);
                    } else {
                        s = dot_2x2(s, x0 + r * row_stride, x1 + r * row_stride, w, groups, 0);
                    }
                }
                int32_t v[4];
                if (p->pool_w == 2) {
                    v[0] = clamp(p, requant(p, &q0, tdnn_max_i32(s.a0, s.b0)));
                    v[1] = clamp(p, requant(p, &q1, tdnn_max_i32(s.a1, s.b1)));
                    v[2] = v[3] = 0;
                } else {
                    v[0] = clamp(p, requant(p, &q0, s.a0));
                    v[1] = clamp(p, requant(p, &q1, s.a1));
                    v[2] = clamp(p, requant(p, &q0, s.b0));
                    v[3] = clamp(p, requant(p, &q1, s.b1));
                }
                if (p->mean_fused) {
                    sum0 += v[0] + (has_px && p->pool_w == 1 ? v[2] : 0);
                    sum1 += v[1] + (has_px && p->pool_w == 1 ? v[3] : 0);
                } else if (p->pool_w == 2) {
                    int8_t *o = orow + (x >> 1) * p->out_c;
                    o[oc] = (int8_t)v[0];
                    o[oc1] = (int8_t)v[1];
                } else {
                    int8_t *o = orow + x * p->out_c;
                    o[oc] = (int8_t)v[0];
                    o[oc1] = (int8_t)v[1];
                    o[has_px * p->out_c + oc] = (int8_t)v[2];
                    o[has_px * p->out_c + oc1] = (int8_t)v[3];
                }
            }
        }
        if (p->mean_fused) {
            output[oc] = mean_of(p, sum0);
            output[oc1] = mean_of(p, sum1);
        }
    }
}

/* One extern function per compile-time variant (tdnn.h): the generated model calls the ones it needs by
 * name, so with -ffunction-sections / --gc-sections the firmware carries only those. */
#define TDNN_CONV_VARIANT(name, POOL, FULL)                                                              \
    void tdnn_convolve_s8_##name(const tdnn_conv_params *p, const int8_t *input, int16_t *scratch,       \
                                 int8_t *output)                                                        \
    {                                                                                                   \
        int16_t *padded = scratch + padded_offset(p);                                                   \
        pad_input(p, input, padded);                                                                    \
        conv_fast(p, padded, (uint32_t *)(void *)scratch, output, POOL, FULL);                          \
    }
TDNN_CONV_VARIANT(pool_full, 1, 1)
TDNN_CONV_VARIANT(pool_clamp, 1, 0)
TDNN_CONV_VARIANT(full, 0, 1)
TDNN_CONV_VARIANT(clamp, 0, 0)
#undef TDNN_CONV_VARIANT

#define TDNN_CONV_K1_VARIANT(name, POOL, FULL, MEAN, ALB, RELU)                                          \
    void tdnn_convolve_s8_##name(const tdnn_conv_params *p, const int8_t *input, int16_t *scratch,       \
                                 int8_t *output)                                                        \
    {                                                                                                   \
        int16_t *padded = scratch + padded_offset(p);                                                   \
        pad_input(p, input, padded);                                                                    \
        row_ctx *c = (row_ctx *)(void *)(scratch + wchunk_elems(p) + BIAS_ELEMS); /* word aligned */       \
        if ((run_len(p) >> 2) > TDNN_CONV_K1_MAX_GROUPS || /* longer than the unrolled MAC (not chosen) */  \
            (MEAN && RELU && p->out_w > TDNN_CONV_PACK_MAX)) { /* rows too wide for the packed sums */         \
            conv_general(p, padded, (uint32_t *)(void *)scratch, output);                               \
        } else {                                                                                        \
            conv_k1_fast(p, padded, (uint32_t *)(void *)scratch, c, output, POOL, FULL, MEAN, ALB, RELU); \
        }                                                                                               \
    }
TDNN_CONV_K1_VARIANTS(TDNN_CONV_K1_VARIANT)
#undef TDNN_CONV_K1_VARIANT

void tdnn_convolve_s8_general(const tdnn_conv_params *p, const int8_t *input, int16_t *scratch, int8_t *output)
{
    int16_t *padded = scratch + padded_offset(p);
    pad_input(p, input, padded);
    conv_general(p, padded, (uint32_t *)(void *)scratch, output);
}

#endif /* __ARM_FEATURE_DSP */

typedef void (*conv_fn)(const tdnn_conv_params *, const int8_t *, int16_t *, int8_t *);

typedef struct {
    uint8_t pool, full, mean, alb, relu;
    conv_fn fn;
} k1_variant;

/* Run-time choice of the variant (the same choice as compiler/ops/conv_2d.py conv_variant). */
void tdnn_convolve_s8(const tdnn_conv_params *p, const int8_t *input, int16_t *scratch, int8_t *output)
{
#define TDNN_K1_ENTRY(name, POOL, FULL, MEAN, ALB, RELU) {POOL, FULL, MEAN, ALB, RELU, tdnn_convolve_s8_##name},
    static const k1_variant k1[] = {TDNN_CONV_K1_VARIANTS(TDNN_K1_ENTRY)};
#undef TDNN_K1_ENTRY
    const int full = p->act_min == -128 && p->act_max == 127;
    const int pool = p->pool_w == 2;
    if (!p->fast_requant || ((padded_w(p) * p->in_c) & 1)) {
        tdnn_convolve_s8_general(p, input, scratch, output); /* odd row lengths too: LDRD needs aligned rows */
    } else if (p->k_h == 1 && (run_len(p) >> 2) <= TDNN_CONV_K1_MAX_GROUPS) {
        const int alb = ((p->stride_w * p->in_c) & 1) == 0;
        const int relu = p->act_min >= p->out_offset;
        for (uint32_t i = 0; i < sizeof k1 / sizeof k1[0]; i++) {
            if (k1[i].pool == pool && k1[i].full == full && k1[i].mean == p->mean_fused && k1[i].alb == alb &&
                k1[i].relu == relu) {
                k1[i].fn(p, input, scratch, output);
                return;
            }
        }
    } else if (pool) {
        (full ? tdnn_convolve_s8_pool_full : tdnn_convolve_s8_pool_clamp)(p, input, scratch, output);
    } else {
        (full ? tdnn_convolve_s8_full : tdnn_convolve_s8_clamp)(p, input, scratch, output);
    }
}

#if !defined(__ARM_FEATURE_DSP) /* portable C path: same data layout, one output at a time */

static int32_t dot(const tdnn_conv_params *p, const int16_t *in, const int8_t *w, int32_t row_stride)
{
    const int32_t run = run_len(p);
    int32_t acc = 0;
    for (int32_t r = 0; r < p->k_h; r++) {
        const int16_t *x = in + r * row_stride;
        for (int32_t g = 0; g < run; g += 4) { /* stored (w0 w2 w1 w3) */
            acc += x[g] * w[g] + x[g + 1] * w[g + 2] + x[g + 2] * w[g + 1] + x[g + 3] * w[g + 3];
        }
        w += run;
    }
    return acc;
}

void tdnn_convolve_s8_general(const tdnn_conv_params *p, const int8_t *input, int16_t *scratch, int8_t *output)
{
    int16_t *padded = scratch + padded_offset(p);
    pad_input(p, input, padded);
    const int32_t filter_stride = p->k_h * run_len(p);
    const int32_t row_stride = padded_w(p) * p->in_c;
    for (int32_t oc = 0; oc < p->out_c; oc++) {
        const requant_ch q = requant_setup(p, oc);
        const int8_t *w = p->weights + oc * filter_stride;
        int32_t sum = 0;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                int32_t best = 0;
                for (int32_t j = 0; j < p->pool_w; j++) {
                    const int32_t x = ox * p->pool_w + j;
                    const int16_t *in = padded + oy * p->stride_h * row_stride + x * p->stride_w * p->in_c;
                    const int32_t acc = p->bias[oc] + dot(p, in, w, row_stride);
                    best = j == 0 ? acc : tdnn_max_i32(best, acc);
                }
                const int32_t v = clamp(p, requant(p, &q, best));
                if (p->mean_fused) {
                    sum += v;
                } else {
                    output[(oy * p->out_w + ox) * p->out_c + oc] = (int8_t)v;
                }
            }
        }
        if (p->mean_fused) {
            output[oc] = mean_of(p, sum);
        }
    }
}

/* Without DSP every variant is the portable kernel (the generated code names variants either way). */
#define TDNN_CONV_PORTABLE(name)                                                                        \
    void tdnn_convolve_s8_##name(const tdnn_conv_params *p, const int8_t *input, int16_t *scratch,       \
                                 int8_t *output)                                                        \
    {                                                                                                   \
        tdnn_convolve_s8_general(p, input, scratch, output);                                            \
    }
#define TDNN_CONV_K1_PORTABLE(name, POOL, FULL, MEAN, ALB, RELU) TDNN_CONV_PORTABLE(name)
TDNN_CONV_PORTABLE(pool_full)
TDNN_CONV_PORTABLE(pool_clamp)
TDNN_CONV_PORTABLE(full)
TDNN_CONV_PORTABLE(clamp)
TDNN_CONV_K1_VARIANTS(TDNN_CONV_K1_PORTABLE)
#undef TDNN_CONV_K1_PORTABLE
#undef TDNN_CONV_PORTABLE

#endif
