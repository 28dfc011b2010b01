/* tinyml-disco int8 kernels: the one public header (CMSIS-NN style).
 * All kernels are bit-exact with TFLite Micro's reference int8 kernels.
 * Each kernel has a portable C path; the hot ones (fully connected, convolution) also have a path
 * using SXTB16/SMLAD when __ARM_FEATURE_DSP is defined (Cortex-M4/M7 with -mcpu=cortex-m4).
 * Everything a TFLM kernel prepares at run time (multipliers, shifts, folded biases, padding,
 * reordered weights, tables) comes precomputed from the model compiler (compiler/, one module per op in
 * compiler/ops/). */
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

/* Fully connected for small layers (in_features <= TDNN_FC_PACKED_MAX_IN), batch 1, same result as
 * tdnn_fully_connected_s8: tdnn_fc_packed_body in tdnn_fc_packed.h, a forced-inline kernel that model.c
 * instantiates once per layer with the layer's shape as constants. Everything constant is prepared by the model
 * compiler
 * (compiler/ops/fully_connected.py):
 * - the input's pair order: per group of 4 inputs (i, i+2), (i+1, i+3) (SXTB16 of a word and of the word
 *   rotated by 8); a tail of 1-3 inputs (i, i+1), (i+2, 0);
 * - weights: int8, [out_features][((in_features + 1) / 2 + 1) / 2] int32 words, each word two of the input's
 *   pairs: bytes (a0, b0, a1, b1) for pairs (a0, a1) and (b0, b1), so SXTB16 gives the first and SXTB16 ROR #8
 *   the second (a group of 4 inputs is simply its 4 weights in order); a row's last word with a single pair
 *   has zero bytes 1 and 3;
 * - per channel: bias = folded bias (as tdnn_fully_connected_s8's) and mult (tdnn_fc_channel_t), and in a
 *   byte array of its own the right shift r = -shift >= 1; the kernel adds round = 2^(r-1) + out_offset * 2^r (tdnn_fc_round), out_offset being a layer constant.
 * The compiler only chooses it when |accumulator| * 2 < 2^30 and 1 <= r <= 22 for every
 * channel, so that requantization is one rounding high multiply, SMMULR((acc << 1), mult) = TFLM's
 * SaturatingRoundingDoublingHighMul, and (y + (y >> 31) + round) >> r = its RoundingDivideByPOT +
 * out_offset. */
#define TDNN_FC_PACKED_MAX_IN 32
typedef struct {
    int32_t bias;
    int32_t mult;
} tdnn_fc_channel_t;



/* Softmax over the last axis, int8 in, int8 out (scale 1/256, zero point -128).
 * exp_table[d] = TFLM's fixed-point exp (Q0.31) of the input difference -d, for d = 0..-diff_min;
 * differences below diff_min give 0, as in TFLM. The model compiler generates the table. */
void tdnn_softmax_s8(const int8_t *input, int32_t rows, int32_t row_size, const int32_t *exp_table,
                     int32_t diff_min, int8_t *output);

/* Same result without the table (saves up to 1 KB of flash): the fixed-point exp is evaluated per
 * element, as TFLM does. input_mult/input_left_shift/diff_min: TFLM's PreprocessSoftmaxScaling. */
void tdnn_softmax_s8_exp(const int8_t *input, int32_t rows, int32_t row_size, int32_t input_mult,
                         int32_t input_left_shift, int32_t diff_min, int8_t *output);

