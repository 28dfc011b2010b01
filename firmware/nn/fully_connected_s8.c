/* Int8 fully connected kernel, bit-exact with TFLM reference_integer_ops::FullyConnected(PerChannel).
 * The input zero point is already folded into the bias by the model compiler, so the inner loop is a
 * plain int8 x int8 dot product. */
#include <string.h>

#include "tdnn.h"
#include "tdnn_math.h"

static inline int8_t finish(int32_t acc, int32_t mult, int32_t shift, int32_t out_offset, int32_t act_min,
                            int32_t act_max)
{
    acc = tdnn_requantize(acc, mult, shift) + out_offset;
    acc = tdnn_max_i32(acc, act_min);
    acc = tdnn_min_i32(acc, act_max);
    return (int8_t)acc;
}

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>

/* GCC folds this into SXTB16's ROR #8 operand. */
static inline uint32_t ror8(uint32_t x) { return (x >> 8) | (x << 24); }

/* Cortex-M4 path: two output rows per pass share the unpacked input. SXTB16 splits a word of four
 * int8 into its even and odd bytes as two int16 lanes, SMLAD multiplies both lanes and accumulates.
 * Pairing even with even and odd with odd gives the same int32 sum as the scalar loop. */
void tdnn_fully_connected_s8(const int8_t *input, const int8_t *weights, const int32_t *bias,
                             const int32_t *out_mult, const int32_t *out_shift, int32_t in_features,
                             int32_t out_features, int32_t out_offset, int32_t act_min, int32_t act_max,
                             int8_t *output)
{
    for (int32_t o = 0; o < out_features; o += 2) {
        /* An odd last row is paired with itself (computed twice): less code than a separate tail loop. */
        const int32_t has_pair = o + 1 < out_features;
        const int8_t *w0 = weights + o * in_features;
        const int8_t *w1 = has_pair ? w0 + in_features : w0;
        int32_t acc0 = bias[o];
        int32_t acc1 = bias[o + has_pair];
        int32_t i = 0;
        for (; i + 4 <= in_features; i += 4) {
            const uint32_t x = tdnn_read_u32(input + i);
            const int16x2_t x_even = __sxtb16(x);
            const int16x2_t x_odd = __sxtb16(ror8(x));
            const uint32_t a = tdnn_read_u32(w0 + i);
            const uint32_t b = tdnn_read_u32(w1 + i);
            acc0 = __smlad(x_even, __sxtb16(a), acc0);
            acc0 = __smlad(x_odd, __sxtb16(ror8(a)), acc0);
            acc1 = __smlad(x_even, __sxtb16(b), acc1);
            acc1 = __smlad(x_odd, __sxtb16(ror8(b)), acc1);
        }
        for (; i < in_features; i++) {
            const int32_t x = input[i];
            acc0 += x * w0[i];
            acc1 += x * w1[i];
        }
        const int32_t o1 = o + has_pair; /* == o for an unpaired row: same value stored twice */
        output[o] = finish(acc0, out_mult[o], out_shift[o], out_offset, act_min, act_max);
        output[o1] = finish(acc1, out_mult[o1], out_shift[o1], out_offset, act_min, act_max);
    }
}

#else /* portable C path */

void tdnn_fully_connected_s8(const int8_t *input, const int8_t *weights, const int32_t *bias,
                             const int32_t *out_mult, const int32_t *out_shift, int32_t in_features,
                             int32_t out_features, int32_t out_offset, int32_t act_min, int32_t act_max,
                             int8_t *output)
{
    for (int32_t o = 0; o < out_features; o++) {
        const int8_t *w = weights + o * in_features;
        int32_t acc = bias[o];
        for (int32_t i = 0; i < in_features; i++) {
            acc += (int32_t)input[i] * (int32_t)w[i];
        }
        output[o] = finish(acc, out_mult[o], out_shift[o], out_offset, act_min, act_max);
    }
}

#endif
