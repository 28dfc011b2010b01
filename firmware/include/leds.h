/* leds.h - the four user LEDs PD12..PD15. */
#ifndef LEDS_H
#define LEDS_H

void leds_init(void);
/* Light exactly one LED: 0 green, 1 orange, 2 red, 3 blue; -1 = all off. */
void leds_show_class(int cls);

#endif /* LEDS_H */
