"""LIS3DSH 3-axis accelerometer (ST datasheet DocID022405) on SPI, fed from a queue of samples in g.

SPI transaction (chip select low): first byte = register address, bit 7 = read. Following bytes read or
write consecutive registers when CTRL_REG6.ADD_INC (bit 4, set at reset) is set, else the same register.
Samples are produced at the ODR of CTRL_REG4 in virtual time (`tinyml_disco.sim.periph.accel.SampleStream`), converted
with the CTRL_REG5 full scale (`raw = round(g / sensitivity)`, saturated to int16 as the sensor's output
saturates). STATUS.ZYXDA rises with each new sample and clears when OUT_Z_H is read; a sample arriving
before the previous one was read sets ZYXOR. With CTRL_REG3 DR_EN and INT1_EN the INT1 pin follows ZYXDA
(IEA = active high, IEL = pulsed: a short pulse per sample instead of a level).

FIFO (32 samples): CTRL_REG6.FIFO_EN plus FIFO_CTRL.FMODE (bits 7:5: 000 bypass, 001 FIFO = stop when full,
010 stream = overwrite the oldest and set OVRN_FIFO) queue the samples; FIFO_SRC reads WTM (bit 7: unread
samples >= FIFO_CTRL.WTMP, when CTRL_REG6.WTM_EN is set; else when full), OVRN_FIFO (6), EMPTY (5) and FSS[4:0]
(unread samples, 31 at most: a full FIFO also reads OVRN or WTM). CTRL_REG6.P1_WTM / P1_EMPTY / P1_OVERRUN
route those flags to INT1 (with CTRL_REG3.INT1_EN) as a level. Reading OUT_X_L in FIFO mode moves the oldest
sample to the output registers; with ADD_INC the address wraps from OUT_Z_H back to OUT_X_L in FIFO mode, so
one burst can read several samples.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from tinyml_disco.sim.periph.accel import FedSensor, SampleStream, to_counts

WHO_AM_I, CTRL_REG4, CTRL_REG1, CTRL_REG2, CTRL_REG3, CTRL_REG5, CTRL_REG6 = (
    0x0F,
    0x20,
    0x21,
    0x22,
    0x23,
    0x24,
    0x25,
)
INFO1, INFO2, STATUS, OUT_X_L, OUT_Z_H, FIFO_CTRL, FIFO_SRC = 0x0D, 0x0E, 0x27, 0x28, 0x2D, 0x2E, 0x2F
WHO_AM_I_VALUE = 0x3F
ZYXDA, ZYXOR = 1 << 3, 1 << 7
ADD_INC = 1 << 4
FIFO_EN, WTM_EN, P1_EMPTY, P1_WTM, P1_OVERRUN = 1 << 6, 1 << 5, 1 << 3, 1 << 2, 1 << 1
FMODE_BYPASS, FMODE_FIFO, FMODE_STREAM = 0, 1, 2
SRC_WTM, SRC_OVRN, SRC_EMPTY = 1 << 7, 1 << 6, 1 << 5
FIFO_DEPTH = 32
DR_EN, IEA, IEL, INT1_EN = 1 << 7, 1 << 6, 1 << 5, 1 << 3

# CTRL_REG5 FSCALE[2:0] -> sensitivity in g per LSB.
SENSITIVITY_G = {0: 0.06e-3, 1: 0.12e-3, 2: 0.18e-3, 3: 0.24e-3, 4: 0.73e-3}
# CTRL_REG4 ODR[3:0] -> output data rate in mHz.
ODR_MHZ = {0: 0, 1: 3125, 2: 6250, 3: 12500, 4: 25000, 5: 50000, 6: 100000, 7: 400000, 8: 800000, 9: 1600000}
_RESET = {
    INFO1: 0x21,
    WHO_AM_I: WHO_AM_I_VALUE,
    CTRL_REG4: 0x07,
    CTRL_REG6: ADD_INC,
    0x16: 0x01,
    0x17: 0x00,
    FIFO_SRC: 0x20,
}
_READ_ONLY = {0x0C, INFO1, INFO2, WHO_AM_I, 0x18, STATUS, *range(OUT_X_L, OUT_Z_H + 1), FIFO_SRC}


def _no_pin(_level: bool) -> None:
    pass


class _ManualClock:
    """For a sensor used on its own (unit tests): time only moves when `now` is set."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


