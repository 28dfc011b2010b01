"""LIS3DSH 3-axis accelerometer (ST datasheet DocID022405) on SPI, fed from a queue of samples in g.

SPI transaction (chip select low): first byte = register address, bit 7 = read. Following bytes read or
write consecutive registers when CTRL_REG6.ADD_INC (bit 4, set at reset) is set, else the same register.
Each queued sample is converted to raw counts with the full scale in force when the firmware first reads
it (`raw = round(g / sensitivity)`, clipped to int16). Reading OUT_Z_H pops the current sample.
Samples are not paced in time: the next one is available as soon as the previous is read. With ODR = 0
(power down, the reset state) no data is reported.
"""

from __future__ import annotations

from collections import deque

import numpy as np

WHO_AM_I, CTRL_REG4, CTRL_REG1, CTRL_REG2, CTRL_REG3, CTRL_REG5, CTRL_REG6 = (
    0x0F,
    0x20,
    0x21,
    0x22,
    0x23,
    0x24,
    0x25,
)
INFO1, INFO2, STATUS, OUT_X_L, OUT_Z_H, FIFO_SRC = 0x0D, 0x0E, 0x27, 0x28, 0x2D, 0x2F
WHO_AM_I_VALUE = 0x3F
ZYXDA = 1 << 3
ADD_INC = 1 << 4

# CTRL_REG5 FSCALE[2:0] -> sensitivity in g per LSB.
SENSITIVITY_G = {0: 0.06e-3, 1: 0.12e-3, 2: 0.18e-3, 3: 0.24e-3, 4: 0.73e-3}
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


class Lis3dsh:
    def __init__(self) -> None:
        self.regs = bytearray(0x80)
        self._reset_registers()
        self._queue: deque[np.ndarray] = deque()
        self._current: tuple[int, int, int] | None = None  # raw counts of the head sample, once converted
        self._held = (0, 0, 0)  # last popped sample (what OUT_* read with an empty queue)
        self.clipped = 0
        self.samples_read = 0
        self._address: int | None = None
        self._reading = False

    def _reset_registers(self) -> None:
        self.regs[:] = bytes(0x80)
        for reg, val in _RESET.items():
            self.regs[reg] = val

    # -- host side ----------------------------------------------------------------------------------------
    def feed(self, samples_g: np.ndarray) -> None:
        arr = np.asarray(samples_g, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 3:
            raise ValueError(f"samples must have shape (N, 3) in g, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("samples contain NaN or infinity")
        self._queue.extend(arr)

    @property
    def queued(self) -> int:
        return len(self._queue)

    def powered(self) -> bool:
        return (self.regs[CTRL_REG4] >> 4) != 0

    def has_data(self) -> bool:
        return bool(self._queue) and self.powered()

    def sensitivity_g(self) -> float:
        fscale = (self.regs[CTRL_REG5] >> 3) & 0x7
        return SENSITIVITY_G.get(fscale, SENSITIVITY_G[4])

    # -- SPI side -----------------------------------------------------------------------------------------
    def select(self) -> None:
        self._address = None

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
            self._address = (reg + 1) & 0x7F
        return out

    def _raw_current(self) -> tuple[int, int, int]:
        if not self.has_data():
            return self._held
        if self._current is None:
            sens = self.sensitivity_g()
            raw = np.rint(self._queue[0] / sens)
            clipped = np.clip(raw, -32768, 32767)
            if np.any(clipped != raw):
                self.clipped += 1
            self._current = (int(clipped[0]), int(clipped[1]), int(clipped[2]))
        return self._current

    def _read(self, reg: int) -> int:
        if reg == STATUS:
            return ZYXDA if self.has_data() else 0
        if OUT_X_L <= reg <= OUT_Z_H:
            raw = self._raw_current()
            axis, high = divmod(reg - OUT_X_L, 2)
            value = raw[axis] & 0xFFFF
            if reg == OUT_Z_H and self.has_data():
                self._held = raw
                self._queue.popleft()
                self._current = None
                self.samples_read += 1
            return (value >> 8) if high else (value & 0xFF)
        return self.regs[reg]

    def _write(self, reg: int, value: int) -> None:
        if reg in _READ_ONLY:
            return
        if reg == CTRL_REG3 and value & 0x01:  # STRT: soft reset, self-clearing
            self._reset_registers()
            return
        if reg == CTRL_REG6:
            value &= 0x7F  # BOOT self-clears
        self.regs[reg] = value & 0xFF
