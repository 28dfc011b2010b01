/* Feature pipeline "mag_res" (training/features.py mag_res_stats is the bit-exact host twin):
 * rotation-invariant statistics of the acceleration magnitude |a| and of the gravity-removed signal
 * r = a - mean(a), so the model does not care how the board is held. Six integer statistics, each
 * N times a value in counts:
 *   0 sum |a|            1 N * std |a|          2 N * std r (total over the three axes)
 *   3 sum |r|            4 N * max |r|          5 sum |a[i] - a[i-1]| (jerk)
 * then one fixed-point multiplier (folded by the model compiler from the sensor LSB, N and the input
 * scale) takes each to int8. Integer only (floor square roots, int64 sums), so host and firmware agree. */
#include "model.h"

#if defined(MODEL_FEATURES_MAG_RES)

#include "feature_math.h"
#include "window_features.h"

static uint32_t mr_norm3(int64_t x, int64_t y, int64_t z)
{
    return feature_isqrt_u64((uint64_t)(x * x) + (uint64_t)(y * y) + (uint64_t)(z * z));
}

void features_compute(const int16_t *window_xyz, int8_t *features_out)
{
    const int64_t n = MODEL_WINDOW;
    int64_t sum[3] = {0, 0, 0};
    int64_t sum_sq[3] = {0, 0, 0};
    int64_t mag_sum = 0;
    int64_t mag_sq = 0;
    int64_t jerk = 0;
    for (int32_t i = 0; i < MODEL_WINDOW; i++) {
        const int16_t *a = &window_xyz[i * 3];
        for (int32_t axis = 0; axis < 3; axis++) {
            sum[axis] += a[axis];
            sum_sq[axis] += (int64_t)a[axis] * a[axis];
        }
        const int64_t m = mr_norm3(a[0], a[1], a[2]);
        mag_sum += m;
        mag_sq += m * m;
        if (i > 0) {
            const int16_t *p = a - 3;
            jerk += mr_norm3((int64_t)a[0] - p[0], (int64_t)a[1] - p[1], (int64_t)a[2] - p[2]);
        }
    }
    int64_t spread = 0;
    for (int32_t axis = 0; axis < 3; axis++) {
        spread += n * sum_sq[axis] - sum[axis] * sum[axis];
    }
    /* Second pass: the residual needs the mean; N*a - S keeps it exact in integers. */
    int64_t res_sum = 0;
    int64_t res_max = 0;
    for (int32_t i = 0; i < MODEL_WINDOW; i++) {
        const int16_t *a = &window_xyz[i * 3];
        const int64_t r = mr_norm3(n * a[0] - sum[0], n * a[1] - sum[1], n * a[2] - sum[2]);
        res_sum += r;
        res_max = r > res_max ? r : res_max;
    }
    const int64_t mag_spread = n * mag_sq - mag_sum * mag_sum;
    features_out[0] = feature_to_int8((int32_t)mag_sum);
    features_out[1] = feature_to_int8((int32_t)feature_isqrt_u64((uint64_t)(mag_spread > 0 ? mag_spread : 0)));
    features_out[2] = feature_to_int8((int32_t)feature_isqrt_u64((uint64_t)(spread > 0 ? spread : 0)));
    features_out[3] = feature_to_int8((int32_t)(res_sum / n));
    features_out[4] = feature_to_int8((int32_t)res_max);
    features_out[5] = feature_to_int8((int32_t)jerk);
}

#endif /* MODEL_FEATURES_MAG_RES */
