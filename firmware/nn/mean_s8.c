/* Int8 mean over spatial positions (global average pooling), bit-exact with TFLM's MEAN:
 * reference_ops::Mean when input and output quantization agree, else QuantizedMeanOrSum. */
#include "tdnn.h"
#include "tdnn_math.h"

void tdnn_mean_s8(const int8_t *input, int32_t count, int32_t channels, int32_t input_zp, int32_t mult,
                  int32_t shift, int32_t out_zp, int8_t *output)
{
    for (int32_t ch = 0; ch < channels; ch++) {
        int32_t sum = 0;
        for (int32_t i = 0; i < count; i++) {
            sum += input[i * channels + ch];
        }
        int32_t v;
        if (mult == 0) {
            v = sum / count; /* raw sum, truncating division, cast as in reference_ops::Mean */
        } else {
            v = tdnn_requantize(sum - input_zp * count, mult, shift) + out_zp;
            v = tdnn_min_i32(tdnn_max_i32(v, -128), 127);
        }
        output[ch] = (int8_t)v;
    }
}
