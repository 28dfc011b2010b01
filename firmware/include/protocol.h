/* protocol.h - line-oriented UART protocol (BOOT/PRED/OUT/ERR, INFER/INFO). */
#ifndef PROTOCOL_H
#define PROTOCOL_H

#include <stdint.h>

/* Remember what the BOOT line reports (sensor=<name> bus=<bus>). */
void protocol_init(const char *sensor_name, const char *bus_name);

/* "BOOT fw=.. model=.. sensor=.. bus=.. clock_hz=..\n" */
void protocol_print_boot(void);

/* Drain the UART RX ring (at most one line per call), dispatch complete lines. */
void protocol_poll(void);

/* "PRED seq=.. class=.. label=.. score=.. cycles=..\n" */
void protocol_print_pred(uint32_t seq, int cls, int8_t score, uint32_t cycles);

#endif /* PROTOCOL_H */
