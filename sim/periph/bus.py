"""Routes MMIO accesses of one Unicorn mapping to the peripherals attached inside it."""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from dataclasses import dataclass

from unicorn import Uc, UcError

from tinyml_disco.sim.periph.base import Peripheral, RegisterFile

Gate = Callable[[], bool]

# uc_cb_mmio_read_t / uc_cb_mmio_write_t (unicorn.h 2.x)
_RAW_READ = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint, ctypes.c_void_p)
_RAW_WRITE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint, ctypes.c_uint64, ctypes.c_void_p)


@dataclass
class NativeWindow:
    """[base, base+size) of a bus served by native MMIO callbacks (addresses `read`, `write`) with `state`
    as their user data. `state` has the fields delta, fallback_read and fallback_write, which the bus fills:
    what the native code does not handle it passes on to the bus's own callbacks at offset + delta."""

    base: int
    size: int
    read: int
    write: int
    state: ctypes.Structure


@dataclass
class _Slot:
    base: int
    size: int
    periph: Peripheral
    gate: Gate | None


class MmioBus:
    """Address decoder for [base, base+size): attached peripherals, else a register-file fallback.

    Peripherals are looked up by page (`1 << page_shift` bytes). A clock gate, when given, makes the
    peripheral read as 0 and ignore writes while its RCC enable bit is clear, as on the real chip.
    An optional bit-band alias region (Cortex-M4 peripheral bit-band) maps each word to one bit.
    """

    def __init__(
        self,
        base: int,
        size: int,
        page_shift: int,
        bitband: tuple[int, int, int] | None = None,
    ) -> None:
        self.base = base
        self.size = size
        self._shift = page_shift
        self._pages: dict[int, _Slot] = {}
        self._fallback = RegisterFile()
        self._bitband = bitband  # (alias_base, alias_size, target_base)
        self._word_reads: dict[int, tuple[Gate | None, Callable[[int], int], int]] = {}  # address -> route
        self._word_writes: dict[int, tuple[Gate | None, Callable[[int, int, int], None], int]] = {}
        self.error: BaseException | None = None  # raised in a raw callback; the board re-raises it
        self._raw: tuple[object, object] | None = None
        self._native: tuple[NativeWindow, ...] = ()
        self._stop: Callable[[], None] = lambda: None

    def attach(self, base: int, size: int, periph: Peripheral, gate: Gate | None = None) -> None:
        slot = _Slot(base, size, periph, gate)
        for page in range(base >> self._shift, ((base + size - 1) >> self._shift) + 1):
            if page in self._pages:
                raise ValueError(f"MMIO page 0x{page << self._shift:08x} already attached")
            self._pages[page] = slot

    def map_into(self, uc: Uc, native: tuple[NativeWindow, ...] = ()) -> bool:
        """Map the bus with raw ctypes callbacks registered straight with libunicorn's uc_mmio_map (the
        binding's two wrapper layers cost about as much as the access itself); the binding's mmio_map if
        its internals are not as expected. With raw callbacks an exception is stored in `error` and
        emulation stopped: whoever runs the emulation must check `error` afterwards (`raise_error`).
        `native` windows (sorted, page aligned, inside the bus) get their own mapping with native callbacks.
        Returns whether the native windows were mapped (not without the binding's internals)."""
        try:
            from unicorn.unicorn_py3.unicorn import uclib
        except ImportError:
            uc.mmio_map(self.base, self.size, self._on_read, None, self._on_write, None)
            return False
        uch = uc._uch
        self._stop = lambda: uclib.uc_emu_stop(uch)
        self._raw = (_RAW_READ(self._on_raw_read), _RAW_WRITE(self._on_raw_write))  # kept alive here
        py_read = ctypes.cast(self._raw[0], ctypes.c_void_p).value
        py_write = ctypes.cast(self._raw[1], ctypes.c_void_p).value
        start = self.base
        # (base, size, read, write, user data): for the bus's own callbacks the user data is the piece's
        # offset inside the bus, which they add to the offset libunicorn passes.
        pieces: list[tuple[int, int, object, object, int]] = []
        for win in native:
            if not (start <= win.base and win.base + win.size <= self.base + self.size):
                raise ValueError(f"native window 0x{win.base:08x} overlaps another or lies outside the bus")
            win.state.delta = win.base - self.base  # type: ignore[attr-defined]
            win.state.fallback_read = py_read  # type: ignore[attr-defined]
            win.state.fallback_write = py_write  # type: ignore[attr-defined]
            if win.base > start:
                pieces.append((start, win.base - start, self._raw[0], self._raw[1], start - self.base))
            pieces.append((win.base, win.size, ctypes.c_void_p(win.read), ctypes.c_void_p(win.write),
                           ctypes.addressof(win.state)))
            start = win.base + win.size
        if start < self.base + self.size:
            pieces.append((start, self.base + self.size - start, self._raw[0], self._raw[1], start - self.base))
        self._native = native  # their states must outlive the mapping
        for base, size, read, write, user in pieces:
            data = ctypes.c_void_p(user or None)
            status = uclib.uc_mmio_map(uch, base, size, read, data, write, data)
            if status != 0:
                raise UcError(status)
        return bool(native)

    def take_error(self) -> BaseException | None:
        """The exception a raw callback stored (once), for the caller to raise."""
        error, self.error = self.error, None
        return error

    # -- access paths -------------------------------------------------------------------------------------
    def read(self, address: int, size: int) -> int:
        if size == 4:
            fast = self._word_reads.get(address)
            if fast is not None:  # an aligned word in an attached peripheral: no bit-band, shift or mask
                gate, read_reg, offset = fast
                if gate is not None and not gate():
                    return 0
                return read_reg(offset) & 0xFFFF_FFFF
        bb = self._bitband
        if bb is not None and bb[0] <= address < bb[0] + bb[1]:
            target, bit = self._alias(address)
            return (self.read(target, 1) >> bit) & 1
        slot = self._pages.get(address >> self._shift)
        if slot is None:
            periph, offset = self._fallback, address
        else:
            if slot.gate is not None and not slot.gate():
                return 0
            periph, offset = slot.periph, address - slot.base
        if size == 4 and not offset & 3 and slot is not None:
            self._word_reads[address] = (slot.gate, periph.read_reg, offset)
        shift = (offset & 3) * 8
        return (periph.read_reg(offset & ~3) >> shift) & ((1 << (size * 8)) - 1)

    def write(self, address: int, size: int, value: int) -> None:
        if size == 4:
            fast = self._word_writes.get(address)
            if fast is not None:  # as for reads: an aligned word in an attached peripheral
                gate, write_reg, offset = fast
                if gate is None or gate():
                    write_reg(offset, value & 0xFFFF_FFFF, 0xFFFF_FFFF)
                return
        bb = self._bitband
        if bb is not None and bb[0] <= address < bb[0] + bb[1]:
            target, bit = self._alias(address)
            old = self.read(target, 1)
            self.write(target, 1, (old | (1 << bit)) if value & 1 else (old & ~(1 << bit)))
            return
        slot = self._pages.get(address >> self._shift)
        if slot is None:
            periph, offset = self._fallback, address
        else:
            if slot.gate is not None and not slot.gate():
                return
            periph, offset = slot.periph, address - slot.base
        if size == 4 and not offset & 3 and slot is not None:
            self._word_writes[address] = (slot.gate, periph.write_reg, offset)
        shift = (offset & 3) * 8
        mask = (((1 << (size * 8)) - 1) << shift) & 0xFFFFFFFF
        periph.write_reg(offset & ~3, (value << shift) & mask, mask)

    def _alias(self, address: int) -> tuple[int, int]:
        assert self._bitband is not None
        alias_base, _size, target_base = self._bitband
        off = address - alias_base
        return target_base + (off >> 5), (off >> 2) & 7

    def _on_raw_read(self, _uch: int, offset: int, size: int, piece: int | None) -> int:
        try:
            return self.read(self.base + (piece or 0) + offset, size)
        except BaseException as exc:  # ctypes would print and swallow it
            if self.error is None:
                self.error = exc
            self._stop()
            return 0

    def _on_raw_write(self, _uch: int, offset: int, size: int, value: int, piece: int | None) -> None:
        try:
            self.write(self.base + (piece or 0) + offset, size, value)
        except BaseException as exc:
            if self.error is None:
                self.error = exc
            self._stop()

    def _on_read(self, _uc: Uc, offset: int, size: int, _user: object) -> int:
        return self.read(self.base + offset, size)

    def _on_write(self, _uc: Uc, offset: int, size: int, value: int, _user: object) -> None:
        self.write(self.base + offset, size, value)
