/* reg_init.h - peripheral set-up as data: a table of register operations walked by one loop (reg_init.c).
 *
 * Init code for the clocks, GPIO alternate functions, SPI1, I2C1, USART2 and EXTI0 is mostly "set field F of
 * register R to V"; as code each such step costs a literal-pool address and a read-modify-write sequence
 * (10-16 bytes), as a table entry 6 bytes, and neighbouring fields of one register (four LED pins' modes,
 * three SPI pins' alternate functions) become one entry. Only peripheral registers (0x40000000 +
 * 4 * 0..0xFFFF words, which covers every block this firmware touches); Cortex-M core registers (NVIC,
 * SysTick, SCB, DWT) stay in code, as do values that depend on the clock the firmware got (baud rate, I2C
 * timing). The order of the entries is the order of the register accesses. */
#ifndef REG_INIT_H
#define REG_INIT_H

#include <stdint.h>
#include "stm32f407.h"

typedef struct {
    uint16_t reg;     /* (address - 0x40000000) / 4 */
    uint16_t value;   /* field value (or the whole value for a write), shifted left by pos */
    uint8_t pos;      /* lowest bit of the field */
    uint8_t width;    /* field width 1..31 (read-modify-write); 0: plain write; | REG_OP_WAIT: poll (| REG_OP_GO_ON) */
} reg_op_t;

#define REG_OP_WAIT 0x80u
#define REG_OP_GO_ON 0x40u   /* with REG_OP_WAIT: a timeout ends the wait, not the table */
#define REG_OP_WIDTH 0x1Fu
#define REG_OP_INDEX(r) ((uint16_t)(((uintptr_t)&(r) - 0x40000000u) >> 2))

/* R.field[pos +: width] = value (the other bits kept) */
#define REG_FIELD(r, pos, width, value) {REG_OP_INDEX(r), (uint16_t)(value), (pos), (width)}
/* R = value << pos (nothing read first: write-1-to-clear, BSRR, control registers set whole) */
#define REG_WRITE(r, value, pos) {REG_OP_INDEX(r), (uint16_t)(value), (pos), 0u}
/* wait (bounded, HW_WAIT_LOOPS reads) until R.field[pos +: width] == value; reg_init fails if it never does */
#define REG_WAIT(r, pos, width, value) {REG_OP_INDEX(r), (uint16_t)(value), (pos), REG_OP_WAIT | (width)}
/* the same wait, bounded, but the operations after it are applied whether it came true or timed out (a table
 * whose later steps are needed either way: the clock fallback) */
#define REG_WAIT_GO_ON(r, pos, width, value) \
    {REG_OP_INDEX(r), (uint16_t)(value), (pos), REG_OP_WAIT | REG_OP_GO_ON | (width)}
/* one GPIO pin's 2-bit field (MODER, OSPEEDR, PUPDR) and 4-bit alternate function (AFRL/AFRH) */
#define REG_PIN2(r, pin, value) REG_FIELD(r, 2u * (pin), 2u, value)
#define REG_PIN_AF(base, pin, af) \
    REG_FIELD(*((pin) < 8u ? &GPIO_AFRL(base) : &GPIO_AFRH(base)), 4u * ((pin) & 7u), 4u, af)

/* Apply n operations in order; every write is followed by a DSB (errata ES0182 2.1.13: a peripheral register
 * access right after its clock enable needs the enable to have landed; a DSB is one of ST's workarounds, and
 * unlike a read-back it does not read write-only registers such as BSRR).
 * 0, or, when a REG_WAIT timed out, the number of operations from that wait to the table's end (nonzero; the
 * ones after it are not applied). A REG_WAIT_GO_ON that times out only ends its wait: the table goes on. */
int reg_init(const reg_op_t *ops, uint32_t n);
#define REG_INIT(table) reg_init((table), (uint32_t)(sizeof(table) / sizeof((table)[0])))

#endif /* REG_INIT_H */
