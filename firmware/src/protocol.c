/*
 * protocol.c - the UART command channel and report lines.
 *
 * Every output line ends with "\n" only. Commands: one per line; CR or LF ends a line, so CRLF (and
 * Renode's LF+CR) is one command plus an empty line, which is ignored. Trailing spaces/tabs are ignored.
 *   INFO          -> the BOOT line again
 *   INFER <hex>   -> OUT <hex output> cycles=<n>   (2*MODEL_INPUT_SIZE digits; any run of spaces/tabs
 *                    separates INFER from the hex)
 *   STREAM on     -> STREAM on lsb_ug=<n> odr_hz=<n>, then "S <n> <x> <y> <z>" per sample (model units)
 *   STREAM off    -> STREAM off samples=<n> dropped=<n>
 * Errors: ERR code=bad_length expected=<n> | bad_hex | bad_command | line_too_long
 * line_too_long is sent as soon as a line outgrows LINE_MAX (not at its end); the rest of that line, up to
 * the next CR/LF, is discarded without a second ERR.
 */
#include <stddef.h>
#include "protocol.h"
#include "uart.h"
#include "cycles.h"
#include "version.h"
#include "system_stm32f4.h"
#include "model.h"
#include "sensor.h"

/* 512 chars per the protocol, grown if a model's INFER line needs more. */
#define INFER_LINE_LEN (6u + 2u * (uint32_t)MODEL_INPUT_SIZE)
/* Room for the longest valid command; anything longer is answered with ERR code=line_too_long. */
#define LINE_MAX (INFER_LINE_LEN > 62u ? INFER_LINE_LEN + 2u : 64u)

/* Aligned: INFER decodes its hex in place and hands this buffer to the model. */
static char line[LINE_MAX] __attribute__((aligned(4)));
static uint32_t line_len;
static uint8_t discarding;      /* overflowed: drop bytes until the end of the line */
static const char *sensor = "sensor=none bus=-";
static int8_t infer_out[MODEL_OUTPUT_SIZE];
static uint8_t streaming;
static uint32_t stream_seq;          /* next sample number */
static uint32_t stream_drop_base;    /* sensor_dropped() at STREAM on */

void protocol_init(const char *sensor_fields)
{
    sensor = sensor_fields;
}

void protocol_print_boot(void)
{
    uart_printf("BOOT fw=%s model=%s %s clock_hz=%u\n", FW_VERSION, MODEL_NAME, sensor, system_core_clock_hz());
}

void protocol_print_pred(uint32_t seq, int cls, int8_t score, uint32_t cycles)
{
    uart_printf("PRED seq=%u class=%u label=%s score=%u cycles=%u\n", seq, (uint32_t)cls, model_labels[cls],
                (uint32_t)((int32_t)score + 128), cycles);
}

int protocol_streaming(void) { return streaming; }

void protocol_print_sample(const int16_t xyz[3])
{
    /* Samples the queue dropped since STREAM on still take a number: the host sees the gap. */
    uint32_t n = stream_seq + (sensor_dropped() - stream_drop_base);
    uart_printf("S %u %d %d %d\n", n, (int32_t)xyz[0], (int32_t)xyz[1], (int32_t)xyz[2]);
    stream_seq++;
}

