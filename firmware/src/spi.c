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

#define SPI_AF      5u
#define CS_PIN      3u    /* PE3 */
#define SPI_BR_DIV16 3u   /* BR field: fPCLK / 2^(BR+1) */

void spi1_init(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN | RCC_AHB1ENR_GPIOEEN;
    RCC_APB2ENR |= RCC_APB2ENR_SPI1EN;
    (void)RCC_APB2ENR;

    /* CS high before it becomes an output, so the sensor never sees a glitch. */
    gpio_high(GPIOE_BASE, CS_PIN);
    gpio_set_mode(GPIOE_BASE, CS_PIN, GPIO_MODE_OUTPUT);
    gpio_set_speed(GPIOE_BASE, CS_PIN, 2u);

    for (uint32_t pin = 5u; pin <= 7u; pin++) {
        gpio_set_speed(GPIOA_BASE, pin, 2u);
        gpio_set_af(GPIOA_BASE, pin, SPI_AF);
    }

    SPI1_CR1 = 0u;
    SPI1_CR2 = 0u;
    SPI1_CR1 = SPI_CR1_MSTR | SPI_CR1_CPOL | SPI_CR1_CPHA | SPI_CR1_SSM | SPI_CR1_SSI |
               (SPI_BR_DIV16 << SPI_CR1_BR_Pos);
    SPI1_CR1 |= SPI_CR1_SPE;
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
