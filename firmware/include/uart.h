/* uart.h - USART2 on PA2/PA3, 115200 8N1, polled TX, interrupt-driven RX into a ring. */
#ifndef UART_H
#define UART_H

#include <stdint.h>

void uart_init(void);
int  uart_is_up(void);            /* nonzero once uart_init() ran */
void uart_putc(char c);
void uart_puts(const char *s);
void uart_put_hex8(uint8_t v);    /* two lowercase hex digits */
/* A line from a format: %u (uint32_t, decimal), %d (int32_t, decimal), %s (string), %x (uint32_t, eight
 * lowercase hex digits); every other character as is. One format string per line instead of a call per
 * piece keeps the report code small. */
void uart_printf(const char *fmt, ...);
/* uart_printf with "ERR code=" in front: the error lines of the protocol. */
void uart_err(const char *fmt, ...);
int  uart_getc_nb(void);          /* next received byte, or -1 if none */
int  uart_rx_pending(void);       /* nonzero when received bytes wait in the ring */
void uart_flush(void);            /* bounded wait for TC (before reset) */

#endif /* UART_H */
