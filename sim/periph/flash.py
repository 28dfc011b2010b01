"""Embedded flash interface registers (RM0090 section 3.9): ACR latency etc. are stored and read back."""

from __future__ import annotations

from sim.periph.base import Peripheral

ACR, KEYR, OPTKEYR, SR, CR, OPTCR = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14


class FlashInterface(Peripheral):
    RESET = {CR: 0x8000_0000, OPTCR: 0x0FFF_AAED}

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        if offset in (KEYR, OPTKEYR):
            return  # write-only key registers; programming is not modelled
        self.store(offset, value, mask)
