/*
 * lis2dw12.c - LIS2DW12 over I2C1 (ST datasheet DS12204).
 *
 * High-performance mode: 14-bit samples, left-justified in OUT_x_L/H (raw16 >> 2 = count), sensitivity
 * 0.244 mg per count at +-2 g, doubling per range (0.976 mg at +-8 g). The model was trained on LIS3DSH
 * counts of MODEL_SENSOR_LSB_UG (240 ug at +-8 g), so each count is rescaled by 976/240 (exactly
 * 61/15) to those units; the result saturates at int16 like the LIS3DSH output would.
 *
 * Samples go through the sensor's 32-level FIFO in continuous mode; INT1 rises when it holds
 * SENSOR_FIFO_WATERMARK samples (INT1_FTH), and the reader takes the count from FIFO_SAMPLES.DIFF. One
 * interrupt per batch instead of per sample, and every sample is read exactly once: that also holds on
 * Renode 1.15.3, whose LIS2DW12 drives a data-ready INT1 as a level whenever the ODR is set (it cannot
 * mark new samples) but counts its FIFO faithfully. Each sample is read with its own 6-byte transfer:
 * address roll-over from OUT_Z_H back to OUT_X_L is not modelled there in continuous mode.
 */
#include <arm_acle.h>
#include "lis2dw12.h"
#include "i2c.h"
#include "model.h"
#include "sensor.h"

#define REG_WHO_AM_I   0x0Fu
#define REG_CTRL1      0x20u
#define REG_CTRL2      0x21u
#define REG_CTRL4_INT1 0x23u
#define REG_CTRL6      0x25u
#define REG_OUT_X_L    0x28u
#define REG_FIFO_CTRL  0x2Eu
#define REG_FIFO_SAMPLES 0x2Fu
#define CTRL1_MODE_HP  (1u << 2)
/* IF_ADD_INC only: no BDU, which matters for reads racing a new sample; these reads come from the FIFO. */
#define CTRL2_IF_ADD_INC 0x04u
#define CTRL4_INT1_FTH 0x02u
#define FIFO_MODE_CONTINUOUS (6u << 5)
#define FIFO_DIFF_MASK 0x3Fu
#define PROBE_TRIES    2u

static uint8_t address;

/* CTRL1 ODR codes and CTRL6 FS codes; -1: not offered. */
#define ODR_CODE(hz) ((hz) == 25 ? 3 : (hz) == 50 ? 4 : (hz) == 100 ? 5 : (hz) == 200 ? 6 : (hz) == 400 ? 7 \
                      : (hz) == 800 ? 8 : (hz) == 1600 ? 9 : -1)
#define FS_CODE(g) ((g) == 2 ? 0 : (g) == 4 ? 1 : (g) == 8 ? 2 : (g) == 16 ? 3 : -1)
#define ODR ((int)ODR_CODE(MODEL_SAMPLE_RATE_HZ))
#define FS ((int)FS_CODE(MODEL_SENSOR_FS_G))

/* The configuration, register by register, in this order (the ODR last: it starts the sampling). */
static const uint8_t config[][2] = {
    {REG_CTRL2, CTRL2_IF_ADD_INC},
    {REG_CTRL6, (uint8_t)((uint32_t)FS << 4)},
    {REG_FIFO_CTRL, (uint8_t)(FIFO_MODE_CONTINUOUS | SENSOR_FIFO_WATERMARK)},
    {REG_CTRL4_INT1, CTRL4_INT1_FTH},
    {REG_CTRL1, (uint8_t)(((uint32_t)ODR << 4) | CTRL1_MODE_HP)},
};

int lis2dw12_init(void)
{
    static const uint8_t candidates[2] = {0x19u, 0x18u};
    if (ODR < 0 || FS < 0) {
        return -1;   /* the model's rate or full scale is not one the LIS2DW12 offers */
    }
    address = 0u;
    /* PROBE_TRIES reads of WHO_AM_I per candidate address, in that order (one loop: GCC would unroll two) */
    for (uint32_t a = 0; a < 2u * PROBE_TRIES && address == 0u; a++) {
        const uint8_t candidate = candidates[a / PROBE_TRIES];
        uint8_t id = 0u;
        if (i2c1_read_reg(candidate, REG_WHO_AM_I, &id, 1u) == 0 && id == LIS2DW12_WHO_AM_I_VALUE) {
            address = candidate;
        }
    }
    if (address == 0u) {
        return -1;
    }
    for (uint32_t i = 0; i < sizeof(config) / sizeof(config[0]); i++) {
        if (i2c1_write_reg(address, config[i][0], &config[i][1], 1u) != 0) {
            return -1;
        }
    }
    return 0;
}

int lis2dw12_fifo_level(void)
{
    uint8_t v = 0u;
    if (i2c1_read_reg(address, REG_FIFO_SAMPLES, &v, 1u) != 0) {
        return -1;
    }
    return (int)(v & FIFO_DIFF_MASK);
}

/* 14-bit count at the model's full scale (MODEL_SENSOR_FS_G) -> model counts of MODEL_SENSOR_LSB_UG, rounded half
 * away from zero, saturated to int16 (sim/periph/lis2dw12.py firmware_counts is its twin). */
static int16_t to_model_counts(int32_t raw14)
{
    const int32_t num = 122 * (int32_t)MODEL_SENSOR_FS_G;   /* ug per count: 244 * fs / 2 */
    const int32_t den = (int32_t)MODEL_SENSOR_LSB_UG;
    /* rounded half away from zero: C's division truncates toward zero, so -((|x| num + den/2) / den) for x < 0 */
    return (int16_t)__ssat((raw14 * num + (raw14 < 0 ? -(den / 2) : den / 2)) / den, 16);
}

int lis2dw12_read_xyz(int16_t xyz[3])
{
    uint8_t b[6];
    if (i2c1_read_reg(address, REG_OUT_X_L, b, 6u) != 0) {
        return -1;
    }
    for (uint32_t i = 0; i < 3u; i++) {
        int16_t raw16 = (int16_t)(uint16_t)((uint32_t)b[2u * i] | ((uint32_t)b[2u * i + 1u] << 8));
        xyz[i] = to_model_counts((int32_t)raw16 >> 2);
    }
    return 0;
}
