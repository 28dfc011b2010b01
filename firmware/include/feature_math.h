/* Integer helpers shared by the feature pipelines (firmware/src/features_*.c). Include after model.h:
 * the quantization uses the MODEL_FEATURE_* constants the model compiler generates. */
#ifndef FEATURE_MATH_H
#define FEATURE_MATH_H

#include <stdint.h>

#include "tdnn_math.h"

/* floor(sqrt(v)), bit by bit: no FPU, no libm, exact (training/features.py _isqrt is the twin). */
static inline uint32_t feature_isqrt_u64(uint64_t v)
{
    uint64_t result = 0;
    uint64_t bit = 1ULL << 62;
    while (bit > v) {
        bit >>= 2;
    }
    while (bit != 0U) {
        if (v >= result + bit) {
            v -= result + bit;
            result = (result >> 1) + bit;
        } else {
            result >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)result;
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
