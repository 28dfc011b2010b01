/* system_stm32f4.h - clock tree bring-up (168 MHz from HSE, HSI fallback). */
#ifndef SYSTEM_STM32F4_H
#define SYSTEM_STM32F4_H

#include <stdint.h>

/* Called from Reset_Handler before main(); never hangs. */
void system_init(void);

uint32_t system_core_clock_hz(void);
uint32_t system_apb1_hz(void);
uint32_t system_apb2_hz(void);

/* Nonzero when HSE or the PLL did not come up and we stayed on HSI. */
int system_clock_fell_back(void);

#endif /* SYSTEM_STM32F4_H */
