/* cycles.h - DWT cycle counter for per-inference timing. */
#ifndef CYCLES_H
#define CYCLES_H

#include <stdint.h>
#include "stm32f407.h"

/* Enable trace (DEMCR.TRCENA), zero and start DWT_CYCCNT. */
void cycles_start(void);

/* Inline so the measurement adds one load, not a call. Wraps at 2^32:
 * callers subtract as uint32_t. */
static inline uint32_t cycles_now(void)
{
    return DWT_CYCCNT;
}

#endif /* CYCLES_H */
