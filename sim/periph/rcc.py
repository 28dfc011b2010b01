"""RCC (RM0090 section 7): clock control; ready flags follow their enables, SWS follows SW."""

from __future__ import annotations

from collections.abc import Callable

from tinyml_disco.sim.periph.base import Peripheral

CR, PLLCFGR, CFGR, CIR = 0x00, 0x04, 0x08, 0x0C
AHB1ENR, AHB2ENR, AHB3ENR, APB1ENR, APB2ENR = 0x30, 0x34, 0x38, 0x40, 0x44
BDCR, CSR, PLLI2SCFGR = 0x70, 0x74, 0x84

HSI_HZ = 16_000_000
HSE_HZ = 8_000_000  # the Discovery board's crystal

# (enable bit, ready bit) pairs per register.
_READY = {CR: ((0, 1), (16, 17), (24, 25), (26, 27)), BDCR: ((0, 1),), CSR: ((0, 1),)}


class Rcc(Peripheral):
    RESET = {
        CR: 0x0000_0083,
        PLLCFGR: 0x2400_3010,
        AHB1ENR: 0x0010_0000,
        CSR: 0x0E00_0000,
        PLLI2SCFGR: 0x2000_3000,
    }

    def __init__(self) -> None:
        super().__init__()
        self._hclk: int | None = None  # cached: the sensor pacing and run_for ask for it very often
        self.on_write: Callable[[], None] | None = None  # after every register write (clock gates may change)
        self._held_low: dict[int, int] = {}  # offset -> bits that stay 0 (hold_low)

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        self._hclk = None
        new = self.store(offset, value, mask)
        for en, rdy in _READY.get(offset, ()):
            new = (new | (1 << rdy)) if new & (1 << en) else (new & ~(1 << rdy))
        if offset == CFGR:
            new = (new & ~0xC) | ((new & 0x3) << 2)
        self.regs[offset] = new & ~self._held_low.get(offset, 0)
        if self.on_write is not None:
            self.on_write()

    def hold_low(self, offset: int, mask: int) -> None:
        """Fault injection (tests): the bits of `mask` in register `offset` read 0 from now on, whatever the firmware
        writes: an oscillator that never reports ready (CR.HSIRDY, HSERDY, PLLRDY), a clock switch that never
        reports done (CFGR.SWS)."""
        self._hclk = None
        self._held_low[offset] = self._held_low.get(offset, 0) | mask
        self.regs[offset] = self.stored(offset) & ~mask

    def enabled(self, offset: int, bit: int) -> bool:
        return bool(self.regs.get(offset, 0) >> bit & 1)

    def sysclk_hz(self) -> int:
        """SYSCLK from CFGR.SWS and PLLCFGR (f = src / M * N / P)."""
        sws = (self.stored(CFGR) >> 2) & 3
        if sws == 1:
            return HSE_HZ
        if sws == 2:
            pll = self.stored(PLLCFGR)
            src = HSE_HZ if pll >> 22 & 1 else HSI_HZ
            m, n, p = pll & 0x3F, (pll >> 6) & 0x1FF, ((pll >> 16) & 3) * 2 + 2
            return src * n // (m * p) if m else 0
        return HSI_HZ

    def hclk_hz(self) -> int:
        hclk = self._hclk
        if hclk is None:
            hclk = self._hclk = self._compute_hclk_hz()
        return hclk

    def _compute_hclk_hz(self) -> int:
        hpre = (self.stored(CFGR) >> 4) & 0xF
        div = 1 if hpre < 8 else (2, 4, 8, 16, 64, 128, 256, 512)[hpre - 8]
        return self.sysclk_hz() // div
