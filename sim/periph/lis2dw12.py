"""LIS2DW12 3-axis accelerometer (ST datasheet DS12204) as an I2C target, fed from a queue of samples in g.

I2C: a write transaction's first byte is the register address; further written bytes and the bytes of a
following read (after a repeated START) access consecutive registers when CTRL2.IF_ADD_INC (bit 2, set at
reset) is set. WHO_AM_I = 0x44. CTRL1: ODR[7:4], MODE[3:2] (01 = high performance), LP_MODE[1:0]. CTRL6
FS[5:4]: +-2/4/8/16 g. Output: 14-bit two's complement, left-justified in 16 bits (12-bit in low-power
mode 1), sensitivity 0.244 mg/LSB at +-2 g (14-bit) doubling per range: +-8 g = 0.976 mg/LSB. Samples
saturate at the 14-bit (12-bit) range. STATUS.DRDY rises with each new sample and clears when the output
is read (OUT_Z_H); CTRL4_INT1 INT1_DRDY routes it to INT1 (latched, active high: CTRL3.H_LACTIVE = 0;
CTRL7.DRDY_PULSED = 1 gives a pulse per sample). CTRL7.INTERRUPTS_ENABLE is not needed for data-ready.

FIFO (FIFO_CTRL FMode: 000 bypass, 001 FIFO = stop when full, 110 continuous = overwrite the oldest and set
FIFO_OVR): 32 samples; FIFO_SAMPLES holds DIFF[5:0], FIFO_OVR (bit 6) and FIFO_FTH (bit 7: DIFF >= FTH);
CTRL4_INT1 INT1_FTH routes FIFO_FTH to INT1 as a level. Reading OUT_X_L loads the oldest sample into the
output registers, as Renode's model does (the firmware reads each sample as one 6-byte burst).

Quantization: the datasheet gives the sensitivity, not the rounding. A sample arrives in micro-g (RESD
stores int32 ug; samples in g are rounded to the nearest ug first) and becomes round-toward-zero(ug /
(244 * FS/2)), which is what Renode 1.15.3's model computes in decimal arithmetic, so one RESD file gives
identical counts on both (tests/test_renode_differential.py). Other differences from Renode's model
(renode-infrastructure Sensors/LIS2DW12.cs), which the firmware tolerates: Renode increments the address
only inside OUT_X_L..OUT_Z_H (and wraps OUT_Z_H to OUT_X_L only in FIFO mode), reports DRDY whenever
ODR != 0 and drives a data-ready INT1 as a level whenever the ODR is set (it cannot mark new samples:
the firmware uses the FIFO threshold instead), and returns its default sample (0, 0, 1 g) from an empty
FIFO. This model follows the datasheet there.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from tinyml_disco.sim.periph.accel import FedSensor, SampleStream

ADDRESS_SA0_HIGH, ADDRESS_SA0_LOW = 0x19, 0x18
WHO_AM_I, CTRL1, CTRL2, CTRL3, CTRL4_INT1, CTRL5_INT2, CTRL6 = 0x0F, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25
STATUS, OUT_X_L, OUT_Z_H, FIFO_CTRL, FIFO_SAMPLES, CTRL7 = 0x27, 0x28, 0x2D, 0x2E, 0x2F, 0x3F
WHO_AM_I_VALUE = 0x44
IF_ADD_INC, SOFT_RESET, BOOT = 1 << 2, 1 << 6, 1 << 7
DRDY = 1 << 0
INT1_DRDY = 1 << 0
INT1_FTH = 1 << 1
INT1_DIFF5 = 1 << 2
FIFO_DEPTH = 32
FMODE_BYPASS, FMODE_FIFO, FMODE_CONTINUOUS = 0, 1, 6
FIFO_OVR, FIFO_FTH = 1 << 6, 1 << 7
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


def firmware_counts(raw14: np.ndarray, full_scale_g: int = 8, model_lsb_ug: int = 240) -> np.ndarray:
    """Python twin of firmware/src/lis2dw12.c `to_model_counts`: 14-bit counts (244 ug * fs/2 each)
    to the model's LIS3DSH units (`model_lsb_ug` per count), rounded half away from zero, saturated to
    int16. At +-8 g and 240 ug this is x * 976/240 = x * 61/15."""
    x = np.asarray(raw14, dtype=np.int64)
    num, den = 122 * full_scale_g, model_lsb_ug
    q = (np.abs(x) * num + den // 2) // den * np.sign(x)
    return np.clip(q, -32768, 32767).astype(np.int16)


def counts_from_ug(ug: np.ndarray, step_ug: int, lo: int, hi: int) -> np.ndarray:
    """Output counts for samples in integer micro-g: round toward zero (ug / step_ug), saturated to [lo, hi]."""
    u = np.asarray(ug, dtype=np.int64)
    return np.clip(np.sign(u) * (np.abs(u) // step_ug), lo, hi)


def step_ug(fs_code: int, low_power_12bit: bool) -> int:
    """Micro-g per count of the right-justified output (14-bit, or 12-bit in low-power mode 1)."""
    step = 244 * (FS_G[fs_code] // 2)
    return step * 4 if low_power_12bit else step


def firmware_counts_from_g(samples_g: np.ndarray, full_scale_g: int = 8, model_lsb_ug: int = 240) -> np.ndarray:
    """What the firmware's window holds for samples fed to this sensor: 14-bit high-performance counts
    (quantized as this model and Renode's do, saturated) rescaled by `firmware_counts`."""
    ug = np.rint(np.asarray(samples_g, dtype=np.float64) * 1e6)
    raw14 = counts_from_ug(ug, 244 * (full_scale_g // 2), -8192, 8191)
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
        self.fifo: deque[tuple[int, int, int]] = deque()
        self._fifo_overrun = False
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
        """Samples still to come, or ones the firmware is due to read (a batch below the FIFO threshold waits)."""
        if not self.powered():
            return False
        if self._fifo_mode() != FMODE_BYPASS:
            return bool(self.stream.queue) or bool(self._fifo_status() & FIFO_FTH and self.fifo)
        return bool(self.stream.queue) or bool(self.regs[STATUS] & DRDY)

    def _fifo_mode(self) -> int:
        return self.regs[FIFO_CTRL] >> 5

    def _fifo_status(self) -> int:
        diff = min(len(self.fifo), FIFO_DEPTH)
        fth = self.regs[FIFO_CTRL] & 0x1F
        return diff | (FIFO_OVR if self._fifo_overrun else 0) | (FIFO_FTH if diff >= fth else 0)

    # -- data-ready (FedSensor produces the samples) ---------------------------------------------------------
    def _convert(self, sample_g: np.ndarray) -> tuple[tuple[int, int, int], bool]:
        lp12 = self._low_power_12bit()
        bits = 12 if lp12 else 14
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        ug = np.rint(np.asarray(sample_g, dtype=np.float64) * 1e6)
        unclipped = np.sign(ug) * (np.abs(ug) // step_ug((self.regs[CTRL6] >> 4) & 3, lp12))
        raw = np.clip(unclipped, lo, hi)
        return (int(raw[0]), int(raw[1]), int(raw[2])), bool((raw != unclipped).any())

    def _samples_to_int1_change(self) -> int:
        """In FIFO mode with only the FIFO threshold routed to INT1, nothing changes on the pin before the
        threshold: the board can skip to that conversion (batched sample delivery)."""
        if self._fifo_mode() == FMODE_BYPASS or self.regs[CTRL4_INT1] != INT1_FTH:
            return 1
        return max(1, (self.regs[FIFO_CTRL] & 0x1F) - len(self.fifo))

    def _produce(self, sample_g: np.ndarray, t: int) -> None:
        mode = self._fifo_mode()
        if mode not in (FMODE_FIFO, FMODE_CONTINUOUS):
            super()._produce(sample_g, t)  # bypass: the sample goes to the output registers, DRDY rises
            return
        self._push_fifo(sample_g, FIFO_DEPTH, stop_when_full=mode == FMODE_FIFO)  # continuous overwrites the oldest

    def _latch_data_ready(self) -> bool:
        overrun = bool(self.regs[STATUS] & DRDY)
        self.regs[STATUS] |= DRDY
        return overrun

    def _int1_pulsed(self) -> bool:
        return bool(self.regs[CTRL4_INT1] & INT1_DRDY) and bool(self.regs[CTRL7] & DRDY_PULSED)

    def int1_level(self) -> bool:
        ctrl4 = self.regs[CTRL4_INT1]
        active = (
            bool(ctrl4 & INT1_DRDY)
            and not self.regs[CTRL7] & DRDY_PULSED
            and bool(self.regs[STATUS] & DRDY)
        )
        if self._fifo_mode() != FMODE_BYPASS:
            status = self._fifo_status()
            active = active or bool(ctrl4 & INT1_FTH and status & FIFO_FTH) or bool(
                ctrl4 & INT1_DIFF5 and len(self.fifo) >= FIFO_DEPTH)
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
        if reg == FIFO_SAMPLES:
            return self._fifo_status()
        if OUT_X_L <= reg <= OUT_Z_H:
            if reg == OUT_X_L and self._fifo_mode() != FMODE_BYPASS and self.fifo:
                self._raw = self.fifo.popleft()  # the oldest FIFO sample moves to the output registers
                self._fifo_overrun = False
                self.samples_read += 1
                self._update_int1()
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
            self.fifo.clear()
            self._fifo_overrun = False
            self.stream.set_odr(0)
            self._update_int1()
            return
        if reg == CTRL2:
            value &= ~(SOFT_RESET | BOOT)
        self.regs[reg] = value & 0xFF
        if reg == CTRL1:
            self.stream.set_odr(self._odr_mhz())
        if reg == FIFO_CTRL and self._fifo_mode() == FMODE_BYPASS:
            self.fifo.clear()  # bypass mode empties the FIFO
            self._fifo_overrun = False
        if reg in (CTRL3, CTRL4_INT1, CTRL7, FIFO_CTRL):
            self._update_int1()
