/* protocol.h - line-oriented UART protocol (BOOT/PRED/OUT/ERR/S, INFER/INFO/STREAM). */
#ifndef PROTOCOL_H
#define PROTOCOL_H

#include <stdint.h>

/* Remember what the BOOT line reports (sensor=<name> bus=<bus>). */
void protocol_init(const char *sensor_fields);   /* sensor_describe(): the BOOT line's sensor= bus= */

/* "BOOT fw=.. model=.. sensor=.. bus=.. clock_hz=..\n" */
void protocol_print_boot(void);

/* Drain the UART RX ring (at most one line per call), dispatch complete lines. */
void protocol_poll(void);

/* "PRED seq=.. class=.. label=.. score=.. cycles=..\n" */
void protocol_print_pred(uint32_t seq, int cls, int8_t score, uint32_t cycles);

/* STREAM on|off: raw samples on the UART for `tinyml-disco record`. */
int protocol_streaming(void);
/* "S <n> <x> <y> <z>\n": sample n since STREAM on (n skips the samples the queue dropped), model units. */
void protocol_print_sample(const int16_t xyz[3]);

#endif /* PROTOCOL_H */
