/* lis2dw12.h - LIS2DW12 accelerometer on I2C1 (0x19, or 0x18 with SA0 low). */
#ifndef LIS2DW12_H
#define LIS2DW12_H

#include <stdint.h>

#define LIS2DW12_WHO_AM_I_VALUE 0x44u

/* Probe 0x19 then 0x18 (bounded), configure high-performance 14-bit mode at the model's rate and full
 * scale (MODEL_SAMPLE_RATE_HZ, MODEL_SENSOR_FS_G), the FIFO in continuous mode with its SENSOR_FIFO_WATERMARK threshold routed to INT1.
 * 0 when found and configured, -1 otherwise. */
int lis2dw12_init(void);

/* Unread samples in the FIFO (FIFO_SAMPLES.DIFF, 0..32), or -1 on bus error. */
int lis2dw12_fifo_level(void);

/* Read the oldest FIFO sample, OUT_X_L..OUT_Z_H (one 6-byte burst, auto-increment), and convert each axis to the model's
 * units (MODEL_SENSOR_LSB_UG per count, see to_model_counts in lis2dw12.c). 0, or -1 on bus error. */
int lis2dw12_read_xyz(int16_t xyz[3]);

#endif /* LIS2DW12_H */
