"""System control space 0xE000E000 (ARMv7-M ARM B3.2): SysTick, NVIC, SCB, CPACR, FPU, CoreDebug.

Registers are stored and read back. SysTick VAL counts down with the retired-instruction clock
(CLKSOURCE=1: one tick per instruction; 0: HCLK/8, one tick per 8 instructions) and COUNTFLAG is
reported, but no exception is ever delivered (neither SysTick nor NVIC interrupts) in this model.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.periph.base import Clock, Peripheral

STK_CTRL, STK_LOAD, STK_VAL, STK_CALIB = 0x010, 0x014, 0x018, 0x01C
CPUID, ICSR, VTOR, AIRCR, CCR = 0xD00, 0xD04, 0xD08, 0xD0C, 0xD14
CPACR, DHCSR, DEMCR, FPCCR = 0xD88, 0xDF0, 0xDFC, 0xF34
CPUID_M4_R0P1 = 0x410F_C241
TRCENA = 1 << 24
COUNTFLAG, CLKSOURCE, ENABLE = 1 << 16, 1 << 2, 1 << 0
CP10_CP11_FULL = 0xF << 20


class SysTick:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.ctrl = 0
        self.load = 0
        self._val0 = 0  # VAL when counting started / VAL was written
        self._t0: int | None = None  # instruction count at that moment (None = stopped)
        self._flag_hits = 0  # zero crossings already reported through COUNTFLAG

    def _ticks(self) -> int:
        if self._t0 is None:
            return 0
        div = 1 if self.ctrl & CLKSOURCE else 8
        return (self._clock() - self._t0) // div

    def _hits(self, ticks: int) -> int:
        """1 -> 0 transitions after `ticks` ticks."""
        period = self.load + 1
        first = self._val0 if self._val0 else period
        if self.load == 0 and self._val0 == 0:
            return 0
        if ticks < first:
            return 0
        return 1 + (ticks - first) // period if self.load else 1

    def val(self) -> int:
        t = self._ticks()
        if t <= self._val0:
            return self._val0 - t
        if self.load == 0:
            return 0
        return self.load - (t - self._val0 - 1) % (self.load + 1)

    def read_ctrl(self) -> int:
        hits = self._hits(self._ticks())
        flag = COUNTFLAG if hits > self._flag_hits else 0
        self._flag_hits = hits
        return (self.ctrl & 0x7) | flag

    def _restart(self, val0: int) -> None:
        self._val0 = val0
        self._t0 = self._clock() if self.ctrl & ENABLE else None
        self._flag_hits = 0

    def write_ctrl(self, value: int) -> None:
        current = self.val()
        was_on = bool(self.ctrl & ENABLE)
        self.ctrl = value & 0x7
        if was_on != bool(self.ctrl & ENABLE) or was_on:
            self._restart(current)

    def write_load(self, value: int) -> None:
        current = self.val()
        self.load = value & 0xFF_FFFF
        self._restart(current)

    def write_val(self) -> None:
        self._restart(0)  # any write clears VAL and COUNTFLAG


class SystemControlSpace(Peripheral):
    RESET = {CPUID: CPUID_M4_R0P1, CCR: 0x0000_0200, FPCCR: 0xC000_0000, STK_CALIB: 0xC000_0000}

    def __init__(self, clock: Clock, on_write: Callable[[int], None]) -> None:
        super().__init__()
        self.systick = SysTick(clock)
        self._on_write = on_write  # called with the register offset after a stored register changes

    def trace_enabled(self) -> bool:
        return bool(self.stored(DEMCR) & TRCENA)

    def fpu_enabled(self) -> bool:
        return self.stored(CPACR) & CP10_CP11_FULL == CP10_CP11_FULL

    def read_reg(self, offset: int) -> int:
        if offset == STK_CTRL:
            return self.systick.read_ctrl()
        if offset == STK_LOAD:
            return self.systick.load
        if offset == STK_VAL:
            return self.systick.val()
        if offset == AIRCR:
            return 0xFA05_0000 | (self.stored(AIRCR) & 0x0000_8700)
        return self.stored(offset)

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        if offset == STK_CTRL:
            self.systick.write_ctrl((self.systick.ctrl & ~mask) | (value & mask))
        elif offset == STK_LOAD:
            self.systick.write_load((self.systick.load & ~mask) | (value & mask))
        elif offset == STK_VAL:
            self.systick.write_val()
        elif offset in (CPUID, STK_CALIB):
            return
        elif offset == AIRCR:
            if (value & mask) >> 16 == 0x05FA:
                self.store(AIRCR, value & 0x700, 0x700)
        else:
            self.store(offset, value, mask)
            self._on_write(offset)
