/* cycles.c - DWT cycle counter (ARMv7-M ARM, C1.8). */
#include "cycles.h"

void cycles_start(void)
{
    COREDEBUG_DEMCR |= DEMCR_TRCENA;   /* DWT is gated by the trace enable */
    DWT_CYCCNT = 0u;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
}
