/* i2c.h - I2C1 master (PB6 SCL, PB9 SDA, AF4, 400 kHz), polled, every wait bounded. */
#ifndef I2C_H
#define I2C_H

#include <stdint.h>

void i2c1_init(void);
/* Write `reg` then `n` bytes to 7-bit address `addr`. 0, or -1 on NACK / timeout. */
int i2c1_write_reg(uint8_t addr, uint8_t reg, const uint8_t *buf, uint32_t n);
/* Write `reg`, repeated START, read `n` bytes: n == 1 or n >= 3 (0 and 2 are not supported: -1).
 * 0, or -1 on NACK / timeout. */
int i2c1_read_reg(uint8_t addr, uint8_t reg, uint8_t *buf, uint32_t n);

#endif /* I2C_H */
