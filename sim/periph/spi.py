"""SPI in master mode (RM0090 section 28.5): a DR write exchanges a frame with the selected device.

The SR/DR state lives in a ctypes struct (`SpiShared`) so that, with the native library, word reads of SR
and DR are answered in C (sim/native/spifast.c) from the same state this model keeps; the result is the
same either way.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Protocol

from sim.periph.base import Peripheral

CR1, CR2, SR, DR, CRCPR = 0x00, 0x04, 0x08, 0x0C, 0x10
SR_RXNE, SR_TXE = 1 << 0, 1 << 1
CR1_SPE, CR1_DFF = 1 << 6, 1 << 11
MISO_IDLE = 0xFF  # MISO pulled up: nothing selected reads as 0xFF


class SpiShared(ctypes.Structure):
    """Mirror of sf_state in sim/native/spifast.c (layout checked when the library is loaded)."""

    _fields_ = [
        ("clock_on", ctypes.c_uint32),
        ("rxne", ctypes.c_uint32),
        ("rx", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
        ("delta", ctypes.c_uint64),
        ("fallback_read", ctypes.c_void_p),
        ("fallback_write", ctypes.c_void_p),
        ("served", ctypes.c_uint64),
    ]


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
        self.shared = SpiShared()  # zeroed: RXNE clear, rx 0, clock off (C hands everything to Python)

    def read_reg(self, offset: int) -> int:
        if offset == SR:
            return SR_TXE | (SR_RXNE if self.shared.rxne else 0)
        if offset == DR:
            self.shared.rxne = 0
            return self.shared.rx
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
            rx = (hi << 8) | lo
        else:
            rx = dev.transfer(frame & 0xFF) if dev else MISO_IDLE
        shared = self.shared
        shared.rx = rx
        shared.rxne = 1