/* 2-D convolution, NHWC, batch 1, dilation 1 (Conv1D is the in_h = k_h = 1 case).
 * weights: [out_c][k_h][run] where a run is the k_w*in_c taps of one filter row, zero padded to a
 * multiple of 4 and stored in groups of four as (w0 w2 w1 w3), so that SXTB16 and SXTB16 ROR #8 yield
 * the pairs (w0,w1) and (w2,w3) that SMLAD multiplies with two int16 input pairs.
 * bias: bias + input_offset * sum(w) (the input zero point folded in). Padding is exact because the
 * padded border is filled with the input zero point, whose folded contribution is then zero.
 * pool_w = 2 fuses a following 1x2 / stride 2 max pool: requantization is monotonic, so the max of
 * two accumulators requantized once equals the max of the two requantized outputs. out_w is then
 * the pooled width; act_min/act_max already include the pool's clamp.
 * fast_requant = 1 (set by the compiler only when exact: every shift < 0, |accumulator| < 2^30, no
 * overflow in the rounding add) selects the SMMULR requantization (convolve_s8.c).
 * mean_fused = 1 fuses a following MEAN over all out_h*out_w positions: the output is then out_c
 * int8 means, computed from each channel's sum of int8 conv outputs exactly as tdnn_mean_s8 does
 * (mean_mult == 0: sum / count; else requant(sum - out_offset*count, mean_mult, mean_shift) + mean_out_zp). */
typedef struct {
    const int8_t *weights;
    const int32_t *bias;
    const int32_t *mult;
    const int8_t *shift;
    int32_t mean_mult;
    int16_t in_h, in_w, in_c;
    int16_t out_h, out_w, out_c;
    int16_t k_h, k_w, stride_h, stride_w;
    int16_t pad_top, pad_left, pool_w;
    int16_t input_zp, out_offset, act_min, act_max;
    int16_t mean_shift, mean_out_zp;
    uint8_t fast_requant, mean_fused;
} tdnn_conv_params;

/* int16 elements of scratch tdnn_convolve_s8 needs: two channels' unpacked weights (2*k_h*run), an 80-byte
 * row context (CTX_ELEMS = 40), then the zero-point padded input as int16, + 4. The scratch must be word aligned. */
int32_t tdnn_convolve_s8_scratch_size(const tdnn_conv_params *p);
/* @param p       layer parameters, in flash. Ranges: in_c, out_c, k_h, k_w, stride_h, stride_w >= 1;
 *                pool_w 1 or 2; 0 <= pad_top < k_h, 0 <= pad_left < k_w (TFLM SAME/VALID leading pads);
 *                bias, mult, shift have out_c entries, shift[c] >= -31 (QuantizeMultiplier);
 *                act_min <= act_max in [-128, 127]; fast_requant only where the compiler proved it exact;
 *                the padded row length ((conv_w - 1) * stride_w + k_w) * in_c must be even for every variant
 *                but `general`.
 * @param input   [in_h][in_w][in_c] int8, read only while it is copied to scratch (output may overlap it).
 * @param scratch tdnn_convolve_s8_scratch_size(p) int16 elements, word aligned, owned by the call.
 * @param output  [out_h][out_w][out_c] int8 (out_w after the fused pool); [out_c] when mean_fused.
 * Checked: tests/test_kernel_contracts.py (scratch size vs the compiler), tests/test_conv_variants_device.py
 * (every variant on the M4 against the portable path), tests/test_kernels_*.py (against TFLite Micro). */
void tdnn_convolve_s8(const tdnn_conv_params *p, const int8_t *input, int16_t *scratch, int8_t *output);
/* The same kernel per compile-time variant (the model compiler calls the one it needs, so unused ones
 * are not linked; compiler/ops/conv_2d.py conv_variant builds the name). tdnn_convolve_s8 makes the same
 * choice at run time. general: full requantization or an odd padded row length (any layer). Otherwise fast
 * requantization and: k1 = one filter row (k_h == 1, row assembly); pool = pool_w == 2; full = clamp
 * [-128, 127] (clamp = any other range); for k1 also mean = mean_fused, x1al/x1un = the second position of
 * a pair is word aligned or not (stride_w * in_c even or odd), relu = act_min >= out_offset (the
 * requantization's rounding correction for negative values is then clamped away); k1 needs
 * run / 4 <= TDNN_CONV_K1_MAX_GROUPS. quad (chosen before k1): four channels x one position per step, any
 * pool / MEAN, for k_h == 1, run (k_w * in_c rounded up to 4) a multiple of 8 and at most
 * 8 * TDNN_CONV_QUAD_MAX_CHUNKS, stride_w * in_c even or k_w * in_c % 4 != 0 (odd steps: a spare zero tap), out_c % 4 == 0, clamp [-128, 127] with out_offset -128 (RELU), MEAN over at most TDNN_CONV_PACK_MAX
 * outputs. */
