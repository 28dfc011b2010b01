/* cycles.h - DWT cycle counter for per-inference timing. */
#ifndef CYCLES_H
#define CYCLES_H

#include <stdint.h>
#include "stm32f407.h"

/* Enable trace (DEMCR.TRCENA), zero and start DWT_CYCCNT. Inline (once, at boot): not in cycles.c, which is
 * kept out of LTO, so it costs no call. */
static inline void cycles_start(void)
{
    COREDEBUG_DEMCR |= DEMCR_TRCENA;   /* DWT is gated by the trace enable */
    DWT_CYCCNT = 0u;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
}

/* Inline so the measurement adds one load, not a call. Wraps at 2^32:
 * callers subtract as uint32_t. */
static inline uint32_t cycles_now(void)
{
    return DWT_CYCCNT;
}

/* Interrupts the model can keep waiting (sensor data-ready, SysTick: priority 0x80 and below) are held off
 * around a timed inference, so `cycles=` counts the model alone and is the same on every board and emulator
 * (an interrupt landing inside the window would add its handler, at a point that differs between Renode and
 * the embedded board). USART2 (0x40) still preempts: its data register holds one byte. */
#define CYCLES_HOLD_PRIORITY 0x80u

static inline void cycles_hold_background(void)
{
    __asm volatile("msr basepri, %0\n\tisb" ::"r"(CYCLES_HOLD_PRIORITY) : "memory");
}

static inline void cycles_release_background(void)
{
    __asm volatile("msr basepri, %0" ::"r"(0u) : "memory");
}

/* model_invoke(input, output) with the background interrupts held off; returns its cycles (DWT_CYCCNT). */
uint32_t cycles_invoke(const int8_t *input, int8_t *output);

#endif /* CYCLES_H */
