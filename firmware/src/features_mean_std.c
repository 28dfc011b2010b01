/* Feature pipeline "mean_std" (training/features.py MeanStd is the bit-exact host twin):
 * per axis S = sum(x), D = N*sum(x^2) - S^2; features are S and isqrt(D) (both N times the
 * mean / standard deviation in counts), taken straight to int8 with one fixed-point multiplier
 * that the model compiler folds from the sensor LSB, N and the model's input scale. Integer only,
 * so host and firmware agree exactly. */
#include "model.h"

#if defined(MODEL_FEATURES_MEAN_STD)

#include "tdnn_math.h"
#include "window_features.h"

/* floor(sqrt(v)), bit by bit: no FPU, no libm, exact. */
static uint32_t isqrt_u64(uint64_t v)
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

static int8_t quantize_stat(int32_t stat)
{
    int32_t q = tdnn_requantize(stat, MODEL_FEATURE_MULT, MODEL_FEATURE_SHIFT) + MODEL_INPUT_ZERO_POINT;
    q = tdnn_max_i32(q, -128);
    q = tdnn_min_i32(q, 127);
    return (int8_t)q;
}

void features_compute(const int16_t *window_xyz, int8_t *features_out)
{
    for (int32_t axis = 0; axis < 3; axis++) {
        int32_t sum = 0;
        uint64_t sum_sq = 0;
        for (int32_t i = 0; i < MODEL_WINDOW; i++) {
            const int32_t v = window_xyz[i * 3 + axis];
            sum += v;
            sum_sq += (uint64_t)(int64_t)(v * v);
        }
        const int64_t spread = (int64_t)MODEL_WINDOW * (int64_t)sum_sq - (int64_t)sum * (int64_t)sum;
        features_out[axis] = quantize_stat(sum);
        features_out[3 + axis] = quantize_stat((int32_t)isqrt_u64((uint64_t)(spread > 0 ? spread : 0)));
    }
}

#endif /* MODEL_FEATURES_MEAN_STD */