#define TDNN_CONV_DECL(name) \
    void tdnn_convolve_s8_##name(const tdnn_conv_params *p, const int8_t *input, int16_t *scratch, int8_t *output);
#define TDNN_CONV_K1_DECL(name, pool, full, mean, alb, relu) TDNN_CONV_DECL(name)
/* 4-tap groups (run / 4) the k1 row assembly unrolls; longer runs use the k_h > 1 variants. */
#define TDNN_CONV_K1_MAX_GROUPS 8
/* Positions per output row the k1 variants' packed MEAN sums (MEAN with RELU) hold exactly. */
#define TDNN_CONV_PACK_MAX 255
/* 8-tap chunks (k_w * in_c / 8) the quad variant's MAC unrolls. */
#define TDNN_CONV_QUAD_MAX_CHUNKS 8
/* X(name, POOL, FULL, MEAN, ALB, RELU) for every k1 variant. */
#define TDNN_CONV_K1_VARIANTS(X) \
    X(k1_clamp_x1un, 0, 0, 0, 0, 0) \
    X(k1_clamp_x1un_relu, 0, 0, 0, 0, 1) \
    X(k1_clamp_x1al, 0, 0, 0, 1, 0) \
    X(k1_clamp_x1al_relu, 0, 0, 0, 1, 1) \
    X(k1_clamp_mean_x1un, 0, 0, 1, 0, 0) \
    X(k1_clamp_mean_x1un_relu, 0, 0, 1, 0, 1) \
    X(k1_clamp_mean_x1al, 0, 0, 1, 1, 0) \
    X(k1_clamp_mean_x1al_relu, 0, 0, 1, 1, 1) \
    X(k1_full_x1un, 0, 1, 0, 0, 0) \
    X(k1_full_x1un_relu, 0, 1, 0, 0, 1) \
    X(k1_full_x1al, 0, 1, 0, 1, 0) \
    X(k1_full_x1al_relu, 0, 1, 0, 1, 1) \
    X(k1_full_mean_x1un, 0, 1, 1, 0, 0) \
    X(k1_full_mean_x1un_relu, 0, 1, 1, 0, 1) \
    X(k1_full_mean_x1al, 0, 1, 1, 1, 0) \
    X(k1_full_mean_x1al_relu, 0, 1, 1, 1, 1) \
    X(k1_pool_clamp_x1un, 1, 0, 0, 0, 0) \
    X(k1_pool_clamp_x1un_relu, 1, 0, 0, 0, 1) \
    X(k1_pool_clamp_x1al, 1, 0, 0, 1, 0) \
    X(k1_pool_clamp_x1al_relu, 1, 0, 0, 1, 1) \
    X(k1_pool_clamp_mean_x1un, 1, 0, 1, 0, 0) \
    X(k1_pool_clamp_mean_x1un_relu, 1, 0, 1, 0, 1) \
    X(k1_pool_clamp_mean_x1al, 1, 0, 1, 1, 0) \
    X(k1_pool_clamp_mean_x1al_relu, 1, 0, 1, 1, 1) \
    X(k1_pool_full_x1un, 1, 1, 0, 0, 0) \
    X(k1_pool_full_x1un_relu, 1, 1, 0, 0, 1) \
    X(k1_pool_full_x1al, 1, 1, 0, 1, 0) \
    X(k1_pool_full_x1al_relu, 1, 1, 0, 1, 1) \
    X(k1_pool_full_mean_x1un, 1, 1, 1, 0, 0) \
    X(k1_pool_full_mean_x1un_relu, 1, 1, 1, 0, 1) \
    X(k1_pool_full_mean_x1al, 1, 1, 1, 1, 0) \
    X(k1_pool_full_mean_x1al_relu, 1, 1, 1, 1, 1)
