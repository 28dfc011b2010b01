"""USART (RM0090 section 30.6): TX is instantaneous (TXE|TC always set), RX comes from a byte queue.

RX bytes queued by the host are all available at once (no baud-rate delay). The interrupt output
(USART2 = IRQ 38) is RXNEIE & RXNE | TXEIE & TXE | TCIE & TC, level-sensitive into the NVIC.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from tinyml_disco.sim.periph.base import Peripheral

SR, DR, BRR, CR1, CR2, CR3, GTPR = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18
RXNE, TC, TXE = 1 << 5, 1 << 6, 1 << 7
CR1_UE, CR1_TE, CR1_RE = 1 << 13, 1 << 3, 1 << 2
CR1_RXNEIE, CR1_TCIE, CR1_TXEIE = 1 << 5, 1 << 6, 1 << 7


class Usart(Peripheral):
    """Bytes written to DR (with UE and TE set) are collected into lines split on "\\n".

    `on_poll(rx_ready)` is called on every SR read; the board uses it to detect an idle firmware.
    """

    def __init__(self) -> None:
        super().__init__()
        self.rx: deque[int] = deque()
        self.tx_bytes = bytearray()
        self._partial = bytearray()
        self.on_line: Callable[[str], None] = lambda _line: None
        self.on_poll: Callable[[bool], None] = lambda _rx_ready: None
        self.on_irq: Callable[[bool], None] = lambda _level: None
        self._irq = False

    def update_irq(self) -> None:
        """Recompute the interrupt output (call after queuing RX bytes)."""
        cr1 = self.stored(CR1)
        level = bool(cr1 & CR1_UE) and bool(
            (cr1 & CR1_RXNEIE and self.rx_ready()) or cr1 & (CR1_TXEIE | CR1_TCIE)
        )
        if level != self._irq:
            self._irq = level
            self.on_irq(level)

    def _cr1(self, flags: int) -> bool:
        return self.stored(CR1) & flags == flags

    def rx_ready(self) -> bool:
        return bool(self.rx) and self._cr1(CR1_UE | CR1_RE)

    def read_reg(self, offset: int) -> int:
        if offset == SR:
            ready = self.rx_ready()
            self.on_poll(ready)
            return TXE | TC | (RXNE if ready else 0)
        if offset == DR:
            if not self.rx_ready():
                return 0
            byte = self.rx.popleft()
            self.update_irq()
            return byte
        return self.stored(offset)

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        if offset == SR:
            return
        if offset == DR:
            if self._cr1(CR1_UE | CR1_TE):
                self._transmit(value & mask & 0xFF)
            return
        self.store(offset, value, mask)
        if offset == CR1:
            self.update_irq()

    def _transmit(self, byte: int) -> None:
        self.tx_bytes.append(byte)
        if byte == 0x0A:
            line = self._partial.decode("utf-8", errors="replace").removesuffix("\r")
            self._partial.clear()
            self.on_line(line)
        else:
            self._partial.append(byte)

    def partial_line(self) -> str:
        return self._partial.decode("utf-8", errors="replace")
