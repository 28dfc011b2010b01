/* tinyml-disco int8 kernels: the one public header (CMSIS-NN style).
 * All kernels are bit-exact with TFLite Micro's reference int8 kernels.
 * Each kernel has a portable C path and, when __ARM_FEATURE_DSP is defined
 * (Cortex-M4/M7 with -mcpu=cortex-m4), a path using SXTB16/SMLAD. */
#ifndef TDNN_H
#define TDNN_H

#include <stdint.h>

/* Fully connected, batch 1: output[o] = clamp(requant(sum_i input[i]*w[o][i] + bias[o]) + out_offset).
 * `bias` must already contain the folded input zero point: bias[o] + input_offset * sum_i w[o][i]
 * (done at compile time by the model compiler). Weights are [out_features][in_features] row major.
 * Per-channel multipliers/shifts (a per-tensor model repeats one value). */
void tdnn_fully_connected_s8(const int8_t *input, const int8_t *weights, const int32_t *bias,
                             const int32_t *out_mult, const int32_t *out_shift, int32_t in_features,
                             int32_t out_features, int32_t out_offset, int32_t act_min, int32_t act_max,
                             int8_t *output);

/* Softmax over the last axis, int8 in, int8 out (scale 1/256, zero point -128).
 * exp_table[d] = TFLM's fixed-point exp (Q0.31) of the input difference -d, for d = 0..-diff_min;
 * differences below diff_min give 0, as in TFLM. The model compiler generates the table. */
void tdnn_softmax_s8(const int8_t *input, int32_t rows, int32_t row_size, const int32_t *exp_table,
                     int32_t diff_min, int8_t *output);

#endif /* TDNN_H */
