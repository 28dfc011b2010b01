/* Int8 element-wise add, bit-exact with TFLM reference_integer_ops::Add (same shapes): both inputs
 * offset, shifted left by 20 and rescaled to a common scale, summed, rescaled to the output. */
#include "tdnn.h"
#include "tdnn_math.h"

#define ADD_LEFT_SHIFT 20

void tdnn_add_s8(const tdnn_add_params *p, const int8_t *input1, const int8_t *input2, int32_t size,
                 int8_t *output)
{
    for (int32_t i = 0; i < size; i++) {
        const int32_t a = (input1[i] + p->in1_offset) * (1 << ADD_LEFT_SHIFT);
        const int32_t b = (input2[i] + p->in2_offset) * (1 << ADD_LEFT_SHIFT);
        const int32_t sum = tdnn_requantize(a, p->in1_mult, p->in1_shift) + tdnn_requantize(b, p->in2_mult, p->in2_shift);
        output[i] = tdnn_requantize_s8(sum, p->out_mult, p->out_shift, p->out_offset, p->act_min, p->act_max);
    }
}
