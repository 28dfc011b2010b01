/* Integer helpers shared by the feature pipelines (firmware/src/features_*.c). Include after model.h:
 * the quantization uses the MODEL_FEATURE_* constants the model compiler generates. */
#ifndef FEATURE_MATH_H
#define FEATURE_MATH_H

#include <stdint.h>

#include "tdnn_math.h"

/* floor(sqrt(v)), exact (training/features.py _isqrt is the twin): the largest r < 2^32 with r * r <= v, one
 * bit at a time from the top (r * r is one UMULL, it fits 64 bits); no FPU, no libm. 32 steps whatever v is:
 * smaller code than the digit-by-digit form on 64-bit operands, and features are not on the timed path. */
static inline uint32_t feature_isqrt_u64(uint64_t v)
{
    uint32_t r = 0u;
    for (uint32_t bit = 1u << 31; bit != 0u; bit >>= 1) {
        const uint32_t t = r | bit;
        if ((uint64_t)t * t <= v) {
            r = t;
        }
    }
    return r;
}

/* An integer statistic (counts) to the model's int8 input: one TFLM-style requantization + clamp. */
static inline int8_t feature_to_int8(int32_t stat)
{
    int32_t q = tdnn_requantize(stat, MODEL_FEATURE_MULT, MODEL_FEATURE_SHIFT) + MODEL_INPUT_ZERO_POINT;
    q = tdnn_max_i32(q, -128);
    q = tdnn_min_i32(q, 127);
    return (int8_t)q;
}

#endif /* FEATURE_MATH_H */
