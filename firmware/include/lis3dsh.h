/* lis3dsh.h - LIS3DSH accelerometer on SPI1 (STM32F4 Discovery MB997D). */
#ifndef LIS3DSH_H
#define LIS3DSH_H

#include <stdint.h>

#define LIS3DSH_WHO_AM_I_VALUE 0x3Fu

/* Probe WHO_AM_I (at most 3 tries), configure the model's ODR / full scale (MODEL_SAMPLE_RATE_HZ,
 * MODEL_SENSOR_FS_G), the FIFO in stream mode and its watermark
 * (SENSOR_FIFO_WATERMARK) on INT1 (active high, a level while the FIFO holds at least that many samples).
 * 0 when present and configured, -1 otherwise. */
int lis3dsh_init(void);

/* Unread samples in the FIFO (FIFO_SRC.FSS; 32 on overrun), -1 on bus error. */
int lis3dsh_fifo_level(void);

/* Reads the n oldest FIFO samples in one transaction (OUT_X_L..OUT_Z_H, rolling over), each passed to
 * sink in order. 0 on success, -1 on bus error. */
int lis3dsh_read_fifo(uint32_t n, void (*sink)(const int16_t xyz[3]));

#endif /* LIS3DSH_H */
