"""GPIO port (RM0090 section 8.4): mode/config registers stored, BSRR set/reset, IDR from ODR and inputs."""

from __future__ import annotations

from collections.abc import Callable

from tinyml_disco.sim.periph.base import Peripheral

MODER, OTYPER, OSPEEDR, PUPDR, IDR, ODR, BSRR, LCKR, AFRL, AFRH = (
    0x00,
    0x04,
    0x08,
    0x0C,
    0x10,
    0x14,
    0x18,
    0x1C,
    0x20,
    0x24,
)

_RESET = {
    "A": {MODER: 0xA800_0000, OSPEEDR: 0x0C00_0000, PUPDR: 0x6400_0000},
    "B": {MODER: 0x0000_0280, OSPEEDR: 0x0000_00C0, PUPDR: 0x0000_0100},
}


class GpioPort(Peripheral):
    def __init__(self, name: str) -> None:
        self.RESET = _RESET.get(name, {})
        super().__init__()
        self.name = name
        self.inputs = 0  # externally driven pin levels (for pins not configured as outputs)
        self.listeners: list[Callable[[GpioPort], None]] = []
        self._out_moder = -1
        self._out_mask = 0

    def output_mask(self) -> int:
        moder = self.stored(MODER)
        if moder != self._out_moder:  # cached: IDR reads and chip-select listeners ask for it all the time
            self._out_moder = moder
            self._out_mask = sum(1 << pin for pin in range(16) if (moder >> (2 * pin)) & 3 == 1)
        return self._out_mask

    def is_output_low(self, pin: int) -> bool:
        """True when `pin` is configured as an output and driven low."""
        return bool(self.output_mask() >> pin & 1) and not (self.stored(ODR) >> pin & 1)

    def odr_bit(self, pin: int) -> bool:
        return bool(self.stored(ODR) >> pin & 1)

    def set_input(self, pin: int, level: bool) -> None:
        self.inputs = (self.inputs | (1 << pin)) if level else (self.inputs & ~(1 << pin))

    def read_reg(self, offset: int) -> int:
        if offset == IDR:
            out = self.output_mask()
            return ((self.stored(ODR) & out) | (self.inputs & ~out)) & 0xFFFF
        if offset == BSRR:
            return 0  # write-only
        return self.stored(offset)

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        if offset == IDR:
            return
        if offset == BSRR:
            value &= mask
            odr = self.stored(ODR)
            odr = (odr & ~(value >> 16)) | (value & 0xFFFF)  # set wins over reset
            self.regs[ODR] = odr & 0xFFFF
        elif offset == ODR:
            self.store(ODR, value & 0xFFFF, mask & 0xFFFF)
        else:
            self.store(offset, value, mask)
        if offset in (MODER, ODR, BSRR):
            for listener in self.listeners:
                listener(self)
