"""SPI in master mode (RM0090 section 28.5): a DR write exchanges a frame with the selected device.

The SR/DR state lives in a ctypes struct (`SpiShared`) so that, with the native library, word reads of SR
and DR are answered in C (sim/native/spifast.c) from the same state this model keeps; the result is the
same either way.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Protocol

from tinyml_disco.sim.periph.base import Peripheral

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
        ("pre_len", ctypes.c_uint32),
        ("pre_pos", ctypes.c_uint32),
        ("pre", ctypes.c_uint8 * 32),
    ]


class SpiDevice(Protocol):
    def select(self) -> None: ...
    def deselect(self) -> None: ...
    def transfer(self, mosi: int) -> int: ...


class Prefetching(Protocol):
    """A device that can answer the next frames of a read transaction ahead (see Spi.prefetch)."""

    def read_ahead(self, limit: int) -> tuple[bytes, Callable[[int], None]] | None:
        """At most `limit` bytes the next transfers will return, already taken, and `finish(n)`: the firmware
        took n of them (fewer: undo the rest). None: nothing to prefetch."""
        ...


class Spi(Peripheral):
    """`selected()` returns the device whose chip select is active, or None (bytes read back 0xFF)."""

    RESET = {SR: SR_TXE, CRCPR: 0x7, 0x20: 0x2}

    def __init__(self, selected: Callable[[], SpiDevice | None]) -> None:
        super().__init__()
        self._selected = selected
        self.shared = SpiShared()  # zeroed: RXNE clear, rx 0, clock off (C hands everything to Python)
        self.prefetch_enabled = False  # the board turns it on with the native DR write path
        self._finish: Callable[[int], None] | None = None

    def settle(self) -> None:
        """Before anything else sees the device: tell it how many prefetched frames the firmware took (it undoes
        the rest). Idempotent."""
        finish = self._finish
        if finish is None:
            return
        self._finish = None
        shared = self.shared
        taken = shared.pre_pos
        shared.pre_len = shared.pre_pos = 0
        finish(taken)

    def _prefetch(self, dev: SpiDevice) -> None:
        read_ahead = getattr(dev, "read_ahead", None)
        if read_ahead is None or self.stored(CR1) & CR1_DFF:
            return
        got = read_ahead(len(self.shared.pre))
        if got is None:
            return
        data, finish = got
        shared = self.shared
        shared.pre[: len(data)] = data
        shared.pre_pos = 0
        shared.pre_len = len(data)
        self._finish = finish

    def read_reg(self, offset: int) -> int:
        if offset == SR:
            return SR_TXE | (SR_RXNE if self.shared.rxne else 0)
        if offset == DR:
            self.shared.rxne = 0
            return self.shared.rx
        return self.stored(offset)

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        self.settle()
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
        if self.prefetch_enabled and dev is not None:
            self._prefetch(dev)
