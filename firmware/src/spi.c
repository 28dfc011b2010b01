/*
 * spi.c - SPI1 master for the on-board accelerometer.
 *
 * PA5 SCK / PA6 MISO / PA7 MOSI on AF5, chip select PE3 as a plain GPIO
 * (idle high). Mode 3 (CPOL=1, CPHA=1) as the LIS3DSH requires, 8-bit,
 * MSB first, fPCLK2/16 (84 MHz / 16 = 5.25 MHz, under the sensor's 10 MHz).
 * Software NSS (SSM=SSI=1) keeps the peripheral in master mode.
 */
#include "spi.h"
#include "gpio.h"
#include "reg_init.h"

#define SPI_AF      5u
#define CS_PIN      3u    /* PE3 */
#define SPI_BR_DIV16 3u   /* BR field: fPCLK / 2^(BR+1) */

static const reg_op_t spi1_ops[] = {
    REG_FIELD(RCC_AHB1ENR, 0u, 1u, 1u),                       /* GPIOAEN */
    REG_FIELD(RCC_AHB1ENR, 4u, 1u, 1u),                       /* GPIOEEN */
    REG_FIELD(RCC_APB2ENR, 12u, 1u, 1u),                      /* SPI1EN */
    /* CS high before it becomes an output, so the sensor never sees a glitch. */
    REG_WRITE(GPIO_BSRR(GPIOE_BASE), 1u, CS_PIN),
    REG_PIN2(GPIO_MODER(GPIOE_BASE), CS_PIN, GPIO_MODE_OUTPUT),
    REG_PIN2(GPIO_OSPEEDR(GPIOE_BASE), CS_PIN, 2u),
    REG_FIELD(GPIO_OSPEEDR(GPIOA_BASE), 10u, 6u, 2u * 0x15u),         /* PA5..PA7 fast */
    REG_FIELD(GPIO_AFRL(GPIOA_BASE), 20u, 12u, SPI_AF * 0x111u),      /* PA5..PA7: AF5 */
    REG_FIELD(GPIO_MODER(GPIOA_BASE), 10u, 6u, GPIO_MODE_AF * 0x15u), /* PA5..PA7: alternate function */
    REG_WRITE(SPI1_CR1, 0u, 0u),
    REG_WRITE(SPI1_CR2, 0u, 0u),
    REG_WRITE(SPI1_CR1, SPI_CR1_MSTR | SPI_CR1_CPOL | SPI_CR1_CPHA | SPI_CR1_SSM | SPI_CR1_SSI |
                        (SPI_BR_DIV16 << SPI_CR1_BR_Pos), 0u),
    REG_FIELD(SPI1_CR1, 6u, 1u, 1u),                          /* SPE */
};

void spi1_init(void)
{
    (void)REG_INIT(spi1_ops);
}

void spi1_select(void) { gpio_low(GPIOE_BASE, CS_PIN); }
void spi1_deselect(void) { gpio_high(GPIOE_BASE, CS_PIN); }

int spi1_transfer(uint8_t tx)
{
    /* One byte at a time, so TXE is always set here: it is set at reset and, in full-duplex master mode,
     * long before the previous byte's RXNE, which the previous call waited for. Skipping the TXE poll
     * saves a quarter of the bus accesses per byte (and of the emulator's MMIO callbacks). */
    uint32_t i;
    SPI1_DR = tx;
    for (i = 0; i < HW_WAIT_LOOPS && !(SPI1_SR & SPI_SR_RXNE); i++) {
    }
    if (i == HW_WAIT_LOOPS) {
        return -1;
    }
    return (int)(SPI1_DR & 0xFFu);
}
