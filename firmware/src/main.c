/*
 * main.c - boot, then loop forever: sample the accelerometer into a sliding
 * window, classify each full window, and serve the UART command channel.
 */
#include <stdint.h>
#include "cycles.h"
#include "window_features.h"
#include "leds.h"
#include "lis3dsh.h"
#include "model.h"
#include "protocol.h"
#include "spi.h"
#include "system_stm32f4.h"
#include "uart.h"

_Static_assert(MODEL_HOP > 0 && MODEL_HOP <= MODEL_WINDOW, "need 0 < MODEL_HOP <= MODEL_WINDOW");
_Static_assert(MODEL_NUM_CLASSES >= 1 && MODEL_NUM_CLASSES <= MODEL_OUTPUT_SIZE,
               "the first MODEL_NUM_CLASSES outputs are the class scores");

static int16_t window[MODEL_WINDOW * 3];   /* x,y,z interleaved, raw LSB */
static uint32_t window_fill;               /* samples currently held */
static int8_t input[MODEL_INPUT_SIZE];
static int8_t output[MODEL_OUTPUT_SIZE];
static uint32_t pred_seq;
static uint8_t sensor_ok;

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
    uint32_t c0 = cycles_now();
    model_invoke(input, output);
    uint32_t c1 = cycles_now();

    int best = 0;   /* first maximum wins on ties */
    for (int i = 1; i < MODEL_NUM_CLASSES; i++) {
        if (output[i] > output[best]) {
            best = i;
        }
    }
    leds_show_class(best);
    protocol_print_pred(pred_seq++, best, output[best], c1 - c0);

    window_slide();
}

/* Called every loop iteration when a sensor is present. */
static void poll_sensor(void)
{
    int16_t x, y, z;
    int ready = lis3dsh_data_ready();
    if (ready == 0) {
        return;
    }
    if (ready < 0 || lis3dsh_read_xyz(&x, &y, &z) != 0) {
        /* SPI timed out: report once and stop polling a dead bus. */
        uart_puts("ERR code=sensor_stopped\n");
        sensor_ok = 0u;
        leds_show_class(-1);
        return;
    }
    int16_t *s = &window[window_fill * 3u];
    s[0] = x;
    s[1] = y;
    s[2] = z;
    if (++window_fill == MODEL_WINDOW) {
        classify_window();
    }
}

int main(void)
{
    cycles_start();
    leds_init();
    uart_init();
    spi1_init();
    sensor_ok = (lis3dsh_init(MODEL_SENSOR_FS_G) == 0) ? 1u : 0u;

    protocol_init(sensor_ok);
    protocol_print_boot();
    if (system_clock_fell_back()) {
        uart_puts("ERR code=clock_fallback src=hsi\n");
    }
    if (!sensor_ok) {
        uart_puts("ERR code=no_sensor\n");
    }

    for (;;) {
        if (sensor_ok) {
            poll_sensor();
        }
        protocol_poll();   /* reads USART2 SR every iteration */
    }
}
