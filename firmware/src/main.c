/*
 * main.c - boot, then loop forever: sleep in WFI until an interrupt (sensor
 * FIFO watermark on EXTI0, UART RX, the SysTick sensor deadline) has left work, then move samples into
 * the sliding window, classify each full window, serve the UART command
 * channel and watch for a sensor that stopped producing data.
 */
#include <stdint.h>
#include "cycles.h"
#include "window_features.h"
#include "leds.h"
#include "model.h"
#include "protocol.h"
#include "sensor.h"
#include "stm32f407.h"
#include "system_stm32f4.h"
#include "systick.h"
#include "uart.h"

/* No data for sensor_timeout_periods() sample periods = it stopped (the SysTick deadline, systick.h). */
static uint32_t timeout_ms(void)
{
    return (sensor_timeout_periods() * 1000u + MODEL_SAMPLE_RATE_HZ - 1u) / MODEL_SAMPLE_RATE_HZ;
}

_Static_assert(MODEL_HOP > 0 && MODEL_HOP <= MODEL_WINDOW, "need 0 < MODEL_HOP <= MODEL_WINDOW");
_Static_assert(MODEL_NUM_CLASSES >= 1 && MODEL_NUM_CLASSES <= MODEL_OUTPUT_SIZE,
               "the first MODEL_NUM_CLASSES outputs are the class scores");

static int16_t window[MODEL_WINDOW * 3];   /* x,y,z interleaved, raw LSB */
static uint32_t window_fill;               /* samples currently held */
static int8_t input[MODEL_INPUT_SIZE];
static int8_t output[MODEL_OUTPUT_SIZE];
static uint32_t pred_seq;
static uint8_t sensor_ok;
static uint8_t timed_out;
static uint8_t bus_reported;

/* Drop the oldest MODEL_HOP samples, keep the overlapping tail, if any.
 * A plain forward loop is a correct memmove here (destination is below the
 * source); kept as a loop so newlib's memmove/memcpy stay out of flash. */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
static void window_slide(void)
{
#if MODEL_HOP < MODEL_WINDOW   /* hop == window: nothing to keep */
    for (uint32_t i = 0; i < (uint32_t)(MODEL_WINDOW - MODEL_HOP) * 3u; i++) {
        window[i] = window[i + (uint32_t)MODEL_HOP * 3u];
    }
#endif
    window_fill = MODEL_WINDOW - MODEL_HOP;
}

static void classify_window(void)
{
    features_compute(window, input);
    uint32_t cycles = cycles_invoke(input, output);

    int best = 0;   /* first maximum wins on ties */
#pragma GCC unroll 1   /* a loop, not MODEL_NUM_CLASSES - 1 copies */
    for (int i = 1; i < MODEL_NUM_CLASSES; i++) {
        if (output[i] > output[best]) {
            best = i;
        }
    }
    leds_show_class(best);
    protocol_print_pred(pred_seq++, best, output[best], cycles);

    window_slide();
}

static void take_samples(void)
{
    int16_t xyz[3];
    while (sensor_pop(xyz)) {
        timed_out = 0u;   /* data is back */
        if (protocol_streaming()) {
            protocol_print_sample(xyz);
        }
        int16_t *s = &window[window_fill * 3u];
        s[0] = xyz[0];
        s[1] = xyz[1];
        s[2] = xyz[2];
        if (++window_fill == MODEL_WINDOW) {
            classify_window();
        }
    }
}

static void watch_sensor(void)
{
    if (sensor_bus_failed() && !bus_reported) {
        uart_err("sensor_stopped\n");   /* a bus transfer failed in the data-ready handler */
        bus_reported = 1u;
    }
    uint32_t quiet = systick_quiet_ticks();
    if (!timed_out && quiet >= systick_timeout_ticks()) {
        uart_err("sensor_timeout ms=%u\n", quiet * systick_tick_ms());
        timed_out = 1u;
        window_fill = 0u;   /* a window with a gap is not a gesture */
        sensor_discard();
        leds_show_class(-1);
    }
}

int main(void)
{
    cycles_start();
#if defined(MODEL_HAS_INIT)
    model_init();   /* runtimes that set up at boot (TFLite Micro: AllocateTensors) */
#endif
    leds_init();
    uart_init();
    systick_init(system_core_clock_hz(), timeout_ms());
    sensor_ok = (uint8_t)sensor_init();

    protocol_init(sensor_describe());
    protocol_print_boot();
    if (system_clock_fell_back()) {
        uart_err("clock_fallback src=hsi\n");
    }
    if (!sensor_ok) {
        uart_err("no_sensor\n");
    }

    for (;;) {
        /* Check for work with interrupts masked so a wake-up cannot slip in between the check and
         * WFI; WFI still wakes on a pending interrupt, whose handler runs at cpsie. */
        irq_disable();
        if (!sensor_pending() && !uart_rx_pending()) {
            cpu_wfi();
        }
        irq_enable();
        if (sensor_ok) {
            take_samples();
            sensor_resume();
            watch_sensor();
        }
        protocol_poll();
    }
}
