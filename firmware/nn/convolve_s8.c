/* Int8 2-D convolution, bit-exact with TFLM reference_integer_ops::ConvPerChannel, optionally fused
 * with the 1x2 max pool that follows it and/or with a global average pooling (MEAN) after it
 * (see tdnn.h).
 *
 * The input is first copied to int16 scratch with the padding made explicit (filled with the input
 * zero point: with the zero point folded into the bias, a padded tap then adds exactly nothing, as
 * TFLM's skipped tap does). Every filter row of every output position is then one contiguous run of
 * k_w*in_c int16 values. Weights stay int8 in flash, reordered at compile time (see tdnn.h).
 *
 * M4 path (CMSIS-NN arm_nn_mat_mult_kernel_s8_s16 structure, turned around): output channels are the
 * outer loop. The int8 weights of two channels are unpacked once into int16 scratch, interleaved per
 * group of four taps, so the inner loop is pure loads + SMLAD: per four taps of two positions x two
 * channels, two LDRD of input, two LDRD of weights, eight SMLAD. Requantization parameters stay in
 * registers along a channel pair, and a fused MEAN sums outputs instead of storing them.
 * One filter row (k_h == 1, every Conv1D): a whole output row of a channel pair is one assembly block
 * (row_asm: MAC loop, max pool, requantization, clamp, MEAN sum or store) so nothing spills per block,
 * with the weights unpacked doubled so SMLAD yields the 2 * acc that SMMULR takes. Every flag of the row
 * assembly is a compile-time constant of one extern variant (tdnn.h); the compiler calls the one whose
 * flags hold for the layer (the alignment flag must hold: LDRD faults on unaligned addresses on silicon).
 * The row assembly's MAC is unrolled for up to TDNN_CONV_K1_MAX_GROUPS 4-tap groups and entered by BX at
 * the point that leaves the layer's group count (no loop instructions, immediate offsets).
 * Quad variant (quad_asm.inc, chosen first where it applies: runs of whole 8-tap chunks, e.g. 15 taps run as 16,
 * odd position steps with a second weight stream one tap later, out_c % 4 == 0, full-range RELU):
 * four output channels x one position per step, one LDM of eight input taps feeding four channels' LDM + 4 SMLAD
 * (1.31 instructions per SMLAD), one shared assembly function whose store / MEAN / pool path is picked at run time.
 * After the copy the input is never read again, so the output may overlap the input. */
#include <string.h>

#include "tdnn.h"
#include "tdnn_math.h"

/* The kernel in parts (CMSIS-NN's one-job-per-file layout, kept one translation unit so that the compiler sees
 * the same code as before the split): geometry + buffer-size function, requantization, M4 helpers, padded
 * input copy, M4 SMLAD core, the assembly row variant, the M4 C paths and variants, then the run-time
 * dispatcher below and the portable path. */
#include "convolve/geometry.inc"

#include "convolve/requant.inc"

#include "convolve/dsp_helpers.inc"

#include "convolve/pad_input.inc"

#include "convolve/dsp_mac.inc"

#include "convolve/row_asm.inc"

#include "convolve/quad_asm.inc"

#include "convolve/dsp_conv.inc"

/* The quad variant's conditions beyond the geometry (fast requantization is checked by the caller). */
static int quad_ok(const tdnn_conv_params *p)
{
    return quad_geometry(p) && p->act_min == -128 && p->act_max == 127 && p->out_offset == -128 &&
           (!p->mean_fused || p->out_h * p->out_w <= TDNN_CONV_PACK_MAX);
}

typedef void (*conv_fn)(const tdnn_conv_params *, const int8_t *, int16_t *, int8_t *);

typedef struct {
    uint8_t pool, full, mean, alb, relu;
    conv_fn fn;
} k1_variant;

/* Run-time choice of the variant (the same choice as compiler/ops/conv_2d.py conv_variant). */
void tdnn_convolve_s8(const tdnn_conv_params *p, const int8_t *input, int16_t *scratch, int8_t *output)
{
#define TDNN_K1_ENTRY(name, POOL, FULL, MEAN, ALB, RELU) {POOL, FULL, MEAN, ALB, RELU, tdnn_convolve_s8_##name},
    static const k1_variant k1[] = {TDNN_CONV_K1_VARIANTS(TDNN_K1_ENTRY)};
#undef TDNN_K1_ENTRY
    const int full = p->act_min == -128 && p->act_max == 127;
    const int pool = p->pool_w == 2;
    if (!p->fast_requant || ((padded_w(p) * p->in_c) & 1)) {
        tdnn_convolve_s8_general(p, input, scratch, output); /* odd row lengths too: LDRD needs aligned rows */
    } else if (quad_ok(p)) {
        tdnn_convolve_s8_quad(p, input, scratch, output);
    } else if (p->k_h == 1 && (run_len(p) >> 2) <= TDNN_CONV_K1_MAX_GROUPS) {
        const int alb = ((p->stride_w * p->in_c) & 1) == 0;
        const int relu = p->act_min >= p->out_offset;
        if (p->mean_fused && relu && p->out_w > TDNN_CONV_PACK_MAX) {
            tdnn_convolve_s8_general(p, input, scratch, output); /* too wide for the packed MEAN sums */
            return;
        }
        for (uint32_t i = 0; i < sizeof k1 / sizeof k1[0]; i++) {
            if (k1[i].pool == pool && k1[i].full == full && k1[i].mean == p->mean_fused && k1[i].alb == alb &&
                k1[i].relu == relu) {
                k1[i].fn(p, input, scratch, output);
                return;
            }
        }
    } else if (pool) {
        (full ? tdnn_convolve_s8_pool_full : tdnn_convolve_s8_pool_clamp)(p, input, scratch, output);
    } else {
        (full ? tdnn_convolve_s8_full : tdnn_convolve_s8_clamp)(p, input, scratch, output);
    }
}

#include "convolve/portable.inc"
