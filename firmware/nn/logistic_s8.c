/* Int8 logistic, bit-exact with TFLM reference_integer_ops::Logistic: its output is a function of the
 * int8 input alone, so the model compiler evaluates TFLM's fixed-point logistic for all 256 inputs
 * and this kernel is one table lookup per element. */
#include "tdnn.h"

void tdnn_logistic_s8(const int8_t *input, int32_t size, const int8_t *table, int8_t *output)
{
    for (int32_t i = 0; i < size; i++) {
        output[i] = table[(uint8_t)(input[i] + 128)];
    }
}
