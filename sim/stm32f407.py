"""The STM32F407 as data (RM0090 section 2.3 memory map, section 6/7 clock enables, table 61 vectors): where
each peripheral block sits and which RCC bit clocks it. The board attaches its models from this table;
tests/test_board_parts.py ties the bases to firmware/include/stm32f407.h."""

from __future__ import annotations

from dataclasses import dataclass

from tinyml_disco.sim.periph import rcc

PERIPH_BASE, PERIPH_SIZE = 0x4000_0000, 0x2000_0000
PERIPH_BITBAND = (0x4200_0000, 0x0200_0000, 0x4000_0000)  # alias base, alias size, target base
PPB_BASE, PPB_SIZE = 0xE000_0000, 0x0010_0000
DBGMCU_IDCODE = 0x1007_6413  # STM32F40x/41x, DEV_ID 0x413


@dataclass(frozen=True)
class Block:
    base: int
    size: int = 0x400
    clock: tuple[int, int] | None = None  # (RCC enable register offset, bit); None: always clocked


# Attach order is the order here (the bus does not depend on it, but a diff of the board stays readable).
BLOCKS: dict[str, Block] = {
    "GPIOA": Block(0x4002_0000, clock=(rcc.AHB1ENR, 0)),
    "GPIOB": Block(0x4002_0400, clock=(rcc.AHB1ENR, 1)),
    "GPIOC": Block(0x4002_0800, clock=(rcc.AHB1ENR, 2)),
    "GPIOD": Block(0x4002_0C00, clock=(rcc.AHB1ENR, 3)),
    "GPIOE": Block(0x4002_1000, clock=(rcc.AHB1ENR, 4)),
    "RCC": Block(0x4002_3800),
    "FLASH": Block(0x4002_3C00),
    "PWR": Block(0x4000_7000, clock=(rcc.APB1ENR, 28)),
    "USART2": Block(0x4000_4400, clock=(rcc.APB1ENR, 17)),
    "I2C1": Block(0x4000_5400, clock=(rcc.APB1ENR, 21)),
    "SPI1": Block(0x4001_3000, clock=(rcc.APB2ENR, 12)),
    "SYSCFG": Block(0x4001_3800, clock=(rcc.APB2ENR, 14)),
    "EXTI": Block(0x4001_3C00),
    # Private peripheral bus (Cortex-M4 core and debug)
    "DWT": Block(0xE000_1000, 0x1000),
    "SCS": Block(0xE000_E000, 0x1000),
    "DBGMCU": Block(0xE004_2000, 0x1000),
}
GPIO_PORTS = ("A", "B", "C", "D", "E")
USART2_IRQ = 38
