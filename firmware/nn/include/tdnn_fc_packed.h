/* Int8 fully connected for small layers (the mlp's 6 -> 16 and 16 -> 4), bit-exact with TFLM
 * reference_integer_ops::FullyConnected(PerChannel); tdnn.h has the packed layout and the conditions.
 * The body is a forced-inline function so that the model compiler can instantiate it per layer with
 * the shape as constants (model.c: one noinline function per layer): the loops over pairs unroll, the
 * unpacked input stays in registers. (A header, not a .c file: the kernel has no run-time-shape entry.)
 * The input is unpacked once into int16 pairs; the weights stay int8, four to a word in the order SXTB16 and
 * SXTB16 ROR #8 turn into the input's pairs (tdnn.h), and requantization is one SMMULR of the doubled
 * accumulator, one add of the rounding with the output zero point folded in (from the layer's zero point and
 * the channel's shift) and the sign correction, and one shift. */
#ifndef TDNN_FC_PACKED_H
#define TDNN_FC_PACKED_H

#include <stdint.h>
#include <string.h>

#include "tdnn.h"
#include "tdnn_math.h"

/* 2^(r-1) + out_offset * 2^r: the rounding of the right shift by r with the output zero point folded in. */
static inline int32_t tdnn_fc_round(int32_t out_offset, int32_t r)
{
    return (int32_t)((uint32_t)(2 * out_offset + 1) << (r - 1));
}

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>

/* SSAT to int8, then only the bounds the activation narrows (constants in an instantiated layer). */
static inline int8_t tdnn_fc_clamp_s8(int32_t v, int32_t act_min, int32_t act_max)
{
    v = __ssat(v, 8);
    if (act_min > -128) {
        v = tdnn_max_i32(v, act_min);
    }
    if (act_max < 127) {
        v = tdnn_min_i32(v, act_max);
    }
    return (int8_t)v;
}

static inline uint32_t tdnn_fc_pair(int32_t lo, int32_t hi) { return (uint32_t)(uint16_t)lo | ((uint32_t)hi << 16); }


/* Cortex-M4 path: one SMLAD per weight pair; with a constant shape the pair loop unrolls completely and
 * the unpacked input stays in registers. */
static inline __attribute__((always_inline)) void tdnn_fc_packed_body(
    const int8_t *input, const int32_t *weights, const tdnn_fc_channel_t *channels, const uint8_t *shifts,
    int32_t in_features, int32_t out_features, int32_t out_offset, int32_t act_min, int32_t act_max, int8_t *output)
{
    uint32_t x[TDNN_FC_PACKED_MAX_IN / 2];
    int32_t k = 0;
    int32_t i = 0;
#pragma GCC unroll 8
    for (; i + 4 <= in_features; i += 4) {
        const uint32_t v = tdnn_read_u32(input + i);
        x[k++] = __sxtb16(v);
        x[k++] = tdnn_sxtb16_ror8(v);
    }
    const int32_t rem = in_features - i;
    if (rem == 1) {
        x[k++] = tdnn_fc_pair(input[i], 0);
    } else if (rem == 2) {
        x[k++] = tdnn_fc_pair(input[i], input[i + 1]);
    } else if (rem == 3) {
        x[k++] = tdnn_fc_pair(input[i], input[i + 1]);
        x[k++] = tdnn_fc_pair(input[i + 2], 0);
    }
    const int32_t *w = weights;
    for (int32_t o = 0; o < out_features; o++) {
        const tdnn_fc_channel_t *c = &channels[o];
        int32_t acc = c->bias;
#pragma GCC unroll 16
        for (int32_t j = 0; j < k; j += 2) {
            const uint32_t v = (uint32_t)*w++;   /* four int8 weights: pairs j (bytes 0, 2) and j + 1 (bytes 1, 3) */
            acc = __smlad((int16x2_t)x[j], (int16x2_t)__sxtb16(v), acc);
            if (j + 1 < k) {
                acc = __smlad((int16x2_t)x[j + 1], (int16x2_t)tdnn_sxtb16_ror8(v), acc);
            }
        }
        const int32_t y = tdnn_smmulr((int32_t)((uint32_t)acc << 1), c->mult);
        const int32_t r = shifts[o];
        output[o] = tdnn_fc_clamp_s8((y + (y >> 31) + tdnn_fc_round(out_offset, r)) >> r, act_min, act_max);
    }
}

#else /* portable C path */

static inline int8_t tdnn_fc_clamp_s8(int32_t v, int32_t act_min, int32_t act_max)
{
    v = tdnn_max_i32(v, act_min);
    v = tdnn_min_i32(v, act_max);
    return (int8_t)v;
}

static inline __attribute__((always_inline)) void tdnn_fc_packed_body(
    const int8_t *input, const int32_t *weights, const tdnn_fc_channel_t *channels, const uint8_t *shifts,
    int32_t in_features, int32_t out_features, int32_t out_offset, int32_t act_min, int32_t act_max, int8_t *output)
{
    int16_t x[TDNN_FC_PACKED_MAX_IN + 4];
    int32_t n = 0;
    int32_t i = 0;
    for (; i + 4 <= in_features; i += 4) {
        x[n++] = input[i];
        x[n++] = input[i + 2];
        x[n++] = input[i + 1];
        x[n++] = input[i + 3];
    }
    const int32_t rem = in_features - i; /* the tail in order, padded with a zero lane to a whole pair */
    if (rem > 0) {
        x[n++] = input[i];
        x[n++] = rem > 1 ? input[i + 1] : 0;
    }
    if (rem > 2) {
        x[n++] = input[i + 2];
        x[n++] = 0;
    }
    if (n % 4 != 0) {   /* a last word holds one pair: its other lanes are zero weights */
        x[n] = 0;
        x[n + 1] = 0;
    }
    const int32_t words = (n + 3) / 4;
    for (int32_t o = 0; o < out_features; o++) {
        const int32_t *w = weights + o * words;
        int32_t acc = channels[o].bias;
        for (int32_t j = 0; j < words; j++) {
            const uint32_t v = (uint32_t)w[j];   /* bytes 0, 2: pair 2j; bytes 1, 3: pair 2j + 1 */
            acc += (int32_t)x[4 * j] * (int32_t)(int8_t)(v & 0xFFu);
            acc += (int32_t)x[4 * j + 1] * (int32_t)(int8_t)((v >> 16) & 0xFFu);
            acc += (int32_t)x[4 * j + 2] * (int32_t)(int8_t)((v >> 8) & 0xFFu);
            acc += (int32_t)x[4 * j + 3] * (int32_t)(int8_t)(v >> 24);
        }
        const int32_t y = (int32_t)(((int64_t)acc * 2 * channels[o].mult + (1LL << 31)) >> 32);
        const int32_t r = shifts[o];
        output[o] = tdnn_fc_clamp_s8((y + (y >> 31) + tdnn_fc_round(out_offset, r)) >> r, act_min, act_max);
    }
}

#endif /* __ARM_FEATURE_DSP */

#endif /* TDNN_FC_PACKED_H */
