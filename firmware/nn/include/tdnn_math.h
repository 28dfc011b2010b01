/* Fixed-point helpers shared by the tinyml-disco int8 kernels.
 * Semantics follow TFLite Micro's reference kernels exactly (gemmlowp rounding,
 * two-step requantization) so results are bit-exact with the TFLM interpreter. */
#ifndef TDNN_MATH_H
#define TDNN_MATH_H

#include <stdint.h>
#include <string.h>

/* optimize("Os") for set-up code beside -O2 hot loops (GCC only: clang has no per-function optimize). */
#if defined(__GNUC__) && !defined(__clang__)
#define TDNN_OPT_SIZE __attribute__((optimize("Os")))
#else
#define TDNN_OPT_SIZE
#endif

/* 4 bytes as one word: one (possibly unaligned) LDR on the M4. */
static inline uint32_t tdnn_read_u32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* (a * b + 2^31) >> 32: SMMULR on the M4. */
#if defined(__ARM_FEATURE_DSP)
static inline int32_t tdnn_smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* SXTB16 with its free ROR #8 operand (bytes 1 and 3): GCC does not fold a separate rotate into it. */
static inline uint32_t tdnn_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
#else
static inline int32_t tdnn_smmulr(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * (int64_t)b + (1LL << 31)) >> 32);
}
#endif

#define TDNN_INT32_MAX ((int32_t)0x7FFFFFFF)
#define TDNN_INT32_MIN ((int32_t)(-0x7FFFFFFF - 1))

static inline int32_t tdnn_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t tdnn_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

/* SaturatingRoundingDoublingHighMul: (a*b*2 + 2^31 rounding) >> 32, saturating INT_MIN*INT_MIN. */
static inline int32_t tdnn_srdhm(int32_t a, int32_t b)
{
    if (a == TDNN_INT32_MIN && b == TDNN_INT32_MIN) {
        return TDNN_INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? (1LL << 30) : (1LL - (1LL << 30));
    /* C division truncates toward zero, as gemmlowp requires. */
    return (int32_t)((ab + nudge) / (1LL << 31));
}

/* tdnn_srdhm for operands that are not both INT32_MIN (callers state why): the nudge-and-truncate of
 * gemmlowp is floor((a*b + 2^30) / 2^31) for both signs of a*b, so no branch (SMULL/SMLAL + 2 on the M4). */
static inline int32_t tdnn_srdhm_nosat(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * (int64_t)b + (1LL << 30)) >> 31);
}

/* tdnn_rdbpot for x >= 0 and exponent >= 1 (round half up). */
static inline int32_t tdnn_rdbpot_nonneg(int32_t x, int32_t exponent)
{
    return (int32_t)(((uint32_t)x + ((uint32_t)1 << (exponent - 1))) >> exponent);
}

/* RoundingDivideByPOT: arithmetic shift right, rounding half away from zero. */
static inline int32_t tdnn_rdbpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)((1LL << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLM MultiplyByQuantizedMultiplier (double rounding). shift > 0 shifts left.
 * The multiplier is a positive Q31 value (never INT32_MIN), so the saturation case of srdhm cannot
 * occur, and gemmlowp's sign-dependent nudge with truncating division equals one +2^30 nudge with a
 * flooring shift: ceil((|p| - 2^30) / 2^31) == floor((|p| + 2^30 - 1) / 2^31) for negative products p.
 * That turns the high multiply into SMULL + add + shift on the M4. */
static inline int32_t tdnn_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int32_t scaled = (int32_t)((uint32_t)x << left);
    const int64_t product = (int64_t)scaled * (int64_t)multiplier + (1LL << 30);
    return tdnn_rdbpot((int32_t)(product >> 31), right);
}

/* Saturating multiply by 2^exponent (exponent > 0), gemmlowp SaturatingRoundingMultiplyByPOT. */
static inline int32_t tdnn_sat_shl(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)((1LL << (31 - exponent)) - 1);
    if (x > threshold) {
        return TDNN_INT32_MAX;
    }
    if (x < -threshold) {
        return TDNN_INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* Requantize an accumulator to int8: TFLM's MultiplyByQuantizedMultiplier, + zero point, clamp. */
static inline int8_t tdnn_requantize_s8(int32_t acc, int32_t mult, int32_t shift, int32_t out_offset,
                                        int32_t act_min, int32_t act_max)
{
    acc = tdnn_requantize(acc, mult, shift) + out_offset;
    acc = tdnn_max_i32(acc, act_min);
    acc = tdnn_min_i32(acc, act_max);
    return (int8_t)acc;
}

#endif /* TDNN_MATH_H */
