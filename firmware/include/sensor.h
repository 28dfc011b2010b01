/* sensor.h - the accelerometer, whichever is fitted: probe, interrupt-driven sampling, timeout. */
#ifndef SENSOR_H
#define SENSOR_H

#include <stdint.h>
#include "model.h"

/* Samples per FIFO watermark interrupt (both sensors): the largest power of two up to 16
 * that divides both the window and the hop, so every window completes on a whole batch. */
#define SENSOR_FIFO_BATCH_FITS(n) (MODEL_WINDOW % (n) == 0 && MODEL_HOP % (n) == 0)
#define SENSOR_FIFO_WATERMARK \
    (SENSOR_FIFO_BATCH_FITS(16) ? 16u : SENSOR_FIFO_BATCH_FITS(8) ? 8u : SENSOR_FIFO_BATCH_FITS(4) ? 4u \
     : SENSOR_FIFO_BATCH_FITS(2) ? 2u : 1u)

/* Probe SPI1 (LIS3DSH) then I2C1 (LIS2DW12 at 0x19, 0x18), each bounded; configure the model's full
 * scale and sample rate; arm INT1 (PE0) -> EXTI0. Returns 1 when a sensor was found. */
int sensor_init(void);

/* The BOOT line's sensor fields: "sensor=LIS3DSH bus=spi1", "sensor=LIS2DW12 bus=i2c1" or "sensor=none bus=-". */
const char *sensor_describe(void);

/* Next sample in the model's units (MODEL_SENSOR_LSB_UG per count): 1, or 0 when none is waiting. */
int sensor_pop(int16_t xyz[3]);
int sensor_pending(void);        /* samples waiting */
uint32_t sensor_dropped(void);   /* samples lost because the queue was full */
int sensor_bus_failed(void);     /* a read of the sensor failed on the bus */
/* Sample periods without data after which the sensor counts as stopped: 5 plus a FIFO batch. */
uint32_t sensor_timeout_periods(void);

/* From the main loop: if the handler left samples in the FIFO for want of queue room and the queue has
 * drained, trigger EXTI0 by software to fetch them (no new INT1 edge comes while the level stays high). */
void sensor_resume(void);

/* From the SysTick handler (the sensor deadline): if INT1 is high although its edge was handled (a missed
 * edge, or a sensor model that drives a level), trigger EXTI0 by software so the FIFO is read. */
void sensor_tick(void);

/* At a timeout: drop the samples below the watermark still in the FIFO (the tail of the last window, which
 * the timeout drops), so a window after the outage starts with new data and on a whole batch. */
void sensor_discard(void);

#endif /* SENSOR_H */
