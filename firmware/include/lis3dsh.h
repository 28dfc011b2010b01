/* lis3dsh.h - LIS3DSH accelerometer on SPI1 (STM32F4 Discovery MB997D). */
#ifndef LIS3DSH_H
#define LIS3DSH_H

#include <stdint.h>

#define LIS3DSH_WHO_AM_I_VALUE 0x3Fu

/* Probe WHO_AM_I (at most 3 tries) and configure ODR / full scale.
 * Returns 0 when the sensor is present and configured, -1 otherwise. */
int lis3dsh_init(uint32_t full_scale_g);

/* Returns 1 if a new XYZ sample is ready, 0 if not, -1 on bus error. */
int lis3dsh_data_ready(void);

/* Reads OUT_X_L..OUT_Z_H in one transaction. 0 on success, -1 on bus error. */
int lis3dsh_read_xyz(int16_t *x, int16_t *y, int16_t *z);

#endif /* LIS3DSH_H */
