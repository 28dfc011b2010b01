"""Power controller (RM0090 section 5.4): CR stored, CSR reports VOSRDY."""

from __future__ import annotations

from sim.periph.base import Peripheral

CR, CSR = 0x00, 0x04
VOSRDY = 1 << 14


class Pwr(Peripheral):
    RESET = {CR: 0x0000_4000, CSR: VOSRDY}

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        if offset == CSR:
            value = (value & 0x0000_0300) | VOSRDY  # only EWUP/BRE are writable
            mask |= VOSRDY
        self.store(offset, value, mask)
