/* leds.c - user LEDs on PD12 (green), PD13 (orange), PD14 (red), PD15 (blue). */
#include "leds.h"
#include "reg_init.h"

#define LED_FIRST_PIN 12u
#define LED_COUNT     4

static const reg_op_t leds_ops[] = {
    REG_FIELD(RCC_AHB1ENR, 3u, 1u, 1u),                                  /* GPIODEN (read back: on before use) */
    REG_WRITE(GPIO_BSRR(GPIOD_BASE), 0xFu, LED_FIRST_PIN + 16u),         /* all off first */
    REG_FIELD(GPIO_MODER(GPIOD_BASE), 2u * LED_FIRST_PIN, 8u, 0x55u),    /* PD12..PD15 outputs */
};

void leds_init(void)
{
    (void)REG_INIT(leds_ops);
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
