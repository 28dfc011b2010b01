"""LIS2DW12 3-axis accelerometer (ST datasheet DS12204) as an I2C target, fed from a queue of samples in g.

I2C: a write transaction's first byte is the register address; further written bytes and the bytes of a
following read (after a repeated START) access consecutive registers when CTRL2.IF_ADD_INC (bit 2, set at
reset) is set. WHO_AM_I = 0x44. CTRL1: ODR[7:4], MODE[3:2] (01 = high performance), LP_MODE[1:0]. CTRL6
FS[5:4]: +-2/4/8/16 g. Output: 14-bit two's complement, left-justified in 16 bits (12-bit in low-power
mode 1), sensitivity 0.244 mg/LSB at +-2 g (14-bit) doubling per range: +-8 g = 0.976 mg/LSB. Samples
saturate at the 14-bit (12-bit) range. STATUS.DRDY rises with each new sample and clears when the output
is read (OUT_Z_H); CTRL4_INT1 INT1_DRDY routes it to INT1 (latched, active high: CTRL3.H_LACTIVE = 0;
CTRL7.DRDY_PULSED = 1 gives a pulse per sample). CTRL7.INTERRUPTS_ENABLE is not needed for data-ready.

Differences from Renode's LIS2DW12 model (renode-infrastructure Sensors/LIS2DW12.cs), which the firmware
tolerates: Renode increments the address only inside OUT_X_L..OUT_Z_H, converts with FS/0x3FFF g per LSB
truncating toward zero, reports DRDY whenever ODR != 0, drives IRQ as a level (INTERRUPTS_ENABLE and
INT1_DRDY and ODR != 0) rather than per sample, and advances to the next fed sample on an OUT_Z_H read
only in FIFO mode. This model follows the datasheet.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.periph.accel import FedSensor, SampleStream, to_counts

ADDRESS_SA0_HIGH, ADDRESS_SA0_LOW = 0x19, 0x18
WHO_AM_I, CTRL1, CTRL2, CTRL3, CTRL4_INT1, CTRL5_INT2, CTRL6 = 0x0F, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25
STATUS, OUT_X_L, OUT_Z_H, FIFO_CTRL, FIFO_SAMPLES, CTRL7 = 0x27, 0x28, 0x2D, 0x2E, 0x2F, 0x3F
WHO_AM_I_VALUE = 0x44
IF_ADD_INC, SOFT_RESET, BOOT = 1 << 2, 1 << 6, 1 << 7
DRDY = 1 << 0
INT1_DRDY = 1 << 0
H_LACTIVE = 1 << 3
DRDY_PULSED = 1 << 7
FS_G = {0: 2, 1: 4, 2: 8, 3: 16}
# ODR[3:0] -> mHz; low-power modes top out at 200 Hz.
ODR_MHZ_HP = {0: 0, 1: 12500, 2: 12500, 3: 25000, 4: 50000, 5: 100000, 6: 200000, 7: 400000, 8: 800000,
              9: 1600000}  # fmt: skip
ODR_MHZ_LP = {**ODR_MHZ_HP, 1: 1600, 7: 200000, 8: 200000, 9: 200000}
_RESET = {WHO_AM_I: WHO_AM_I_VALUE, CTRL2: IF_ADD_INC}
_READ_ONLY = {0x0D, 0x0E, WHO_AM_I, 0x26, STATUS, *range(OUT_X_L, OUT_Z_H + 1), FIFO_SAMPLES, 0x37, 0x38,
              0x39, 0x3A}  # fmt: skip


def lsb_g(fs_code: int, low_power_12bit: bool) -> float:
    """g per count of the right-justified output (14-bit, or 12-bit in low-power mode 1)."""
    base = 0.244e-3 * (FS_G[fs_code] // 2)
    return base * 4 if low_power_12bit else base


def firmware_counts(raw14: np.ndarray, full_scale_g: int = 8, model_lsb_ug: int = 240) -> np.ndarray:
    """Python twin of firmware/src/lis2dw12.c `lis2dw12_to_model_counts`: 14-bit counts (244 ug * fs/2 each)
    to the model's LIS3DSH units (`model_lsb_ug` per count), rounded half away from zero, saturated to
    int16. At +-8 g and 240 ug this is x * 976/240 = x * 61/15."""
    x = np.asarray(raw14, dtype=np.int64)
    num, den = 122 * full_scale_g, model_lsb_ug
    q = (np.abs(x) * num + den // 2) // den * np.sign(x)
    return np.clip(q, -32768, 32767).astype(np.int16)


def firmware_counts_from_g(samples_g: np.ndarray, full_scale_g: int = 8, model_lsb_ug: int = 240) -> np.ndarray:
    """What the firmware's window holds for samples fed to this sensor: 14-bit high-performance counts
    (0.244 mg * fs/2 each, rounded as this model does, saturated) rescaled by `firmware_counts`."""
    lsb_g = 0.244e-3 * full_scale_g / 2
    raw14 = np.clip(np.rint(np.asarray(samples_g, dtype=np.float64) / lsb_g), -8192, 8191)
    return firmware_counts(raw14, full_scale_g, model_lsb_ug)


class Lis2dw12(FedSensor):
    name = "LIS2DW12"

    def __init__(
        self,
        clock: Callable[[], int],
        hz: Callable[[], int] = lambda: 168_000_000,
        on_int1: Callable[[bool], None] = lambda _level: None,
        address: int = ADDRESS_SA0_HIGH,
    ) -> None:
        self.clock = clock
        self.address = address
        self.stream = SampleStream(clock, hz)
        self.on_int1 = on_int1
        self.regs = bytearray(0x40)
        self.regs[:] = bytes(0x40)
        for reg, val in _RESET.items():
            self.regs[reg] = val
        self._raw = (0, 0, 0)  # right-justified counts of the current output
        self.samples_read = 0
        self._pointer = 0
        self._expect_pointer = False
        self._int1 = False

    # -- state (feed/queued/clipped come from FedSensor) ---------------------------------------------------
    def _low_power_12bit(self) -> bool:
        ctrl1 = self.regs[CTRL1]
        return (ctrl1 >> 2) & 3 == 0 and ctrl1 & 3 == 0

    def _odr_mhz(self) -> int:
        ctrl1 = self.regs[CTRL1]
        table = ODR_MHZ_HP if (ctrl1 >> 2) & 3 == 1 else ODR_MHZ_LP
        return table.get(ctrl1 >> 4, 0)

    def powered(self) -> bool:
        return self._odr_mhz() != 0

    def has_data(self) -> bool:
        return self.powered() and (bool(self.stream.queue) or bool(self.regs[STATUS] & DRDY))

    # -- data-ready (FedSensor produces the samples) ---------------------------------------------------------
    def _convert(self, sample_g: np.ndarray) -> tuple[tuple[int, int, int], bool]:
        lp12 = self._low_power_12bit()
        bits = 12 if lp12 else 14
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        return to_counts(sample_g, lsb_g((self.regs[CTRL6] >> 4) & 3, lp12), lo, hi)

    def _latch_data_ready(self) -> bool:
        overrun = bool(self.regs[STATUS] & DRDY)
        self.regs[STATUS] |= DRDY
        return overrun

    def _int1_pulsed(self) -> bool:
        return bool(self.regs[CTRL4_INT1] & INT1_DRDY) and bool(self.regs[CTRL7] & DRDY_PULSED)

    def int1_level(self) -> bool:
        active = (
            bool(self.regs[CTRL4_INT1] & INT1_DRDY)
            and not self.regs[CTRL7] & DRDY_PULSED
            and bool(self.regs[STATUS] & DRDY)
        )
        return active != bool(self.regs[CTRL3] & H_LACTIVE)

    # -- I2C target side ----------------------------------------------------------------------------------
    def i2c_start(self, read: bool) -> bool:
        """Address phase matched this device; True = ACK."""
        self.sync()
        self._expect_pointer = not read
        return True

    def i2c_write(self, byte: int) -> bool:
        if self._expect_pointer:
            self._pointer = byte & 0x7F
            self._expect_pointer = False
            return True
        self._write(self._pointer, byte)
        self._advance_pointer()
        return True

    def i2c_read(self) -> int:
        self.sync()
        value = self._read(self._pointer)
        self._advance_pointer()
        return value

    def i2c_stop(self) -> None:
        self._expect_pointer = False

    def _advance_pointer(self) -> None:
        if self.regs[CTRL2] & IF_ADD_INC:
            self._pointer = (self._pointer + 1) & 0x3F

    def _read(self, reg: int) -> int:
        if reg >= len(self.regs):
            return 0
        if OUT_X_L <= reg <= OUT_Z_H:
            axis, high = divmod(reg - OUT_X_L, 2)
            shift = 4 if self._low_power_12bit() else 2
            value = (self._raw[axis] << shift) & 0xFFFF  # left-justified
            if reg == OUT_Z_H and self.regs[STATUS] & DRDY:
                self.regs[STATUS] &= ~DRDY & 0xFF
                self.samples_read += 1
                self._update_int1()
            return (value >> 8) if high else (value & 0xFF)
        return self.regs[reg]

    def _write(self, reg: int, value: int) -> None:
        if reg >= len(self.regs) or reg in _READ_ONLY:
            return
        if reg == CTRL2 and value & SOFT_RESET:
            ptr = self._pointer
            self.regs[:] = bytes(0x40)
            for r, v in _RESET.items():
                self.regs[r] = v
            self._pointer = ptr
            self.stream.set_odr(0)
            self._update_int1()
            return
        if reg == CTRL2:
            value &= ~(SOFT_RESET | BOOT)
        self.regs[reg] = value & 0xFF
        if reg == CTRL1:
            self.stream.set_odr(self._odr_mhz())
        if reg in (CTRL3, CTRL4_INT1, CTRL7):
            self._update_int1()
