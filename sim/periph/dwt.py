"""DWT (ARMv7-M ARM C1.8): CYCCNT counts retired instructions (1 instruction = 1 cycle here).

CYCCNT runs while DEMCR.TRCENA and DWT_CTRL.CYCCNTENA are both set; a read returns the count of
instructions retired before the reading instruction, plus whatever was written to CYCCNT.
"""

from __future__ import annotations

from collections.abc import Callable

from tinyml_disco.sim.periph.base import Clock, Peripheral

CTRL, CYCCNT, LAR, LSR = 0x000, 0x004, 0xFB0, 0xFB4
CYCCNTENA = 1 << 0
NUMCOMP_4 = 0x4000_0000


class Dwt(Peripheral):
    RESET = {CTRL: NUMCOMP_4}

    def __init__(self, clock: Clock, trace_enabled: Callable[[], bool]) -> None:
        super().__init__()
        self._clock = clock
        self._trace_enabled = trace_enabled
        self._base = 0  # CYCCNT value at instruction count `_since`
        self._since: int | None = None  # instruction count when counting (re)started; None = stopped

    def running(self) -> bool:
        return self._since is not None

    def cyccnt(self) -> int:
        if self._since is None:
            return self._base
        return (self._base + self._clock() - self._since) & 0xFFFF_FFFF

    def trace_enable_changed(self) -> None:
        """Called when DEMCR.TRCENA changes."""
        self._update_running()

    def _update_running(self) -> None:
        want = bool(self.stored(CTRL) & CYCCNTENA) and self._trace_enabled()
        if want and self._since is None:
            self._since = self._clock() + 1  # counting starts after the enabling store
        elif not want and self._since is not None:
            self._base = self.cyccnt()
            self._since = None

    def read_reg(self, offset: int) -> int:
        if offset == CYCCNT:
            return self.cyccnt()
        if offset == LSR:
            return 0
        return self.stored(offset)

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        if offset == CYCCNT:
            self._base = (self.cyccnt() & ~mask | value & mask) & 0xFFFF_FFFF
            if self._since is not None:
                self._since = self._clock() + 1  # the written value holds until the store completes
            return
        self.store(offset, value, mask)
        if offset == CTRL:
            self._update_running()