class Lis3dsh(FedSensor):
    name = "LIS3DSH"

    def __init__(
        self,
        clock: Callable[[], int] | None = None,
        hz: Callable[[], int] = lambda: 168_000_000,
        on_int1: Callable[[bool], None] = lambda _level: None,
    ) -> None:
        self.clock = clock if clock is not None else _ManualClock()
        self.stream = SampleStream(self.clock, hz)
        self.on_int1 = on_int1
        self.regs = bytearray(0x80)
        self._reset_registers()
        self._raw = (0, 0, 0)
        self.fifo: deque[tuple[int, int, int]] = deque()
        self._fifo_overrun = False
        self.samples_read = 0
        self._address: int | None = None
        self._reading = False
        self._int1 = self.int1_level()

    def _reset_registers(self) -> None:
        self.regs[:] = bytes(0x80)
        for reg, val in _RESET.items():
            self.regs[reg] = val

    # -- state (feed/queued/clipped come from FedSensor) ---------------------------------------------------
    def powered(self) -> bool:
        return (self.regs[CTRL_REG4] >> 4) != 0

    def has_data(self) -> bool:
        """Samples still to come, or ones the firmware is due to read (a FIFO batch below the watermark waits)."""
        if not self.powered():
            return False
        if self._fifo_on():
            return bool(self.stream.queue) or bool(self._fifo_src() & SRC_WTM and self.fifo)
        return bool(self.stream.queue) or bool(self.regs[STATUS] & ZYXDA)

    def _fifo_on(self) -> bool:
        return bool(self.regs[CTRL_REG6] & FIFO_EN) and (self.regs[FIFO_CTRL] >> 5) != FMODE_BYPASS

    def _fifo_src(self) -> int:
        level = len(self.fifo)
        wtm = self.regs[FIFO_CTRL] & 0x1F if self.regs[CTRL_REG6] & WTM_EN else FIFO_DEPTH
        return (min(level, 31) | (SRC_WTM if level >= wtm else 0) | (SRC_OVRN if self._fifo_overrun else 0)
                | (0 if level else SRC_EMPTY))

    def sensitivity_g(self) -> float:
        fscale = (self.regs[CTRL_REG5] >> 3) & 0x7
        return SENSITIVITY_G.get(fscale, SENSITIVITY_G[4])

    # -- data-ready (FedSensor produces the samples) ---------------------------------------------------------
    def _convert(self, sample_g: np.ndarray) -> tuple[tuple[int, int, int], bool]:
        return to_counts(sample_g, self.sensitivity_g(), -32768, 32767)

    def _samples_to_int1_change(self) -> int:
        """In FIFO mode with only the watermark routed to INT1, nothing changes on the pin before the
        watermark: the board can skip to that conversion (batched sample delivery)."""
        ctrl6 = self.regs[CTRL_REG6]
        if (not self._fifo_on() or ctrl6 & (P1_EMPTY | P1_OVERRUN) or self.regs[CTRL_REG3] & DR_EN
                or not ctrl6 & WTM_EN):
            return 1
        return max(1, (self.regs[FIFO_CTRL] & 0x1F) - len(self.fifo))

    def _produce(self, sample_g: np.ndarray, t: int) -> None:
        if not self._fifo_on():
            super()._produce(sample_g, t)  # bypass: the sample goes to the output registers, ZYXDA rises
            return
        # stream mode overwrites the oldest sample when full, FIFO mode stops
        self._push_fifo(sample_g, FIFO_DEPTH, stop_when_full=self.regs[FIFO_CTRL] >> 5 == FMODE_FIFO)

    def _latch_data_ready(self) -> bool:
        overrun = bool(self.regs[STATUS] & ZYXDA)
        if overrun:
            self.regs[STATUS] |= ZYXOR
        self.regs[STATUS] |= ZYXDA
        return overrun

    def _int1_pulsed(self) -> bool:
        return self._int1_routed() and bool(self.regs[CTRL_REG3] & IEL)

    def _int1_routed(self) -> bool:
        return self.regs[CTRL_REG3] & (DR_EN | INT1_EN) == DR_EN | INT1_EN

    def int1_level(self) -> bool:
        active = self._int1_routed() and not self.regs[CTRL_REG3] & IEL and bool(self.regs[STATUS] & ZYXDA)
        ctrl6 = self.regs[CTRL_REG6]
        if self.regs[CTRL_REG3] & INT1_EN and ctrl6 & (P1_WTM | P1_EMPTY | P1_OVERRUN) and self._fifo_on():
            src = self._fifo_src()
            active = active or bool(ctrl6 & P1_WTM and src & SRC_WTM) or bool(
                ctrl6 & P1_EMPTY and src & SRC_EMPTY) or bool(ctrl6 & P1_OVERRUN and src & SRC_OVRN)
        return active if self.regs[CTRL_REG3] & IEA else not active

    # -- SPI side -----------------------------------------------------------------------------------------
    def select(self) -> None:
        self._address = None
        self.sync()

    def deselect(self) -> None:
        self._address = None

    def transfer(self, mosi: int) -> int:
        if self._address is None:
            self._address = mosi & 0x7F
            self._reading = bool(mosi & 0x80)
            return 0xFF
        reg = self._address
        if self._reading:
            out = self._read(reg)
        else:
            self._write(reg, mosi)
            out = 0xFF
        if self.regs[CTRL_REG6] & ADD_INC:
            self._address = OUT_X_L if reg == OUT_Z_H and self._fifo_on() else (reg + 1) & 0x7F
        return out

    def read_ahead(self, limit: int) -> tuple[bytes, Callable[[int], None]] | None:
        """Prefetch for the native SPI path (sim/periph/spi.py): inside a read transaction, the bytes up to
        OUT_Z_H (or the one register addressed), taken now with their side effects; INT1 is driven when the
        transaction settles, and `finish(n)` undoes all but the first n if the firmware read fewer."""
        if self._address is None or not self._reading:
            return None
        reg = self._address
        if OUT_X_L <= reg <= OUT_Z_H and limit >= 6 and self.regs[CTRL_REG6] & ADD_INC and self._fifo_on():
            if reg == OUT_X_L:
                return self._read_ahead_fifo_sample()
            if not self.regs[STATUS] & ZYXDA:  # the rest of the sample in the output registers: no side effects
                x, y, z = self._raw
                rest = bytes((x & 0xFF, (x >> 8) & 0xFF, y & 0xFF, (y >> 8) & 0xFF, z & 0xFF, (z >> 8) & 0xFF))
                self._address = OUT_X_L

                def finish_rest(taken: int) -> None:
                    if taken < OUT_Z_H - reg + 1:
                        self._address = reg + taken

                return rest[reg - OUT_X_L:], finish_rest
        n = OUT_Z_H - reg + 1 if OUT_X_L <= reg <= OUT_Z_H and self.regs[CTRL_REG6] & ADD_INC else 1
        n = min(n, limit)
        snap = (bytes(self.regs), deque(self.fifo), self._raw, self._fifo_overrun, self.samples_read, reg,
                self._int1)
        on_int1 = self.on_int1
        self.on_int1 = _no_pin
        try:
            data = bytes(self.transfer(0) for _ in range(n))
        finally:
            self.on_int1 = on_int1

        def finish(taken: int) -> None:
            if taken < n:  # the firmware stopped early: back to the snapshot, then its real reads
                regs, fifo, self._raw, self._fifo_overrun, self.samples_read, self._address, self._int1 = snap
                self.regs[:] = regs
                self.fifo = fifo
                for _ in range(taken):
                    self.transfer(0)
            elif self._int1 != snap[6]:
                self.on_int1(self._int1)  # the pin follows now (no rising edge can come from a read)

        return data, finish

    def _read_ahead_fifo_sample(self) -> tuple[bytes, Callable[[int], None]]:
        """read_ahead's common case, without six register reads: one whole FIFO sample from OUT_X_L (the same
        bytes and state as _read gives; INT1 is updated once, when the transaction settles)."""
        popped = self.fifo.popleft() if self.fifo else None
        before = (self._raw, self._fifo_overrun, self.samples_read)
        if popped is not None:
            self._raw = popped
            self._fifo_overrun = False
            self.samples_read += 1
        x, y, z = self._raw
        data = bytes((x & 0xFF, (x >> 8) & 0xFF, y & 0xFF, (y >> 8) & 0xFF, z & 0xFF, (z >> 8) & 0xFF))
        self._address = OUT_X_L  # OUT_Z_H rolls over to OUT_X_L with the FIFO on

        def finish(taken: int) -> None:
            if taken < 6:  # the firmware stopped early: undo, then its real reads
                if popped is not None:
                    self.fifo.appendleft(popped)
                self._raw, self._fifo_overrun, self.samples_read = before
                self._address = OUT_X_L
                for _ in range(taken):
                    self.transfer(0)
            self._update_int1()

        return data, finish

    def _read(self, reg: int) -> int:
        if reg == FIFO_SRC:
            return self._fifo_src()
        if OUT_X_L <= reg <= OUT_Z_H:
            if reg == OUT_X_L and self._fifo_on() and self.fifo:
                self._raw = self.fifo.popleft()  # the oldest FIFO sample moves to the output registers
                self._fifo_overrun = False
                self.samples_read += 1
                self._update_int1()
            axis, high = divmod(reg - OUT_X_L, 2)
            value = self._raw[axis] & 0xFFFF
            if reg == OUT_Z_H and self.regs[STATUS] & ZYXDA:
                self.regs[STATUS] &= ~(ZYXDA | ZYXOR) & 0xFF
                self.samples_read += 1
                self._update_int1()
            return (value >> 8) if high else (value & 0xFF)
        return self.regs[reg]

    def _write(self, reg: int, value: int) -> None:
        if reg in _READ_ONLY:
            return
        if reg == CTRL_REG3 and value & 0x01:  # STRT: soft reset, self-clearing
            self._reset_registers()
            self.fifo.clear()
            self._fifo_overrun = False
            self.stream.set_odr(0)
            self._update_int1()
            return
        if reg == CTRL_REG6:
            value &= 0x7F  # BOOT self-clears
        self.regs[reg] = value & 0xFF
        if reg == CTRL_REG4:
            self.stream.set_odr(ODR_MHZ.get(value >> 4, 0))
        if reg in (CTRL_REG6, FIFO_CTRL) and not self._fifo_on():
            self.fifo.clear()  # bypass mode (or FIFO_EN off) empties the FIFO
            self._fifo_overrun = False
        if reg in (CTRL_REG3, CTRL_REG6, FIFO_CTRL):
            self._update_int1()
