/* Int8 softmax, bit-exact with TFLM reference_ops::Softmax.
 * TFLM evaluates gemmlowp's fixed-point exp(beta * scale * diff) for every element at run time. The
 * difference to the row maximum is an integer in [diff_min, 0], so the model compiler evaluates that
 * same fixed-point exp once per possible difference and hands us the table (Q0.31). What remains here
 * is the sum (Q12.19), gemmlowp's Newton-Raphson reciprocal and the final scaling, as in TFLM. */
#include "tdnn.h"
#include "tdnn_math.h"

#define ACCUM_INT_BITS 12
/* -Os (TDNN_OPT_SIZE) for the reciprocal only (the file is built -O2 with the other kernels): 8 B smaller for the mlp, same cycles;
 * the softmax loops at -Os would be 8 B smaller too but ~35 cycles slower. */

/* 1/(1+x) for x in [0,1), Q0.31 in and out: three Newton-Raphson steps in Q2.29.
 * a >= 0 (reciprocal() passes the sum's bits below its leading one), so gemmlowp's 64-bit
 * (a + INT32_MAX + 1) / 2 is (a + 2^31) >> 1 in 32 unsigned bits. The step's correction x * (1 - d * x) is
 * at most 2 * 1/17 in magnitude (the 48/17 - 32/17 d start has |1 - d x| <= 1/17 on d in [1/2, 1), and the
 * error only shrinks), so srdhm(x, 1 - d * x) is below 0.12 * 2^27, far below the 2^29 at which gemmlowp's saturating shift by 2 would
 * clip: a plain shift (tests/c/softmax_reciprocal_check.c compares both for every a >= 0 it can reach and a sweep).
 * No operand of these multiplies is INT32_MIN (half_denominator is in [2^30, 2^31), x stays in (0, 2^30),
 * the constants are fixed), so the branch-free tdnn_srdhm_nosat is exact here; tests/test_softmax_fast.py
 * compares the whole reciprocal with the saturating form for every sum of exps up to 8 classes. */
TDNN_OPT_SIZE static int32_t one_over_one_plus_x(int32_t a)
{
    const int32_t half_denominator = (int32_t)(((uint32_t)a + 0x80000000u) >> 1);
    const int32_t c48_17 = 1515870810;
    const int32_t c_neg32_17 = -1010580540;
    const int32_t one_q2 = 1 << 29;
    int32_t x = c48_17 + tdnn_srdhm_nosat(half_denominator, c_neg32_17);
    for (int32_t i = 0; i < 3; i++) {
        const int32_t one_minus = one_q2 - tdnn_srdhm_nosat(half_denominator, x);
        x = x + (int32_t)((uint32_t)tdnn_srdhm_nosat(x, one_minus) << 2);
    }
    /* The saturating doubling: x ~ 1/(1+a) in Q2.29 is in (2^29, 2^30], and only x = 2^30 (a = 0) clips, to
     * 2^31 - 1 = 2x - (x >> 30) (two instructions; tests/c/softmax_reciprocal_check.c compares with the
     * saturating form for every sum up to 8 classes and a sweep of every a >= 0). */
    return (int32_t)(((uint32_t)x << 1) - ((uint32_t)x >> 30));
}

/* 1 / sum_of_exps (Q12.19) as TFLM's GetReciprocal: a Q0.31 scale and the shift that goes with it. */
static inline int32_t reciprocal(int32_t sum_of_exps, int32_t *exponent)
{
    /* sum_of_exps >= 1.0 (the maximum contributes exp(0)), so it has at most 19 leading zeros. */
    const int32_t headroom_plus_one = (int32_t)__builtin_clz((uint32_t)sum_of_exps);
    const int32_t shifted_sum_minus_one =
        (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31));
    *exponent = ACCUM_INT_BITS - headroom_plus_one + 31 - 8;
    return one_over_one_plus_x(shifted_sum_minus_one);
}

/* One output: exp * (1 / sum) in Q0.31, to int8 with zero point -128. shifted_scale and e are >= 0 (so
 * is their product) and exponent >= 23 (the sum is >= 1.0 in Q12.19): the non-saturating forms are exact. */
static inline int32_t scale_exp(int32_t shifted_scale, int32_t e, int32_t exponent)
{
    const int32_t v = tdnn_rdbpot_nonneg(tdnn_srdhm_nosat(shifted_scale, e), exponent) - 128;
    return tdnn_min_i32(tdnn_max_i32(v, -128), 127);
}

