/*
 * i2c.c - I2C1 master, STM32F4 "v1" I2C (RM0090 section 27.3.3 master mode).
 *
 * APB1 = 42 MHz: CR2.FREQ = 42, fast mode 400 kHz duty 2:1 -> CCR = 42 MHz / (3 * 400 kHz) = 35,
 * TRISE = 300 ns * 42 MHz + 1 = 13. Reception follows the reference manual's ACK rules for
 * 1 and N > 2 bytes (the LIS2DW12 driver reads 1 register or a 6-byte sample; the 2-byte procedure with
 * POS is left out: its ~60 bytes of flash would be unused). A NACK (AF) or a flag that never comes ends the transfer with STOP and -1.
 */
#include "i2c.h"
#include "reg_init.h"
#include "system_stm32f4.h"

#define I2C_AF       4u
#define I2C_WAIT     20000u   /* SR1 polls; a byte at 400 kHz is ~3800 core cycles */

static int wait_sr1(uint32_t flag)
{
    for (uint32_t i = 0; i < I2C_WAIT; i++) {
        uint32_t sr1 = I2C1_SR1;
        if (sr1 & I2C_SR1_AF) {
            return -1;
        }
        if (sr1 & flag) {
            return 0;
        }
    }
    return -1;
}

static void wait_stop_done(void)
{
    for (uint32_t i = 0; i < I2C_WAIT && (I2C1_CR1 & I2C_CR1_STOP); i++) {
    }
}

static int fail(void)
{
    I2C1_CR1 |= I2C_CR1_STOP;
    I2C1_SR1 = ~I2C_SR1_AF & 0xFFFFu;   /* AF is rc_w0 */
    I2C1_CR1 &= ~(I2C_CR1_POS | I2C_CR1_ACK);
    wait_stop_done();
    return -1;
}

/* PB6 SCL, PB9 SDA: open drain, pull-up, fast, AF4; then a software reset of the peripheral. Each of OTYPER,
 * PUPDR, OSPEEDR and MODER is set for PB6..PB9 in one access, PB7 and PB8 (not used by this firmware) at their
 * reset values (push-pull, no pull, low speed, input). */
#define PB6_PB9(v6, v9) ((v6) | ((v9) << 6))   /* 2-bit fields of pins 6 and 9 from bit 12 */
static const reg_op_t i2c1_ops[] = {
    REG_FIELD(RCC_AHB1ENR, 1u, 1u, 1u),                       /* GPIOBEN */
    REG_FIELD(RCC_APB1ENR, 21u, 1u, 1u),                      /* I2C1EN */
    REG_FIELD(GPIO_OTYPER(GPIOB_BASE), 6u, 4u, 0x9u),         /* open drain */
    REG_FIELD(GPIO_PUPDR(GPIOB_BASE), 12u, 8u, PB6_PB9(1u, 1u)),
    REG_FIELD(GPIO_OSPEEDR(GPIOB_BASE), 12u, 8u, PB6_PB9(2u, 2u)),
    REG_PIN_AF(GPIOB_BASE, 6u, I2C_AF),
    REG_PIN_AF(GPIOB_BASE, 9u, I2C_AF),
    REG_FIELD(GPIO_MODER(GPIOB_BASE), 12u, 8u, PB6_PB9(GPIO_MODE_AF, GPIO_MODE_AF)),
    REG_WRITE(I2C1_CR1, I2C_CR1_SWRST, 0u),
    REG_WRITE(I2C1_CR1, 0u, 0u),
};

void i2c1_init(void)
{
    (void)REG_INIT(i2c1_ops);
    uint32_t mhz = system_apb1_hz() / 1000000u;
    I2C1_CR2 = mhz;
    I2C1_CCR = I2C_CCR_FS | (system_apb1_hz() / (3u * 400000u));
    I2C1_TRISE = (mhz * 300u) / 1000u + 1u;
    I2C1_CR1 = I2C_CR1_PE;
}

/* START + address; leaves ADDR cleared unless `keep_addr`. */
static int start(uint8_t addr_rw, int keep_addr)
{
    I2C1_CR1 |= I2C_CR1_START;
    if (wait_sr1(I2C_SR1_SB) != 0) {
        return -1;
    }
    I2C1_DR = addr_rw;                                     /* SR1 read above + DR write clear SB */
    if (wait_sr1(I2C_SR1_ADDR) != 0) {
        return -1;
    }
    if (!keep_addr) {
        (void)I2C1_SR2;                                    /* SR1 then SR2 read clears ADDR */
    }
    return 0;
}

static int send(uint8_t byte)
{
    if (wait_sr1(I2C_SR1_TXE) != 0) {
        return -1;
    }
    I2C1_DR = byte;
    return 0;
}

int i2c1_write_reg(uint8_t addr, uint8_t reg, const uint8_t *buf, uint32_t n)
{
    if (start((uint8_t)(addr << 1), 0) != 0 || send(reg) != 0) {
        return fail();
    }
    for (uint32_t i = 0; i < n; i++) {
        if (send(buf[i]) != 0) {
            return fail();
        }
    }
    if (wait_sr1(I2C_SR1_BTF) != 0) {
        return fail();
    }
    I2C1_CR1 |= I2C_CR1_STOP;
    wait_stop_done();
    return 0;
}

static int read_byte(uint8_t *out)
{
    if (wait_sr1(I2C_SR1_RXNE) != 0) {
        return -1;
    }
    *out = (uint8_t)I2C1_DR;
    return 0;
}

int i2c1_read_reg(uint8_t addr, uint8_t reg, uint8_t *buf, uint32_t n)
{
    if (n == 0u || n == 2u || start((uint8_t)(addr << 1), 0) != 0 || send(reg) != 0 || wait_sr1(I2C_SR1_BTF) != 0) {
        return fail();
    }
    uint8_t rd = (uint8_t)((addr << 1) | 1u);
    if (n == 1u) {
        I2C1_CR1 &= ~I2C_CR1_ACK;                           /* NACK the only byte... */
        if (start(rd, 0) != 0) {                            /* ...before ADDR is cleared */
            return fail();
        }
        I2C1_CR1 |= I2C_CR1_STOP;
        if (read_byte(&buf[0]) != 0) {
            return fail();
        }
    } else {                                                /* n >= 3 */
        I2C1_CR1 |= I2C_CR1_ACK;
        if (start(rd, 0) != 0) {
            return fail();
        }
        for (uint32_t i = 0; i < n - 3u; i++) {
            if (read_byte(&buf[i]) != 0) {
                return fail();
            }
        }
        if (wait_sr1(I2C_SR1_BTF) != 0) {                   /* N-2 in DR, N-1 in shift reg */
            return fail();
        }
        I2C1_CR1 &= ~I2C_CR1_ACK;                           /* NACK byte N */
        buf[n - 3u] = (uint8_t)I2C1_DR;
        if (wait_sr1(I2C_SR1_BTF) != 0) {                   /* N-1 in DR, N in shift reg */
            return fail();
        }
        I2C1_CR1 |= I2C_CR1_STOP;
        buf[n - 2u] = (uint8_t)I2C1_DR;
        buf[n - 1u] = (uint8_t)I2C1_DR;
    }
    wait_stop_done();
    return 0;
}
