/* Int8 fully connected kernel, bit-exact with TFLM reference_integer_ops::FullyConnected. */
#include <string.h>

#include "tdnn.h"
#include "tdnn_math.h"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>

/* Four int8 x int8 products at a time: SXTB16 splits even/odd bytes into two int16 lanes,
 * SMLAD multiplies both lanes and accumulates. Pairing even with even and odd with odd keeps the
 * sum identical to the scalar loop (int32 addition is associative). */
static int32_t dot_s8(const int8_t *a, const int8_t *b, int32_t n, int32_t acc)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t wa;
        uint32_t wb;
        memcpy(&wa, a + i, 4); /* unaligned LDR is fine on M4 */
        memcpy(&wb, b + i, 4);
        const int16x2_t a_even = __sxtb16(wa);
        const int16x2_t a_odd = __sxtb16(__ror(wa, 8));
        const int16x2_t b_even = __sxtb16(wb);
        const int16x2_t b_odd = __sxtb16(__ror(wb, 8));
        acc = __smlad(a_even, b_even, acc);
        acc = __smlad(a_odd, b_odd, acc);
    }
    for (; i < n; i++) {
        acc += (int32_t)a[i] * (int32_t)b[i];
    }
    return acc;
}
#else
/* Portable path. */
static int32_t dot_s8(const int8_t *a, const int8_t *b, int32_t n, int32_t acc)
{
    for (int32_t i = 0; i < n; i++) {
        acc += (int32_t)a[i] * (int32_t)b[i];
    }
    return acc;
}
#endif

void tdnn_fully_connected_s8(const int8_t *input, const int8_t *weights, const int32_t *bias,
                             const int32_t *out_mult, const int32_t *out_shift, int32_t in_features,
                             int32_t out_features, int32_t out_offset, int32_t act_min, int32_t act_max,
                             int8_t *output)
{
    for (int32_t o = 0; o < out_features; o++) {
        int32_t acc = dot_s8(input, weights + o * in_features, in_features, bias[o]);
        acc = tdnn_requantize(acc, out_mult[o], out_shift[o]) + out_offset;
        acc = tdnn_max_i32(acc, act_min);
        acc = tdnn_min_i32(acc, act_max);
        output[o] = (int8_t)acc;
    }
}
