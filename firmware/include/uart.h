/* uart.h - USART2 on PA2/PA3, 115200 8N1, polled TX, interrupt-driven RX into a ring. */
#ifndef UART_H
#define UART_H

#include <stdint.h>

void uart_init(void);
int  uart_is_up(void);            /* nonzero once uart_init() ran */
void uart_putc(char c);
void uart_puts(const char *s);
void uart_put_u32(uint32_t v);    /* decimal */
void uart_put_hex8(uint8_t v);    /* two lowercase hex digits */
void uart_put_hex32(uint32_t v);  /* eight lowercase hex digits */
int  uart_getc_nb(void);          /* next received byte, or -1 if none */
int  uart_rx_pending(void);       /* nonzero when received bytes wait in the ring */
void uart_flush(void);            /* bounded wait for TC (before reset) */

#endif /* UART_H */
