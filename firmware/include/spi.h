/* spi.h - SPI1 master (PA5 SCK, PA6 MISO, PA7 MOSI), CS on PE3, mode 3. */
#ifndef SPI_H
#define SPI_H

#include <stdint.h>

void spi1_init(void);
void spi1_select(void);           /* CS low  */
void spi1_deselect(void);         /* CS high */
/* Full-duplex byte exchange. Returns 0..255, or -1 on a flag timeout. */
int  spi1_transfer(uint8_t tx);

#endif /* SPI_H */
