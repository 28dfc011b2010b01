/* Int8 depthwise convolution, bit-exact with TFLM reference_integer_ops::DepthwiseConvPerChannel.
 * Padded taps are skipped, so the input offset is applied per tap (not folded into the bias). */
#include "tdnn.h"
#include "tdnn_math.h"

void tdnn_depthwise_conv_s8(const tdnn_dw_conv_params *p, const int8_t *input, int8_t *output)
{
    const int32_t out_c = p->in_c * p->depth_multiplier;
    for (int32_t oy = 0; oy < p->out_h; oy++) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        for (int32_t ox = 0; ox < p->out_w; ox++) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            int8_t *out = output + (oy * p->out_w + ox) * out_c;
            for (int32_t oc = 0; oc < out_c; oc++) {
                const int32_t ic = oc / p->depth_multiplier;
                int32_t acc = 0;
                for (int32_t fy = 0; fy < p->k_h; fy++) {
                    const int32_t iy = y0 + fy;
                    if (iy < 0 || iy >= p->in_h) {
                        continue;
                    }
                    for (int32_t fx = 0; fx < p->k_w; fx++) {
                        const int32_t ix = x0 + fx;
                        if (ix < 0 || ix >= p->in_w) {
                            continue;
                        }
                        const int32_t x = input[(iy * p->in_w + ix) * p->in_c + ic] + p->input_offset;
                        acc += x * p->weights[(fy * p->k_w + fx) * out_c + oc];
                    }
                }
                acc += p->bias[oc];
                out[oc] = tdnn_requantize_s8(acc, p->mult[oc], p->shift[oc], p->out_offset, p->act_min,
                                             p->act_max);
            }
        }
    }
}
