/* Int8 softmax, bit-exact with TFLM reference_ops::Softmax (gemmlowp fixed-point exp and
 * Newton-Raphson reciprocal). Input differences are Q5.26, the sum of exps Q12.19. */
#include "tdnn.h"
#include "tdnn_math.h"

#define SCALED_DIFF_INT_BITS 5
#define ACCUM_INT_BITS 12

/* exp(x) for x in [-1/4, 0), Q0.31 in and out: Taylor series around -1/8. */
static int32_t exp_quarter_interval(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668;
    const int32_t one_third = 715827883;
    const int32_t x = a + (1 << 28);
    const int32_t x2 = tdnn_srdhm(x, x);
    const int32_t x3 = tdnn_srdhm(x2, x);
    const int32_t x4 = tdnn_srdhm(x2, x2);
    const int32_t x4_over_4 = tdnn_rdbpot(x4, 2);
    const int32_t poly = tdnn_rdbpot(tdnn_srdhm(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + tdnn_srdhm(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0 given in Q5.26, result Q0.31. */
static int32_t exp_on_negative_values(int32_t a)
{
    /* exp(-2^k) for k = -2..4 in Q0.31, applied for each set bit of the remainder. */
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t frac_bits = 31 - SCALED_DIFF_INT_BITS;
    const int32_t one_quarter = 1 << (frac_bits - 2);
    const int32_t mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = exp_quarter_interval(tdnn_sat_shl(mod_quarter_minus_quarter, SCALED_DIFF_INT_BITS));
    const int32_t remainder = mod_quarter_minus_quarter - a;
    for (int32_t k = 0; k < 7; k++) {
        if (remainder & (1 << (frac_bits - 2 + k))) {
            result = tdnn_srdhm(result, barrel[k]);
        }
    }
    return a == 0 ? TDNN_INT32_MAX : result;
}

/* 1/(1+x) for x in [0,1), Q0.31 in, result Q0.31 (three Newton-Raphson steps in Q2.29). */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + TDNN_INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t c48_17 = 1515870810;
    const int32_t c_neg32_17 = -1010580540;
    const int32_t one_q2 = 1 << 29;
    int32_t x = c48_17 + tdnn_srdhm(half_denominator, c_neg32_17);
    for (int32_t i = 0; i < 3; i++) {
        const int32_t hdx = tdnn_srdhm(half_denominator, x);
        const int32_t one_minus = one_q2 - hdx;
        x = x + tdnn_sat_shl(tdnn_srdhm(x, one_minus), 2);
    }
    return tdnn_sat_shl(x, 1);
}

static int32_t count_leading_zeros(uint32_t v)
{
    if (v == 0U) {
        return 32;
    }
    return (int32_t)__builtin_clz(v);
}

void tdnn_softmax_s8(const int8_t *input, int32_t rows, int32_t row_size, int32_t mult, int32_t left_shift,
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
                const int32_t scaled = tdnn_srdhm((int32_t)((uint32_t)diff << left_shift), mult);
                sum_of_exps += tdnn_rdbpot(exp_on_negative_values(scaled), ACCUM_INT_BITS);
            }
        }
        const int32_t headroom_plus_one = count_leading_zeros((uint32_t)sum_of_exps);
        const int32_t bits_over_unit = ACCUM_INT_BITS - headroom_plus_one;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31));
        const int32_t shifted_scale = one_over_one_plus_x(shifted_sum_minus_one);
        const int32_t exponent = bits_over_unit + 31 - 8;
        for (int32_t c = 0; c < row_size; c++) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            int32_t v = -128;
            if (diff >= diff_min) {
                const int32_t scaled = tdnn_srdhm((int32_t)((uint32_t)diff << left_shift), mult);
                const int32_t e = exp_on_negative_values(scaled);
                v = tdnn_rdbpot(tdnn_srdhm(shifted_scale, e), exponent) - 128;
                v = tdnn_min_i32(tdnn_max_i32(v, -128), 127);
            }
            out[c] = (int8_t)v;
        }
    }
}
