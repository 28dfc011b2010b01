/* systick.c - SysTick interrupt every 1/SYSTICK_HZ s (lowest priority of our interrupts). */
#include "systick.h"
#include "sensor.h"
#include "stm32f407.h"

static volatile uint32_t ticks;

void systick_init(uint32_t core_hz)
{
    SYST_CSR = 0u;
    SYST_RVR = core_hz / SYSTICK_HZ - 1u;
    SYST_CVR = 0u;
    SCB_SHPR3 = (SCB_SHPR3 & 0x00FFFFFFu) | (0xC0u << 24);   /* SysTick priority 0xC0 */
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

uint32_t systick_ticks(void) { return ticks; }

void SysTick_Handler(void)
{
    ticks++;
    sensor_tick();
}
