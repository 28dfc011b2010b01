/*
 * lis3dsh.c - LIS3DSH accelerometer over SPI1 (datasheet DocID022405).
 *
 * Register address byte: bit 7 = read. With CTRL_REG6.ADD_INC the address
 * auto-increments, so one CS-low burst reads all six output bytes.
 *
 * Samples go through the sensor's 32-level FIFO in stream mode (CTRL_REG6.FIFO_EN, FIFO_CTRL FMODE=010:
 * the oldest is overwritten when full); INT1 rises when it holds SENSOR_FIFO_WATERMARK samples (WTM_EN,
 * FIFO_CTRL.WTMP, P1_WTM routes FIFO_SRC.WTM to INT1 as a level) and the reader takes the count from
 * FIFO_SRC.FSS: one interrupt per batch instead of per sample, as on the LIS2DW12. Reading OUT_X_L..OUT_Z_H
 * takes the oldest sample; with ADD_INC the address rolls back from OUT_Z_H to OUT_X_L while the FIFO is
 * enabled, so one CS-low burst reads a whole batch (6 bytes per sample).
 */
#include "lis3dsh.h"
#include "stm32f407.h"
#include "model.h"
#include "sensor.h"
#include "spi.h"

#define REG_WHO_AM_I  0x0Fu
#define REG_CTRL4     0x20u
#define REG_CTRL3     0x23u
#define REG_CTRL5     0x24u
#define REG_CTRL6     0x25u
#define REG_OUT_X_L   0x28u
#define REG_FIFO_CTRL 0x2Eu
#define REG_FIFO_SRC  0x2Fu
#define SPI_READ      0x80u

#define CTRL4_XYZ_BDU       0x0Fu  /* BDU=1, Z/Y/X enabled; ODR in bits 7:4 */
#define CTRL3_INT1          0x48u  /* IEA (active high) | INT1_EN; IEL=0: latched; DR_EN=0: FIFO flags only */
#define CTRL6_FIFO_WTM_INT1 0x74u  /* FIFO_EN | WTM_EN | ADD_INC | P1_WTM */
#define FIFO_MODE_STREAM    (2u << 5)
#define FIFO_SRC_OVRN       0x40u
#define FIFO_SRC_FSS        0x1Fu
#define FIFO_DEPTH          32
#define PROBE_TRIES         3u

/* One two-byte exchange with CS low: the address byte (bit 7 = read), then `data` (a write) or a dummy byte (a
 * read). The byte received second (the register's value on a read), or -1 on a bus timeout. */
static int exchange(uint8_t address, uint8_t data)
{
    spi1_select();
    int a = spi1_transfer(address);
    int v = spi1_transfer(data);
    spi1_deselect();
    return a < 0 ? -1 : v;
}

static int read_reg(uint8_t reg) { return exchange((uint8_t)(reg | SPI_READ), 0x00u); }

/* FSCALE (CTRL_REG5 bits 5:3): 2 g=000, 4 g=001, 6 g=010, 8 g=011, 16 g=100; -1: not offered. */
#define FSCALE_BITS(g) ((g) == 2 ? 0 : (g) == 4 ? 1 : (g) == 6 ? 2 : (g) == 8 ? 3 : (g) == 16 ? 4 : -1)
/* CTRL_REG4 ODR[3:0] for the integer rates the LIS3DSH offers; -1: not offered. */
#define ODR_BITS(hz) ((hz) == 25 ? 4 : (hz) == 50 ? 5 : (hz) == 100 ? 6 : (hz) == 400 ? 7 : (hz) == 800 ? 8 \
                      : (hz) == 1600 ? 9 : -1)
#define FS ((int)FSCALE_BITS(MODEL_SENSOR_FS_G))
#define ODR ((int)ODR_BITS(MODEL_SAMPLE_RATE_HZ))

/* The configuration, register by register, in this order: the FIFO, its watermark on INT1, the full scale,
 * INT1, then the ODR (which starts the sampling). */
static const uint8_t config[][2] VECTOR_GAP = {
    {REG_CTRL6, CTRL6_FIFO_WTM_INT1},
    {REG_FIFO_CTRL, (uint8_t)(FIFO_MODE_STREAM | SENSOR_FIFO_WATERMARK)},
    {REG_CTRL5, (uint8_t)((uint32_t)FS << 3)},
    {REG_CTRL3, CTRL3_INT1},
    {REG_CTRL4, (uint8_t)(((uint32_t)ODR << 4) | CTRL4_XYZ_BDU)},
};

int lis3dsh_init(void)
{
    if (FS < 0 || ODR < 0) {
        return -1;   /* the model's full scale or rate is not one the LIS3DSH offers */
    }
    /* Bounded probe: an absent device must not be polled forever (Renode
     * logs a warning per byte on an empty SPI bus). */
    uint32_t tries;
    for (tries = 0; tries < PROBE_TRIES; tries++) {
        if (read_reg(REG_WHO_AM_I) == (int)LIS3DSH_WHO_AM_I_VALUE) {
            break;
        }
    }
    if (tries == PROBE_TRIES) {
        return -1;
    }
    for (uint32_t i = 0; i < sizeof(config) / sizeof(config[0]); i++) {
        if (exchange(config[i][0], config[i][1]) < 0) {
            return -1;
        }
    }
    return 0;
}

int lis3dsh_fifo_level(void)
{
    int v = read_reg(REG_FIFO_SRC);
    if (v < 0) {
        return -1;
    }
    return (v & FIFO_SRC_OVRN) ? FIFO_DEPTH : (v & FIFO_SRC_FSS);
}

int lis3dsh_read_fifo(uint32_t n, void (*sink)(const int16_t xyz[3]))
{
    int err = 0;
    spi1_select();
    if (spi1_transfer(REG_OUT_X_L | SPI_READ) < 0) {
        err = 1;
    }
    for (uint32_t s = 0; s < n && !err; s++) {
        uint8_t b[6];
        for (uint32_t i = 0; i < 6u && !err; i++) {
            int v = spi1_transfer(0x00u);
            if (v < 0) {
                err = 1;
            } else {
                b[i] = (uint8_t)v;
            }
        }
        if (!err) {
            int16_t xyz[3];
            for (uint32_t i = 0; i < 3u; i++) {
                xyz[i] = (int16_t)(uint16_t)((uint32_t)b[2u * i] | ((uint32_t)b[2u * i + 1u] << 8));
            }
            sink(xyz);
        }
    }
    spi1_deselect();
    return err ? -1 : 0;
}
