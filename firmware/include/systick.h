/* systick.h - SysTick time base: SYSTICK_HZ interrupts per second from the core clock. */
#ifndef SYSTICK_H
#define SYSTICK_H

#include <stdint.h>

/* 100 Hz: fine enough to time a 5-sample-period sensor timeout at 100 Hz ODR, and every tick wakes the
 * core, so a slower tick means a lower CPU load. */
#define SYSTICK_HZ 100u

void systick_init(uint32_t core_hz);
uint32_t systick_ticks(void);   /* ticks since systick_init, wraps at 2^32 */

#endif /* SYSTICK_H */
