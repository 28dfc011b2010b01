/* Int8 fully connected for small layers with run-time shapes: the body in tdnn_fc_packed.h (the model
 * compiler instantiates the same body per layer with constant shapes). */
#include "tdnn_fc_packed.h"

void tdnn_fully_connected_s8_packed(const int8_t *input, const int32_t *weights, const tdnn_fc_channel_t *channels,
                                    int32_t in_features, int32_t out_features, int32_t act_min, int32_t act_max,
                                    int8_t *output)
{
    tdnn_fc_packed_body(input, weights, channels, in_features, out_features, act_min, act_max, output);
}
