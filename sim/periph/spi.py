"""SPI in master mode (RM0090 section 28.5): a DR write exchanges a frame with the selected device."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sim.periph.base import Peripheral

CR1, CR2, SR, DR, CRCPR = 0x00, 0x04, 0x08, 0x0C, 0x10
SR_RXNE, SR_TXE = 1 << 0, 1 << 1
CR1_SPE, CR1_DFF = 1 << 6, 1 << 11
MISO_IDLE = 0xFF  # MISO pulled up: nothing selected reads as 0xFF


class SpiDevice(Protocol):
    def select(self) -> None: ...
    def deselect(self) -> None: ...
    def transfer(self, mosi: int) -> int: ...


class Spi(Peripheral):
    """`selected()` returns the device whose chip select is active, or None (bytes read back 0xFF)."""

    RESET = {SR: SR_TXE, CRCPR: 0x7, 0x20: 0x2}

    def __init__(self, selected: Callable[[], SpiDevice | None]) -> None:
        super().__init__()
        self._selected = selected
        self._rx = 0
        self._rxne = False

    def read_reg(self, offset: int) -> int:
        if offset == SR:
            return SR_TXE | (SR_RXNE if self._rxne else 0)
        if offset == DR:
            self._rxne = False
            return self._rx
        return self.stored(offset)

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        if offset == SR:
            return
        if offset == DR:
            if self.stored(CR1) & CR1_SPE:
                self._exchange(value & mask)
            return
        self.store(offset, value, mask)

    def _exchange(self, frame: int) -> None:
        dev = self._selected()
        if self.stored(CR1) & CR1_DFF:
            hi = dev.transfer(frame >> 8 & 0xFF) if dev else MISO_IDLE
            lo = dev.transfer(frame & 0xFF) if dev else MISO_IDLE
            self._rx = (hi << 8) | lo
        else:
            self._rx = dev.transfer(frame & 0xFF) if dev else MISO_IDLE
        self._rxne = True
