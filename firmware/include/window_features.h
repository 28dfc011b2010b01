/* Feature extraction from one window of raw accelerometer counts. */
#ifndef WINDOW_FEATURES_H
#define WINDOW_FEATURES_H

#include <stdint.h>

/* window_xyz: MODEL_WINDOW samples, x,y,z interleaved, raw sensor counts.
 * features_out: MODEL_INPUT_SIZE int8 values, quantized with the model's input scale/zero point. */
void features_compute(const int16_t *window_xyz, int8_t *features_out);

#endif /* WINDOW_FEATURES_H */