TDNN_CONV_DECL(general)
TDNN_CONV_DECL(quad)
/* The quad variant with its weight streams in flash (compiler/ops/conv_2d.py flash_streams: the compiler emits
 * them as const data, quad_asm.inc's stream layout, one per channel quad in order; the row words hold the
 * padded input's row end in scratch and the stream's own address, link-time constants of the static arena).
 * Only for one output row (out_h == 1) and an even position step (stride_w * in_c): the scratch is the padded
 * input alone (tdnn_convolve_s8_quad_flash_scratch_size). The portable path ignores streams (general kernel). */
void tdnn_convolve_s8_quad_flash(const tdnn_conv_params *p, const uint32_t *streams, const int8_t *input,
                                 int16_t *scratch, int8_t *output);
int32_t tdnn_convolve_s8_quad_flash_scratch_size(const tdnn_conv_params *p);
TDNN_CONV_DECL(pool_full)
TDNN_CONV_DECL(pool_clamp)
TDNN_CONV_DECL(full)
TDNN_CONV_DECL(clamp)
TDNN_CONV_K1_VARIANTS(TDNN_CONV_K1_DECL)
#undef TDNN_CONV_K1_DECL
#undef TDNN_CONV_DECL

/* Depthwise 2-D convolution, NHWC, batch 1, dilation 1; weights [k_h][k_w][out_c] as in the .tflite,
 * out_c = in_c * depth_multiplier; bias raw (not folded: padded taps are skipped as in TFLM). */
typedef struct {
    const int8_t *weights;
    const int32_t *bias;
    const int32_t *mult;
    const int32_t *shift;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, depth_multiplier;
    int32_t k_h, k_w, stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t input_offset, out_offset, act_min, act_max;
} tdnn_dw_conv_params;

void tdnn_depthwise_conv_s8(const tdnn_dw_conv_params *p, const int8_t *input, int8_t *output);

/* Max / average pooling, NHWC, batch 1; padded positions are skipped (TFLM semantics). */
typedef struct {
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t k_h, k_w, stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t act_min, act_max;
} tdnn_pool_params;

void tdnn_max_pool_s8(const tdnn_pool_params *p, const int8_t *input, int8_t *output);
void tdnn_avg_pool_s8(const tdnn_pool_params *p, const int8_t *input, int8_t *output);

/* Mean over `count` spatial positions of `channels` interleaved channels (global average pooling).
 * mult == 0: input and output quantization are equal, TFLM divides the raw sum (truncating).
 * Otherwise TFLM's QuantizedMeanOrSum: requant(sum - input_zp * count, mult, shift) + out_zp, where
 * mult/shift already include the 1/count factor. */
void tdnn_mean_s8(const int8_t *input, int32_t count, int32_t channels, int32_t input_zp, int32_t mult,
                  int32_t shift, int32_t out_zp, int8_t *output);

/* Element-wise add of two same-shape tensors (TFLM: inputs shifted left by 20, rescaled, summed,
 * rescaled to the output). May run in place (output == input1 or input2). */
typedef struct {
    int32_t in1_offset, in1_mult, in1_shift;
    int32_t in2_offset, in2_mult, in2_shift;
    int32_t out_mult, out_shift, out_offset;
    int32_t act_min, act_max;
} tdnn_add_params;

void tdnn_add_s8(const tdnn_add_params *p, const int8_t *input1, const int8_t *input2, int32_t size,
                 int8_t *output);

/* Logistic (and any other int8 -> int8 function of one value): output = table[input + 128].
 * The compiler fills the table with TFLM's fixed-point logistic of all 256 inputs. In place is fine. */
void tdnn_logistic_s8(const int8_t *input, int32_t size, const int8_t *table, int8_t *output);

#endif /* TDNN_H */