void tdnn_softmax_s8(const int8_t *input, int32_t rows, int32_t row_size, const int32_t *exp_table,
                     int32_t diff_min, int8_t *output)
{
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *in = input + r * row_size;
        int8_t *out = output + r * row_size;
        int32_t max_in_row = -128;
        for (int32_t c = 0; c < row_size; c++) {
            max_in_row = tdnn_max_i32(max_in_row, in[c]);
        }
        int32_t sum_of_exps = 0; /* Q12.19 */
        for (int32_t c = 0; c < row_size; c++) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= diff_min) {
                sum_of_exps += tdnn_rdbpot_nonneg(exp_table[-diff], ACCUM_INT_BITS); /* table >= 0 */
            }
        }
        int32_t exponent;
        const int32_t shifted_scale = reciprocal(sum_of_exps, &exponent);
        for (int32_t c = 0; c < row_size; c++) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            int32_t v = -128;
            if (diff >= diff_min) {
                v = scale_exp(shifted_scale, exp_table[-diff], exponent);
            }
            out[c] = (int8_t)v;
        }
    }
}

/* gemmlowp exp_on_negative_values for a Q5.26 input a <= 0, result Q0.31 (what TFLM's softmax
 * evaluates per element; compiler/quant.py has the same function for the compiler's tables).
 * One operand of every multiply here is a positive constant or in (-2^31, 2^31) by construction (x in
 * [-2^28, 2^28), its powers, the result in [0, 2^31)), never INT32_MIN: tdnn_srdhm_nosat is exact. */
static int32_t exp_on_negative_values_q5_26(int32_t a)
{
    if (a == 0) {
        return TDNN_INT32_MAX;
    }
    const int32_t one_quarter = 1 << 24;
    const int32_t mod_minus_quarter = (a & (one_quarter - 1)) - one_quarter;
    const int32_t x = (int32_t)((uint32_t)tdnn_sat_shl(mod_minus_quarter, 5) + (1u << 28));
    const int32_t x2 = tdnn_srdhm_nosat(x, x);
    const int32_t x3 = tdnn_srdhm_nosat(x2, x);
    const int32_t x4 = tdnn_srdhm_nosat(x2, x2);
    const int32_t x4_over_4 = tdnn_rdbpot_nonneg(x4, 2); /* x4 = x2 * x2 >= 0 */
    const int32_t poly = tdnn_rdbpot(
        (int32_t)((uint32_t)tdnn_srdhm_nosat((int32_t)((uint32_t)x4_over_4 + (uint32_t)x3), 715827883) + (uint32_t)x2), 1);
    int32_t result = (int32_t)(1895147668u + (uint32_t)tdnn_srdhm_nosat(1895147668, (int32_t)((uint32_t)x + (uint32_t)poly)));
    const int32_t remainder = (int32_t)((uint32_t)mod_minus_quarter - (uint32_t)a);
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    for (int32_t k = 0; k < 7; k++) {
        if (remainder & (1 << (24 + k))) {
            result = tdnn_srdhm_nosat(result, barrel[k]);
        }
    }
    return result;
}

static inline int32_t scaled_exp(int32_t diff, int32_t input_mult, int32_t input_left_shift)
{
    return exp_on_negative_values_q5_26(tdnn_srdhm_nosat((int32_t)((uint32_t)diff << input_left_shift), input_mult));
}

/* Rows of up to EXP_CACHE classes keep their exps from the sum for the outputs (each evaluated once). */
#define EXP_CACHE 16

void tdnn_softmax_s8_exp(const int8_t *input, int32_t rows, int32_t row_size, int32_t input_mult,
                         int32_t input_left_shift, int32_t diff_min, int8_t *output)
{
    int32_t cache[EXP_CACHE];
    const int32_t cached = row_size <= EXP_CACHE;
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *in = input + r * row_size;
        int8_t *out = output + r * row_size;
        int32_t max_in_row = -128;
        for (int32_t c = 0; c < row_size; c++) {
            max_in_row = tdnn_max_i32(max_in_row, in[c]);
        }
        int32_t sum_of_exps = 0;
        for (int32_t c = 0; c < row_size; c++) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            int32_t e = 0;
            if (diff >= diff_min) {
                e = scaled_exp(diff, input_mult, input_left_shift);
                sum_of_exps += tdnn_rdbpot_nonneg(e, ACCUM_INT_BITS); /* e >= 0 */
            }
            if (cached) {
                cache[c] = e;
            }
        }
        int32_t exponent;
        const int32_t shifted_scale = reciprocal(sum_of_exps, &exponent);
        for (int32_t c = 0; c < row_size; c++) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            int32_t v = -128;
            if (diff >= diff_min) {
                const int32_t e = cached ? cache[c] : scaled_exp(diff, input_mult, input_left_shift);
                v = scale_exp(shifted_scale, e, exponent);
            }
            out[c] = (int8_t)v;
        }
    }
}
