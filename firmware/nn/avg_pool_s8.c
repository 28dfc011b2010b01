/* Int8 average pooling, bit-exact with TFLM reference_integer_ops::AveragePool: the sum over the
 * in-bounds taps divided by their count, rounding half away from zero (C division truncates). */
#include "tdnn.h"
#include "tdnn_math.h"

void tdnn_avg_pool_s8(const tdnn_pool_params *p, const int8_t *input, int8_t *output)
{
    const int32_t c = p->channels;
    for (int32_t oy = 0; oy < p->out_h; oy++) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        const int32_t fy0 = tdnn_max_i32(0, -y0), fy1 = tdnn_min_i32(p->k_h, p->in_h - y0);
        for (int32_t ox = 0; ox < p->out_w; ox++) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int32_t fx0 = tdnn_max_i32(0, -x0), fx1 = tdnn_min_i32(p->k_w, p->in_w - x0);
            const int32_t count = (fy1 - fy0) * (fx1 - fx0);
            int8_t *out = output + (oy * p->out_w + ox) * c;
            for (int32_t ch = 0; ch < c; ch++) {
                int32_t acc = 0;
                for (int32_t fy = fy0; fy < fy1; fy++) {
                    const int8_t *row = input + ((y0 + fy) * p->in_w + x0) * c + ch;
                    for (int32_t fx = fx0; fx < fx1; fx++) {
                        acc += row[fx * c];
                    }
                }
                if (count > 0) {
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                }
                acc = tdnn_max_i32(acc, p->act_min);
                out[ch] = (int8_t)tdnn_min_i32(acc, p->act_max);
            }
        }
    }
}
