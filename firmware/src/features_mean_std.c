/* Feature pipeline "mean_std" (training/features.py MeanStd is the bit-exact host twin):
 * per axis S = sum(x), D = N*sum(x^2) - S^2; features are S and isqrt(D) (both N times the
 * mean / standard deviation in counts), taken straight to int8 with one fixed-point multiplier
 * that the model compiler folds from the sensor LSB, N and the model's input scale. Integer only,
 * so host and firmware agree exactly. */
#include "model.h"

#if defined(MODEL_FEATURES_MEAN_STD)

#include "feature_math.h"
#include "window_features.h"

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
        features_out[axis] = feature_to_int8(sum);
        features_out[3 + axis] = feature_to_int8((int32_t)feature_isqrt_u64((uint64_t)(spread > 0 ? spread : 0)));
    }
}

#endif /* MODEL_FEATURES_MEAN_STD */
