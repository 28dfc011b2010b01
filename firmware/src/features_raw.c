/* Feature pipeline "raw" (training/features.py RawWindow is the bit-exact host twin): the window
 * itself as the model input, each raw count taken to int8 with one fixed-point multiplier that the
 * model compiler folds from the sensor LSB and the model's input scale. For convolutional models. */
#include "model.h"

#if defined(MODEL_FEATURES_RAW)

#include "feature_math.h"
#include "window_features.h"

void features_compute(const int16_t *window_xyz, int8_t *features_out)
{
    for (int32_t i = 0; i < MODEL_WINDOW * 3; i++) {
        features_out[i] = feature_to_int8(window_xyz[i]);
    }
}

#endif /* MODEL_FEATURES_RAW */
