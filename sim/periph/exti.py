"""EXTI (RM0090 section 12.3) and the SYSCFG EXTICR port selection (section 9.2).

Lines 0..15 come from GPIO pins: SYSCFG_EXTICRx selects which port drives line n (0 = A, 4 = E...).
An edge selected in RTSR/FTSR sets the line's PR bit; PR is write-1-to-clear; SWIER sets PR by software.
The interrupt output of a line is PR & IMR, level-sensitive into the NVIC (EXTI0..4 -> IRQ 6..10,
EXTI9_5 -> IRQ 23, EXTI15_10 -> IRQ 40).
"""

from __future__ import annotations

from collections.abc import Callable

from tinyml_disco.sim.periph.base import Peripheral

IMR, EMR, RTSR, FTSR, SWIER, PR = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14
EXTICR1 = 0x08
_LINE_MASK = 0x7F_FFFF  # 23 lines on the STM32F407


def irq_for_line(line: int) -> int:
    if line <= 4:
        return 6 + line
    return 23 if line <= 9 else 40


_IRQ_LINES = {irq: sum(1 << n for n in range(16) if irq_for_line(n) == irq) for irq in {6, 7, 8, 9, 10, 23, 40}}


class Exti(Peripheral):
    def __init__(self, set_irq: Callable[[int, bool], None]) -> None:
        super().__init__()
        self._set_irq = set_irq
        self._inputs = 0

    def input_changed(self, line: int, level: bool) -> None:
        bit = 1 << line
        old = bool(self._inputs & bit)
        if old == level:
            return
        self._inputs = (self._inputs | bit) if level else (self._inputs & ~bit)
        edge_regs = RTSR if level else FTSR
        if self.stored(edge_regs) & bit:
            self.regs[PR] = self.stored(PR) | bit
            self._update()

    def _update(self) -> None:
        active = self.stored(PR) & self.stored(IMR)
        for irq, lines in _IRQ_LINES.items():
            self._set_irq(irq, bool(active & lines))

    def read_reg(self, offset: int) -> int:
        if offset == SWIER:
            return 0
        return self.stored(offset)

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        value &= mask & _LINE_MASK
        if offset == PR:
            self.regs[PR] = self.stored(PR) & ~value
        elif offset == SWIER:
            self.regs[PR] = self.stored(PR) | (value & self.stored(IMR))
        else:
            self.store(offset, value, mask & _LINE_MASK)
        self._update()


class Syscfg(Peripheral):
    """SYSCFG: MEMRMP, PMC, EXTICR1..4 (stored); `port_of_line(n)` is the port index driving EXTI line n."""

    def __init__(self, on_mapping: Callable[[], None]) -> None:
        super().__init__()
        self._on_mapping = on_mapping

    def port_of_line(self, line: int) -> int:
        reg = self.stored(EXTICR1 + 4 * (line // 4))
        return (reg >> (4 * (line % 4))) & 0xF

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        if EXTICR1 <= offset <= EXTICR1 + 12:
            self.store(offset, value & 0xFFFF, mask & 0xFFFF)
            self._on_mapping()
        else:
            self.store(offset, value, mask)
