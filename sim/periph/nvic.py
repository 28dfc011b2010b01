"""NVIC and system-exception state (ARMv7-M ARM B3.4, B1.5): pending, active, enable, priority.

Exception numbers: 1..15 system (11 SVCall, 14 PendSV, 15 SysTick), 16+n = device IRQ n. Priorities are
8-bit with the STM32F4's 4 implemented bits (the low nibble reads as 0). Device interrupt inputs are level
sensitive: a rising input pends the IRQ, and an input still high when its handler returns pends it again.
"""

from __future__ import annotations

from collections.abc import Callable

NUM_IRQS = 82  # STM32F407 (RM0090 table 61)
SVCALL, PENDSV, SYSTICK = 11, 14, 15
PRIO_BITS_MASK = 0xF0
THREAD_PRIORITY = 256
_FIXED = {1: -3, 2: -2, 3: -1}  # Reset, NMI, HardFault


class Nvic:
    def __init__(self, on_change: Callable[[], None]) -> None:
        self._on_change = on_change  # something may have become deliverable
        self.enabled: set[int] = set()  # IRQ numbers (not exception numbers)
        self.pending: set[int] = set()  # exception numbers
        self.active: list[int] = []  # exception numbers, innermost last
        self.levels: set[int] = set()  # IRQ inputs currently high
        self.irq_priority = bytearray(NUM_IRQS)
        self.sys_priority = bytearray(16)  # SHPR1..3 bytes, indexed by exception number
        self.prigroup = 0

    # -- inputs ---------------------------------------------------------------------------------------------
    def set_level(self, irq: int, high: bool) -> None:
        if high and irq not in self.levels:
            self.levels.add(irq)
            self.pend(16 + irq)
        elif not high:
            self.levels.discard(irq)

    def pend(self, exc: int) -> None:
        if exc not in self.pending:
            self.pending.add(exc)
            self._on_change()

    def unpend(self, exc: int) -> None:
        self.pending.discard(exc)

    # -- priorities -----------------------------------------------------------------------------------------
    def priority(self, exc: int) -> int:
        if exc in _FIXED:
            return _FIXED[exc]
        if exc >= 16:
            return self.irq_priority[exc - 16]
        return self.sys_priority[exc]

    def group_priority(self, exc: int) -> int:
        p = self.priority(exc)
        return p if p < 0 else p & ~((2 << self.prigroup) - 1) & 0xFF

    def _masked_priority(self, prio: int) -> int:
        return prio & ~((2 << self.prigroup) - 1) & 0xFF

    def is_enabled(self, exc: int) -> bool:
        return exc < 16 or (exc - 16) in self.enabled

    def pending_enabled(self) -> list[int]:
        return sorted(e for e in self.pending if self.is_enabled(e))

    def execution_priority(self, primask: int, basepri: int, faultmask: int) -> int:
        prio = self.active_priority()
        if basepri & PRIO_BITS_MASK:
            prio = min(prio, self._masked_priority(basepri & PRIO_BITS_MASK))
        if primask & 1:
            prio = min(prio, 0)
        if faultmask & 1:
            prio = min(prio, -1)
        return prio

    def active_priority(self) -> int:
        """Execution priority from active exceptions alone (what PRIMASK/BASEPRI cannot change)."""
        if not self.active:
            return THREAD_PRIORITY
        return min(self.group_priority(e) for e in self.active)

    def best_pending(self) -> int | None:
        """The pending, enabled exception that would be taken first (lowest priority value, then number)."""
        if len(self.pending) == 1:  # the usual case: no sorting
            (only,) = self.pending
            return only if self.is_enabled(only) else None
        cands = self.pending_enabled()
        if not cands:
            return None
        return min(cands, key=lambda e: (self.group_priority(e), self.priority(e), e))

    def on_priorities_changed(self) -> None:
        self._on_change()

    # -- entry / return -------------------------------------------------------------------------------------
    def acknowledge(self, exc: int) -> None:
        self.pending.discard(exc)
        self.active.append(exc)

    def complete(self, exc: int) -> bool:
        """Deactivate `exc` on exception return; False if it was not active (an illegal return)."""
        if exc not in self.active:
            return False
        self.active.remove(exc)
        if exc >= 16 and (exc - 16) in self.levels:
            self.pending.add(exc)  # level still asserted: pend again
        return True

    # -- registers (offsets inside the SCS page) ------------------------------------------------------------
    def read_bank(self, base: int, offset: int) -> int:
        """ISER/ICER (enabled), ISPR/ICPR (pending), IABR (active): 32 IRQs per word."""
        first = (offset - base) * 8
        if base in (0x100, 0x180):
            bits = self.enabled
        elif base in (0x200, 0x280):
            bits = {e - 16 for e in self.pending if e >= 16}
        else:
            bits = {e - 16 for e in self.active if e >= 16}
        return sum(1 << (i - first) for i in bits if first <= i < first + 32)

    def write_bank(self, base: int, offset: int, value: int) -> None:
        first = (offset - base) * 8
        irqs = [first + i for i in range(32) if value >> i & 1 and first + i < NUM_IRQS]
        if base == 0x100:
            self.enabled.update(irqs)
        elif base == 0x180:
            self.enabled.difference_update(irqs)
        elif base == 0x200:
            for irq in irqs:
                self.pend(16 + irq)
        elif base == 0x280:
            for irq in irqs:
                self.pending.discard(16 + irq)
        self._on_change()
