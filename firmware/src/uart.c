/*
 * uart.c - USART2 on PA2 (TX) / PA3 (RX), AF7, 115200 8N1.
 *
 * TX is polled with a bounded wait (a stuck TXE drops the byte instead of
 * hanging). RX is non-blocking: the main loop calls uart_getc_nb() on every
 * iteration, which also reads SR each time (the emulator uses that to see
 * that the firmware is idle).
 */
#include "uart.h"
#include "gpio.h"
#include "system_stm32f4.h"

#define UART_BAUD 115200u
#define UART_AF   7u

static uint8_t uart_up;

void uart_init(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    RCC_APB1ENR |= RCC_APB1ENR_USART2EN;
    (void)RCC_APB1ENR;

    gpio_set_speed(GPIOA_BASE, 2u, 2u);
    gpio_set_pull(GPIOA_BASE, 3u, 1u);    /* pull-up: idle-high line if RX floats */
    gpio_set_af(GPIOA_BASE, 2u, UART_AF);
    gpio_set_af(GPIOA_BASE, 3u, UART_AF);

    /* OVER8=0: USARTDIV = f / (16 * baud); BRR = mantissa<<4 | round(frac*16).
     * Computed as 16ths, rounded to nearest; a fraction rounding up to 16
     * carries into the mantissa by construction. */
    uint32_t f = system_apb1_hz();
    uint32_t div16 = (f + UART_BAUD / 2u) / UART_BAUD;
    uint32_t mantissa = div16 >> 4;
    uint32_t fraction = div16 & 0xFu;

    USART2_CR1 = 0u;                      /* UE=0 while configuring, OVER8=0, M=0 (8 bit) */
    USART2_CR2 = 0u;                      /* 1 stop bit */
    USART2_CR3 = 0u;                      /* no flow control */
    USART2_BRR = (mantissa << 4) | fraction;
    USART2_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
    uart_up = 1u;
}

int uart_is_up(void) { return uart_up; }

void uart_putc(char c)
{
    for (uint32_t i = 0; i < HW_WAIT_LOOPS; i++) {
        if (USART2_SR & USART_SR_TXE) {
            USART2_DR = (uint8_t)c;
            return;
        }
    }
    /* TXE never came: drop the byte rather than hang. */
}

void uart_puts(const char *s)
{
    while (*s != '\0') {
        uart_putc(*s++);
    }
}

void uart_put_u32(uint32_t v)
{
    char buf[10];
    uint32_t n = 0;
    do {
        buf[n++] = (char)('0' + (v % 10u));
        v /= 10u;
    } while (v != 0u);
    while (n > 0u) {
        uart_putc(buf[--n]);
    }
}

static const char hex_digits[] = "0123456789abcdef";

void uart_put_hex8(uint8_t v)
{
    uart_putc(hex_digits[v >> 4]);
    uart_putc(hex_digits[v & 0xFu]);
}

void uart_put_hex32(uint32_t v)
{
    for (int shift = 24; shift >= 0; shift -= 8) {
        uart_put_hex8((uint8_t)(v >> (uint32_t)shift));
    }
}

int uart_getc_nb(void)
{
    uint32_t sr = USART2_SR;
    if (sr & USART_SR_RXNE) {
        return (int)(USART2_DR & 0xFFu);  /* reading DR also clears ORE */
    }
    if (sr & USART_SR_ORE) {
        (void)USART2_DR;                  /* SR then DR read clears ORE */
    }
    return -1;
}

void uart_flush(void)
{
    for (uint32_t i = 0; i < HW_WAIT_LOOPS; i++) {
        if (USART2_SR & USART_SR_TC) {
            return;
        }
    }
}
