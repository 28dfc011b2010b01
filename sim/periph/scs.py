"""System control space 0xE000E000 (ARMv7-M ARM B3.2-B3.4): SysTick, NVIC, SCB, CPACR, FPU, CoreDebug.

SysTick VAL counts down with the board's virtual clock (CLKSOURCE=1: one tick per cycle; 0: HCLK/8). With
TICKINT set, every 1 -> 0 transition pends the SysTick exception: `next_tick_irq()` tells the board when
the next one is due and `fire_tick_irq()` pends it. NVIC registers (ISER/ICER/ISPR/ICPR/IABR/IPR/STIR),
ICSR (PENDSTSET/PENDSVSET...), SHPR1-3 and AIRCR.PRIGROUP drive `tinyml_disco.sim.periph.nvic.Nvic`.
"""

from __future__ import annotations

from collections.abc import Callable

from tinyml_disco.sim.periph.base import Clock, Peripheral
from tinyml_disco.sim.periph.nvic import NUM_IRQS, PENDSV, PRIO_BITS_MASK, SYSTICK, Nvic

STK_CTRL, STK_LOAD, STK_VAL, STK_CALIB = 0x010, 0x014, 0x018, 0x01C
CPUID, ICSR, VTOR, AIRCR, SCR, CCR = 0xD00, 0xD04, 0xD08, 0xD0C, 0xD10, 0xD14
SHPR1, SHPR2, SHPR3 = 0xD18, 0xD1C, 0xD20
CPACR, DHCSR, DEMCR, STIR, FPCCR = 0xD88, 0xDF0, 0xDFC, 0xF00, 0xF34
ISER, ICER, ISPR, ICPR, IABR, IPR = 0x100, 0x180, 0x200, 0x280, 0x300, 0x400
CPUID_M4_R0P1 = 0x410F_C241
TRCENA = 1 << 24
COUNTFLAG, CLKSOURCE, TICKINT, ENABLE = 1 << 16, 1 << 2, 1 << 1, 1 << 0
CP10_CP11_FULL = 0xF << 20
CCR_STKALIGN = 1 << 9
PENDSVSET, PENDSVCLR, PENDSTSET, PENDSTCLR = 1 << 28, 1 << 27, 1 << 26, 1 << 25