static void cmd_stream(int on)
{
    if (on) {
        streaming = 1u;
        stream_seq = 0u;
        stream_drop_base = sensor_dropped();
        uart_printf("STREAM on lsb_ug=%u odr_hz=%u\n", (uint32_t)MODEL_SENSOR_LSB_UG, (uint32_t)MODEL_SAMPLE_RATE_HZ);
    } else {
        uint32_t dropped = sensor_dropped() - stream_drop_base;
        streaming = 0u;
        uart_printf("STREAM off samples=%u dropped=%u\n", stream_seq + dropped, dropped);
    }
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int hex_value(char c)
{
    uint32_t d = (uint32_t)c - '0';
    if (d < 10u) {
        return (int)d;
    }
    d = ((uint32_t)c | 0x20u) - 'a';   /* 'A'..'F' -> 'a'..'f' */
    return d < 6u ? (int)d + 10 : -1;
}

static void cmd_infer(uint32_t hex_off)
{
    const uint32_t want = 2u * (uint32_t)MODEL_INPUT_SIZE;
    while (hex_off < line_len && is_blank(line[hex_off])) {
        hex_off++;
    }
    if (line_len - hex_off != want) {
        uart_err("bad_length expected=%u\n", want);
        return;
    }
    /* Decode in place, one digit at a time (one copy of hex_value): byte i is written at line[i] after its
     * second digit, line[hex_off + 2i + 1], was read, so nothing unread is overwritten. */
    uint32_t byte = 0u;
    for (uint32_t i = 0; i < want; i++) {
        int d = hex_value(line[hex_off + i]);
        if (d < 0) {
            uart_err("bad_hex\n");
            return;
        }
        byte = (byte << 4) | (uint32_t)d;
        line[i >> 1] = (char)byte;   /* the first digit's write is overwritten by the second's */
    }
    uint32_t cycles = cycles_invoke((const int8_t *)(const void *)line, infer_out);

    uart_puts("OUT ");
    for (uint32_t i = 0; i < (uint32_t)MODEL_OUTPUT_SIZE; i++) {
        uart_put_hex8((uint8_t)infer_out[i]);
    }
    uart_printf(" cycles=%u\n", cycles);
}

/* The command names, NUL-separated, in the order of the CMD_ numbers. */
static const char commands[] = "INFO\0STREAM on\0STREAM off\0INFER";
enum { CMD_INFO, CMD_STREAM_ON, CMD_STREAM_OFF, CMD_INFER, CMD_COUNT };

static void handle_line(void)
{
    while (line_len > 0u && is_blank(line[line_len - 1u])) {
        line_len--;   /* tolerate trailing blanks from terminals */
    }
    if (line_len == 0u) {
        return;       /* empty line: nothing to do, not an error */
    }
    /* Which command: the whole line is its name, or (INFER, the last) its name and a blank. */
    const char *name = commands;
    uint32_t cmd = 0;
    for (; cmd < CMD_COUNT; cmd++) {
        uint32_t n = 0;
        while (name[n] != '\0' && n < line_len && line[n] == name[n]) {
            n++;
        }
        if (name[n] == '\0' && (n == line_len || (cmd == CMD_INFER && is_blank(line[n])))) {
            break;
        }
        while (name[n] != '\0') {
            n++;
        }
        name += n + 1u;
    }
    if (cmd == CMD_INFO) {
        protocol_print_boot();
    } else if (cmd == CMD_STREAM_ON || cmd == CMD_STREAM_OFF) {
        cmd_stream(cmd == CMD_STREAM_ON);
    } else if (cmd == CMD_INFER) {
        cmd_infer(5u);
    } else {
        uart_err("bad_command\n");
    }
}

static void rx_char(char c)
{
    /* CR or LF ends a line (Renode's WriteLineToUart sends CR only); the empty line of a CRLF is ignored. */
    if (c == '\n' || c == '\r') {
        if (!discarding) {
            handle_line();
        }
        discarding = 0u;
        line_len = 0u;
        return;
    }
    if (discarding) {
        return;
    }
    if (line_len >= LINE_MAX) {
        uart_err("line_too_long\n");
        discarding = 1u;
        line_len = 0u;
        return;
    }
    line[line_len++] = c;
}

void protocol_poll(void)
{
    int c;
    /* Bounded drain: at most one line's worth per call, so a flood of input
     * cannot starve the sensor pipeline. */
    for (uint32_t n = 0; n <= LINE_MAX && (c = uart_getc_nb()) >= 0; n++) {
        rx_char((char)c);
    }
}
