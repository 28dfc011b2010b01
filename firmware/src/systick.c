/* systick.c - tickless SysTick (systick.h): HCLK/8, restarted by every batch of sensor data, so it only
 * fires when the sensor has been quiet for a tick (lowest priority of our interrupts). */
#include "systick.h"
#include "sensor.h"
#include "stm32f407.h"

#define SYST_MAX_COUNTS 0x1000000u   /* 24-bit reload + 1 */

static volatile uint32_t quiet_ticks;
static uint32_t timeout_ticks;
static uint32_t tick_ms;

void systick_init(uint32_t core_hz, uint32_t timeout_ms)
{
    uint32_t counts = (core_hz / 8000u) * timeout_ms;   /* HCLK/8 counts in the timeout */
    uint32_t n = counts / SYST_MAX_COUNTS + 1u;
    timeout_ticks = n;
    tick_ms = timeout_ms / n;
    SYST_CSR = 0u;
    SYST_RVR = counts / n - 1u;
    SYST_CVR = 0u;
    SCB_SHPR3 = (SCB_SHPR3 & 0x00FFFFFFu) | (0xC0u << 24);   /* SysTick priority 0xC0 */
    SYST_CSR = SYST_CSR_TICKINT | SYST_CSR_ENABLE;            /* CLKSOURCE=0: HCLK/8 */
}

void systick_restart(void)
{
    SYST_CVR = 0u;   /* any write clears the counter: it reloads on the next clock */
    quiet_ticks = 0u;
}

uint32_t systick_quiet_ticks(void) { return quiet_ticks; }
uint32_t systick_timeout_ticks(void) { return timeout_ticks; }
uint32_t systick_tick_ms(void) { return tick_ms; }

void SysTick_Handler(void)
{
    irq_disable();   /* EXTI0 (higher priority) restarts the count: no lost update */
    quiet_ticks++;
    irq_enable();
    sensor_tick();
}
