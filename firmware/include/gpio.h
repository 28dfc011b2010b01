/* gpio.h - tiny pin-configuration helpers shared by the drivers. */
#ifndef GPIO_H
#define GPIO_H

#include <stdint.h>
#include "stm32f407.h"

static inline void gpio_set_mode(uint32_t base, uint32_t pin, uint32_t mode)
{
    uint32_t v = GPIO_MODER(base);
    v &= ~(3u << (pin * 2u));
    v |= (mode & 3u) << (pin * 2u);
    GPIO_MODER(base) = v;
}

/* Speed 2 = "fast" (50 MHz): plenty for 5 MHz SPI and 115200 baud. */
static inline void gpio_set_speed(uint32_t base, uint32_t pin, uint32_t speed)
{
    uint32_t v = GPIO_OSPEEDR(base);
    v &= ~(3u << (pin * 2u));
    v |= (speed & 3u) << (pin * 2u);
    GPIO_OSPEEDR(base) = v;
}

static inline void gpio_set_pull(uint32_t base, uint32_t pin, uint32_t pull)
{
    uint32_t v = GPIO_PUPDR(base);
    v &= ~(3u << (pin * 2u));
    v |= (pull & 3u) << (pin * 2u);
    GPIO_PUPDR(base) = v;
}

/* Select alternate function af (0..15) and switch the pin to AF mode. */
static inline void gpio_set_af(uint32_t base, uint32_t pin, uint32_t af)
{
    if (pin < 8u) {
        uint32_t v = GPIO_AFRL(base);
        v &= ~(0xFu << (pin * 4u));
        v |= (af & 0xFu) << (pin * 4u);
        GPIO_AFRL(base) = v;
    } else {
        uint32_t v = GPIO_AFRH(base);
        v &= ~(0xFu << ((pin - 8u) * 4u));
        v |= (af & 0xFu) << ((pin - 8u) * 4u);
        GPIO_AFRH(base) = v;
    }
    gpio_set_mode(base, pin, GPIO_MODE_AF);
}

/* BSRR writes are atomic: no read-modify-write race on ODR. */
static inline void gpio_high(uint32_t base, uint32_t pin) { GPIO_BSRR(base) = 1u << pin; }
static inline void gpio_low(uint32_t base, uint32_t pin)  { GPIO_BSRR(base) = 1u << (pin + 16u); }

#endif /* GPIO_H */
