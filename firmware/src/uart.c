/*
 * uart.c - USART2 on PA2 (TX) / PA3 (RX), AF7, 115200 8N1.
 *
 * TX is polled with a bounded wait (a stuck TXE drops the byte instead of
 * hanging). RX is interrupt-driven: the USART2 handler (RXNE) moves bytes into
 * a ring that uart_getc_nb() drains from the main loop. When the ring is full
 * the handler masks RXNEIE (the byte stays in DR) and uart_getc_nb() unmasks it
 * once there is room again, so a burst never loses bytes inside the MCU.
 */
#include <stdarg.h>
#include "uart.h"
#include "reg_init.h"
#include "system_stm32f4.h"

#define UART_BAUD 115200u
#define UART_AF   7u

/* Power of two. Holds ~11 ms of input at 115200 baud: longer than a PRED line takes to send (~5 ms),
 * during which the main loop does not drain it. */
#define RX_RING_LEN 128u

static uint8_t uart_up;
static uint8_t rx_ring[RX_RING_LEN];
static volatile uint32_t rx_head;   /* written by the handler */
static volatile uint32_t rx_tail;   /* written by the main loop */

static const reg_op_t uart_ops[] = {
    REG_FIELD(RCC_AHB1ENR, 0u, 1u, 1u),                       /* GPIOAEN */
    REG_FIELD(RCC_APB1ENR, 17u, 1u, 1u),                      /* USART2EN */
    REG_PIN2(GPIO_OSPEEDR(GPIOA_BASE), 2u, 2u),               /* PA2 fast */
    REG_PIN2(GPIO_PUPDR(GPIOA_BASE), 3u, 1u),                 /* PA3 pull-up: idle-high line if RX floats */
    REG_FIELD(GPIO_AFRL(GPIOA_BASE), 8u, 8u, UART_AF * 0x11u),        /* PA2, PA3: AF7 */
    REG_FIELD(GPIO_MODER(GPIOA_BASE), 4u, 4u, GPIO_MODE_AF * 5u),     /* PA2, PA3: alternate function */
    REG_WRITE(USART2_CR1, 0u, 0u),                            /* UE=0 while configuring, OVER8=0, M=0 (8 bit) */
    REG_WRITE(USART2_CR2, 0u, 0u),                            /* 1 stop bit */
    REG_WRITE(USART2_CR3, 0u, 0u),                            /* no flow control */
};

void uart_init(void)
{
    (void)REG_INIT(uart_ops);

    /* OVER8=0: USARTDIV = f / (16 * baud); BRR = mantissa<<4 | round(frac*16).
     * Computed as 16ths, rounded to nearest; a fraction rounding up to 16
     * carries into the mantissa by construction. */
    uint32_t f = system_apb1_hz();
    uint32_t div16 = (f + UART_BAUD / 2u) / UART_BAUD;
    uint32_t mantissa = div16 >> 4;
    uint32_t fraction = div16 & 0xFu;
    USART2_BRR = (mantissa << 4) | fraction;
    USART2_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
    nvic_enable(IRQ_USART2, 0x40u);   /* highest of ours: RX holds one byte (sensor.c, cycles.h) */
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

/* v in `base` (10 or 16, lowercase), at least `min_digits` digits (zero padded). One routine for decimal and
 * hex: the M4 divides in hardware. */
static void put_digits(uint32_t v, uint32_t base, uint32_t min_digits)
{
    char buf[10];
    uint32_t n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0u || n < min_digits);
    while (n > 0u) {
        uart_putc(buf[--n]);
    }
}

void uart_put_hex8(uint8_t v) { put_digits(v, 16u, 2u); }

static void uart_vprintf(const char *fmt, va_list ap)
{
    for (char c; (c = *fmt++) != '\0';) {
        if (c != '%') {
            uart_putc(c);
        } else if ((c = *fmt++) == 's') {
            uart_puts(va_arg(ap, const char *));
        } else if (c == 'x') {
            put_digits(va_arg(ap, uint32_t), 16u, 8u);
        } else {   /* 'u' or 'd' */
            uint32_t v = va_arg(ap, uint32_t);
            if (c == 'd' && (int32_t)v < 0) {
                uart_putc('-');
                v = 0u - v;
            }
            put_digits(v, 10u, 1u);
        }
    }
}

void uart_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    uart_vprintf(fmt, ap);
    va_end(ap);
}

void uart_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    uart_puts("ERR code=");
    uart_vprintf(fmt, ap);
    va_end(ap);
}

void USART2_IRQHandler(void)
{
    uint32_t sr;
    while ((sr = USART2_SR) & (USART_SR_RXNE | USART_SR_ORE)) {
        uint32_t h = rx_head;
        if (h - rx_tail >= RX_RING_LEN) {
            USART2_CR1 &= ~USART_CR1_RXNEIE;   /* full: leave the byte in DR for later */
            return;
        }
        rx_ring[h & (RX_RING_LEN - 1u)] = (uint8_t)(USART2_DR & 0xFFu);   /* SR then DR also clears ORE */
        rx_head = h + 1u;
    }
}

int uart_rx_pending(void) { return rx_head != rx_tail; }

int uart_getc_nb(void)
{
    uint32_t t = rx_tail;
    if (rx_head == t) {
        return -1;
    }
    int c = rx_ring[t & (RX_RING_LEN - 1u)];
    rx_tail = t + 1u;
    if (!(USART2_CR1 & USART_CR1_RXNEIE)) {
        USART2_CR1 |= USART_CR1_RXNEIE;       /* room again */
    }
    return c;
}

void uart_flush(void)
{
    for (uint32_t i = 0; i < HW_WAIT_LOOPS; i++) {
        if (USART2_SR & USART_SR_TC) {
            return;
        }
    }
}
