/* protocol.h - line-oriented UART protocol (BOOT/PRED/OUT/ERR, INFER/INFO). */
#ifndef PROTOCOL_H
#define PROTOCOL_H

#include <stdint.h>

/* Remember what the BOOT line reports; sensor_present selects LIS3DSH/spi1. */
void protocol_init(int sensor_present);

/* "BOOT fw=.. model=.. sensor=.. bus=.. clock_hz=..\n" */
void protocol_print_boot(void);

/* Drain USART2 RX (reads SR at least once), dispatch complete lines. */
void protocol_poll(void);

/* "PRED seq=.. class=.. label=.. score=.. cycles=..\n" */
void protocol_print_pred(uint32_t seq, int cls, int8_t score, uint32_t cycles);

#endif /* PROTOCOL_H */