class SysTick:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.ctrl = 0
        self.load = 0
        self._val0 = 0  # VAL when counting started / VAL was written
        self._t0: int | None = None  # clock when counting started (None = stopped)
        self._flag_hits = 0  # zero crossings already reported through COUNTFLAG
        self._irq_hits = 0  # zero crossings already turned into SysTick exceptions

    def _div(self) -> int:
        return 1 if self.ctrl & CLKSOURCE else 8

    def _ticks(self) -> int:
        if self._t0 is None:
            return 0
        return (self._clock() - self._t0) // self._div()

    def _first(self) -> int | None:
        """Ticks to the first 1 -> 0 transition (None: never)."""
        if self.load == 0 and self._val0 == 0:
            return None
        return self._val0 if self._val0 else self.load + 1

    def _hits(self, ticks: int) -> int:
        """1 -> 0 transitions after `ticks` ticks."""
        first = self._first()
        if first is None or ticks < first:
            return 0
        return 1 + (ticks - first) // (self.load + 1) if self.load else 1

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

    def next_tick_irq(self) -> int | None:
        """Clock value of the next transition that pends SysTick, or None when none will. (`_first` and
        `_div` inlined: the board asks several times per interrupt.)"""
        t0, ctrl = self._t0, self.ctrl
        if t0 is None or not ctrl & TICKINT:
            return None
        load, val0, hits = self.load, self._val0, self._irq_hits
        if val0:
            first = val0
        elif load:
            first = load + 1
        else:
            return None
        if load == 0 and hits >= 1:
            return None
        return t0 + (first + hits * (load + 1)) * (1 if ctrl & CLKSOURCE else 8)

    def fire_tick_irq(self) -> None:
        self._irq_hits += 1

    def _restart(self, val0: int) -> None:
        self._val0 = val0
        self._t0 = self._clock() if self.ctrl & ENABLE else None
        self._flag_hits = 0
        self._irq_hits = 0

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
    RESET = {CPUID: CPUID_M4_R0P1, CCR: CCR_STKALIGN, FPCCR: 0xC000_0000, STK_CALIB: 0xC000_0000}

    def __init__(self, clock: Clock, on_write: Callable[[int], None], nvic: Nvic | None = None) -> None:
        super().__init__()
        self.systick = SysTick(clock)
        self.nvic = nvic if nvic is not None else Nvic(lambda: None)
        self._on_write = on_write  # called with the register offset after a stored register changes

    def trace_enabled(self) -> bool:
        return bool(self.stored(DEMCR) & TRCENA)

    def fpu_enabled(self) -> bool:
        return self.stored(CPACR) & CP10_CP11_FULL == CP10_CP11_FULL

    def vtor(self) -> int:
        return self.stored(VTOR) & 0xFFFF_FF80

    def stack_align_8(self) -> bool:
        return bool(self.stored(CCR) & CCR_STKALIGN)

    def _read_icsr(self) -> int:
        n = self.nvic
        value = (n.active[-1] & 0x1FF) if n.active else 0
        best = n.best_pending()
        if best is not None:
            value |= (best & 0x1FF) << 12
        if any(e >= 16 for e in n.pending):
            value |= 1 << 22  # ISRPENDING
        if SYSTICK in n.pending:
            value |= PENDSTSET
        if PENDSV in n.pending:
            value |= PENDSVSET
        if len(n.active) <= 1:
            value |= 1 << 11  # RETTOBASE
        return value

    def _write_icsr(self, value: int) -> None:
        n = self.nvic
        if value & PENDSTSET:
            n.pend(SYSTICK)
        elif value & PENDSTCLR:
            n.unpend(SYSTICK)
        if value & PENDSVSET:
            n.pend(PENDSV)
        elif value & PENDSVCLR:
            n.unpend(PENDSV)

    def read_reg(self, offset: int) -> int:
        if offset == STK_CTRL:
            return self.systick.read_ctrl()
        if offset == STK_LOAD:
            return self.systick.load
        if offset == STK_VAL:
            return self.systick.val()
        if ISER <= offset < IABR + 0x20:
            return self.nvic.read_bank(offset & ~0x7F, offset)
        if IPR <= offset < IPR + NUM_IRQS:
            return int.from_bytes(self.nvic.irq_priority[offset - IPR : offset - IPR + 4].ljust(4, b"\0"), "little")
        if SHPR1 <= offset <= SHPR3:
            base = 4 + (offset - SHPR1)
            return int.from_bytes(self.nvic.sys_priority[base : base + 4], "little")
        if offset == ICSR:
            return self._read_icsr()
        if offset == AIRCR:
            return 0xFA05_0000 | (self.stored(AIRCR) & 0x0000_8700)
        return self.stored(offset)

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        value &= mask
        if offset == STK_CTRL:
            self.systick.write_ctrl((self.systick.ctrl & ~mask) | value)
        elif offset == STK_LOAD:
            self.systick.write_load((self.systick.load & ~mask) | value)
        elif offset == STK_VAL:
            self.systick.write_val()
        elif offset in (CPUID, STK_CALIB):
            return
        elif ISER <= offset < ICPR + 0x20:
            self.nvic.write_bank(offset & ~0x7F, offset, value)
        elif IABR <= offset < IABR + 0x20:
            return  # read-only
        elif IPR <= offset < IPR + NUM_IRQS:
            self._write_priorities(self.nvic.irq_priority, offset - IPR, value, mask)
        elif SHPR1 <= offset <= SHPR3:
            self._write_priorities(self.nvic.sys_priority, 4 + (offset - SHPR1), value, mask)
        elif offset == ICSR:
            self._write_icsr(value)
        elif offset == STIR:
            if value & 0x1FF < NUM_IRQS:
                self.nvic.pend(16 + (value & 0x1FF))
        elif offset == AIRCR:
            if value >> 16 == 0x05FA:
                self.store(AIRCR, value & 0x700, 0x700)
                self.nvic.prigroup = (value >> 8) & 7
        else:
            self.store(offset, value, mask)
            self._on_write(offset)

    def _write_priorities(self, table: bytearray, first: int, value: int, mask: int) -> None:
        for i in range(4):
            if mask >> (8 * i) & 0xFF and first + i < len(table):
                table[first + i] = (value >> (8 * i)) & PRIO_BITS_MASK
        self.nvic.on_priorities_changed()
