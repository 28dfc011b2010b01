/* leds.c - user LEDs on PD12 (green), PD13 (orange), PD14 (red), PD15 (blue). */
#include "leds.h"
#include "gpio.h"

#define LED_FIRST_PIN 12u
#define LED_COUNT     4

void leds_init(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIODEN;
    (void)RCC_AHB1ENR;  /* read back: the clock must be on before GPIO access */
    GPIO_BSRR(GPIOD_BASE) = 0xFu << (LED_FIRST_PIN + 16u);  /* all off first */
    for (uint32_t i = 0; i < (uint32_t)LED_COUNT; i++) {
        gpio_set_mode(GPIOD_BASE, LED_FIRST_PIN + i, GPIO_MODE_OUTPUT);
    }
}

void leds_show_class(int cls)
{
    /* One BSRR write: reset all four, set at most one (set wins on conflict,
     * but we never request both for the same pin). */
    uint32_t reset = 0xFu << (LED_FIRST_PIN + 16u);
    uint32_t set = 0u;
    if (cls >= 0 && cls < LED_COUNT) {
        set = 1u << (LED_FIRST_PIN + (uint32_t)cls);
        reset &= ~(set << 16u);
    }
    GPIO_BSRR(GPIOD_BASE) = reset | set;
}
