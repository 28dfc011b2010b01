/* cycles.c - the one timed model_invoke (DWT cycle counter, ARMv7-M ARM C1.8; cycles_start is in cycles.h).
 *
 * Not link-time optimized (Makefile LTO_EXCLUDE): LTO would inline cycles_invoke into its callers and could
 * move the DWT reads relative to the call (a cycle or so on cycles=). Kept out of LTO, the bracket is the same
 * code for PRED (main.c) and INFER (protocol.c), and the rest of the platform code is LTO'd. */
#include "cycles.h"
#include "model.h"

uint32_t cycles_invoke(const int8_t *input, int8_t *output)
{
    cycles_hold_background();
    uint32_t c0 = cycles_now();
    model_invoke(input, output);
    uint32_t c1 = cycles_now();
    cycles_release_background();
    return c1 - c0;
}
