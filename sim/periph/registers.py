"""Declared registers, in the spirit of Renode's DefineRegisters: a peripheral lists its registers and their
fields once (name, bits, writable or not) instead of decoding offsets in if-chains.

Writes to read-only fields are dropped. Bits no field declares, and registers not declared at all, are stored
as before (the firmware may read them back) but reported once per register through `report`, so a model that
misses something the firmware relies on says so instead of storing it silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tinyml_disco.sim.periph.base import Peripheral

_log = logging.getLogger(__name__)
Report = Callable[[str], None]


@dataclass(frozen=True)
class Field:
    name: str
    lsb: int
    width: int = 1
    writable: bool = True

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb


@dataclass(frozen=True)
class Register:
    offset: int
    name: str
    fields: tuple[Field, ...] = ()
    reset: int = 0
    write_only: bool = False  # e.g. key registers: writes are accepted and forgotten, reads return 0

    @property
    def declared_mask(self) -> int:
        m = 0
        for f in self.fields:
            m |= f.mask
        return m

    @property
    def read_only_mask(self) -> int:
        m = 0
        for f in self.fields:
            if not f.writable:
                m |= f.mask
        return m


class DeclaredPeripheral(Peripheral):
    """A Peripheral whose registers are declared as data (`REGISTERS`); subclasses add side effects only."""

    NAME = "periph"
    REGISTERS: Sequence[Register] = ()

    def __init__(self, report: Report | None = None) -> None:
        self.RESET = {r.offset: r.reset for r in self.REGISTERS}
        super().__init__()
        self._by_offset = {r.offset: r for r in self.REGISTERS}
        self._report = report if report is not None else _log.warning
        self.reported: set[int] = set()  # register offsets already reported

    def _report_once(self, offset: int, what: str) -> None:
        if offset not in self.reported:
            self.reported.add(offset)
            self._report(f"{self.NAME}: {what} (stored, not modelled; reported once)")

    def read_reg(self, offset: int) -> int:
        reg = self._by_offset.get(offset)
        return 0 if reg is not None and reg.write_only else self.regs.get(offset, 0)

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        reg = self._by_offset.get(offset)
        if reg is None:
            self._report_once(offset, f"write 0x{value & mask:08x} to undeclared register at offset 0x{offset:03x}")
            self.store(offset, value, mask)
            return
        if reg.write_only:
            return
        unmodelled = value & mask & ~reg.declared_mask & 0xFFFF_FFFF
        if unmodelled:
            self._report_once(offset, f"{reg.name}: bits 0x{unmodelled:08x} written, no field declares them")
        self.store(offset, value, mask & ~reg.read_only_mask)
