/* gpio.h - pin set/clear for the drivers (pin configuration is data: reg_init.h). */
#ifndef GPIO_H
#define GPIO_H

#include <stdint.h>
#include "stm32f407.h"

/* BSRR writes are atomic: no read-modify-write race on ODR. */
static inline void gpio_high(uint32_t base, uint32_t pin) { GPIO_BSRR(base) = 1u << pin; }
static inline void gpio_low(uint32_t base, uint32_t pin)  { GPIO_BSRR(base) = 1u << (pin + 16u); }

#endif /* GPIO_H */
