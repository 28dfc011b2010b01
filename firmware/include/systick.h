/* systick.h - tickless SysTick: a sensor deadline, not a periodic tick.
 *
 * SysTick runs from HCLK/8 (CLKSOURCE=0) with a period of the sensor timeout split into the fewest equal
 * ticks that fit its 24-bit counter (one tick at 168 MHz for timeouts up to 0.79 s). sensor.c restarts it
 * whenever a batch of samples arrives, so while data flows it never fires: the core wakes only for the
 * sensor's FIFO watermark interrupts (and UART RX). It fires when the sensor has been quiet for a tick. */
#ifndef SYSTICK_H
#define SYSTICK_H

#include <stdint.h>

void systick_init(uint32_t core_hz, uint32_t timeout_ms);
void systick_restart(void);            /* data arrived: the deadline starts again, quiet ticks back to 0 */
uint32_t systick_quiet_ticks(void);    /* ticks expired since the last restart */
uint32_t systick_timeout_ticks(void);  /* ticks that make the timeout */
uint32_t systick_tick_ms(void);        /* milliseconds per tick */

#endif /* SYSTICK_H */
