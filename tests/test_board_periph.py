"""Register-level unit tests of the board's peripheral models (no firmware needed)."""

from __future__ import annotations

import numpy as np

from tinyml_disco.sim.periph import rcc
from tinyml_disco.sim.periph.bus import MmioBus
from tinyml_disco.sim.periph.gpio import BSRR, IDR, MODER, ODR, GpioPort
from tinyml_disco.sim.periph.lis3dsh import Lis3dsh
from tinyml_disco.sim.periph.scs import ENABLE, STK_CTRL, STK_LOAD, STK_VAL, SystemControlSpace
from tinyml_disco.sim.thumb import count_instructions, first_fpu_offset

FULL = 0xFFFF_FFFF


class FakeClock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def test_thumb_lengths() -> None:
    # nop (16-bit), add.w (32-bit: 0xF104...), b.w (0xF000 0xB800), udf #0 (16-bit)
    code = bytes.fromhex("00bf04f1010400f000b800de")
    assert count_instructions(code) == 4
    assert first_fpu_offset(code) is None
    assert first_fpu_offset(bytes.fromhex("00bf30ee000a")) == 2  # vadd.f32 s0, s0, s0


def test_rcc_ready_flags_follow_enables() -> None:
    r = rcc.Rcc()
    r.write_reg(rcc.CR, (1 << 16) | (1 << 24) | 1, FULL)  # HSEON, PLLON, HSION
    assert r.read_reg(rcc.CR) & (1 << 17) and r.read_reg(rcc.CR) & (1 << 25)
    r.write_reg(rcc.CR, 1, FULL)
    assert not r.read_reg(rcc.CR) & (1 << 25)
    # 8 MHz HSE / 8 * 336 / 2 = 168 MHz; SW = PLL -> SWS = PLL
    r.write_reg(rcc.PLLCFGR, (1 << 22) | 8 | (336 << 6), FULL)
    r.write_reg(rcc.CFGR, 2, FULL)
    assert (r.read_reg(rcc.CFGR) >> 2) & 3 == 2
    assert r.sysclk_hz() == 168_000_000


def test_gpio_bsrr_and_idr() -> None:
    port = GpioPort("D")
    port.write_reg(MODER, 1 << 24, FULL)
    port.write_reg(BSRR, (1 << 12) | (1 << 13), FULL)
    assert port.read_reg(ODR) == 0x3000 and port.read_reg(BSRR) == 0
    port.write_reg(BSRR, 1 << (16 + 13), FULL)
    assert port.read_reg(ODR) == 0x1000
    assert port.read_reg(IDR) == 0x1000  # only PD12 is an output
    port.set_input(0, True)
    assert port.read_reg(IDR) == 0x1001


def test_bus_gating_bitband_and_fallback() -> None:
    enabled = [False]
    bus = MmioBus(0x4000_0000, 0x2000_0000, page_shift=10, bitband=(0x4200_0000, 0x0200_0000, 0x4000_0000))
    port = GpioPort("D")
    bus.attach(0x4002_0C00, 0x400, port, lambda: enabled[0])
    bus.write(0x4002_0C14, 4, 0xFFFF)
    assert bus.read(0x4002_0C14, 4) == 0  # clock off: writes ignored, reads 0
    enabled[0] = True
    bus.write(0x4002_0C14, 2, 0x8001)
    assert bus.read(0x4002_0C15, 1) == 0x80
    alias = 0x4200_0000 + (0x0002_0C14 * 32) + 4 * 4  # ODR bit 4
    bus.write(alias, 4, 1)
    assert port.read_reg(ODR) == 0x8011 and bus.read(alias, 4) == 1
    bus.write(0x4000_5400, 4, 0x1234)  # I2C1: not modelled -> register file
    assert bus.read(0x4000_5400, 4) == 0x1234 and bus.read(0x4000_5404, 4) == 0


def test_systick_counts_instructions() -> None:
    clock = FakeClock()
    s = SystemControlSpace(clock, lambda _off: None)
    s.write_reg(STK_LOAD, 99, FULL)
    s.write_reg(STK_VAL, 0, FULL)
    s.write_reg(STK_CTRL, ENABLE | 4, FULL)  # processor clock
    clock.now += 1
    assert s.read_reg(STK_VAL) == 99
    clock.now += 50
    assert s.read_reg(STK_VAL) == 49 and not s.read_reg(STK_CTRL) & (1 << 16)
    clock.now += 60
    assert s.read_reg(STK_CTRL) & (1 << 16)  # wrapped: COUNTFLAG, cleared by the read
    assert not s.read_reg(STK_CTRL) & (1 << 16)


def _xfer(dev: Lis3dsh, data: list[int]) -> list[int]:
    dev.select()
    out = [dev.transfer(b) for b in data]
    dev.deselect()
    return out


def test_lis3dsh_transactions() -> None:
    dev = Lis3dsh()
    assert _xfer(dev, [0x8F, 0])[1] == 0x3F
    assert _xfer(dev, [0xA0, 0, 0, 0, 0, 0, 0])[1:] == [0x07, 0, 0, 0, 0, 0x10]  # CTRL_REG4..6, ADD_INC
    _xfer(dev, [0x20, 0x67])  # 100 Hz, XYZ
    dev.feed(np.array([[1.0, -1.0, 0.25], [0.0, 0.0, 0.0]]))
    assert not _xfer(dev, [0xA7, 0])[1] & 0x08  # paced: nothing until the first conversion instant
    dev.clock.now += 168_000_000 // 100  # one period at 100 Hz
    assert _xfer(dev, [0xA7, 0])[1] & 0x08
    raw = _xfer(dev, [0xA8] + [0] * 6)[1:]
    assert int.from_bytes(bytes(raw[0:2]), "little", signed=True) == 16667
    assert int.from_bytes(bytes(raw[2:4]), "little", signed=True) == -16667
    assert dev.queued == 1
    assert dev.queued == 1 and not _xfer(dev, [0xA7, 0])[1] & 0x08  # read: ZYXDA cleared
    _xfer(dev, [0x25, 0x00])  # ADD_INC off: the address stays put
    assert _xfer(dev, [0xA9, 0, 0, 0]) == [0xFF, 0x41, 0x41, 0x41]  # OUT_X_H of 16667 = 0x411B
    assert dev.queued == 1
    _xfer(dev, [0x20, 0x07])  # power down: no data reported
    assert not dev.has_data() and _xfer(dev, [0xA7, 0])[1] == 0


def _fifo_lis3dsh(samples: int) -> tuple[Lis3dsh, list[bool]]:
    """A LIS3DSH in stream mode, watermark 4 on INT1, with `samples` conversions done."""
    pins: list[bool] = []
    dev = Lis3dsh(on_int1=pins.append)
    _xfer(dev, [0x25, 0x74])  # FIFO_EN | WTM_EN | ADD_INC | P1_WTM
    _xfer(dev, [0x2E, 0x44])  # stream mode, WTMP = 4
    _xfer(dev, [0x23, 0x48])  # IEA | INT1_EN
    pins.clear()  # (the reset polarity is active low: the pin fell when IEA was set)
    _xfer(dev, [0x20, 0x67])  # 100 Hz
    dev.feed(np.array([[0.01 * i, -0.01 * i, 1.0] for i in range(1, 11)]))
    dev.clock.now += samples * (168_000_000 // 100)
    dev.sync()
    return dev, pins


def test_lis3dsh_fifo_watermark_and_burst() -> None:
    dev, pins = _fifo_lis3dsh(3)
    assert _xfer(dev, [0xAF, 0])[1] == 3 and not dev.int1_level()  # FSS 3, below the watermark
    assert dev._samples_to_int1_change() == 1  # the next conversion reaches WTMP 4
    dev.clock.now += 168_000_000 // 100
    dev.sync()
    assert pins == [True] and _xfer(dev, [0xAF, 0])[1] == 0x80 | 4  # WTM | FSS 4
    burst = _xfer(dev, [0xA8] + [0] * 24)[1:]  # four samples in one transaction: OUT_Z_H rolls over
    xs = [int.from_bytes(bytes(burst[6 * i: 6 * i + 2]), "little", signed=True) for i in range(4)]
    assert xs == [round(0.01 * i / 0.06e-3) for i in range(1, 5)]  # CTRL_REG5 reset: +-2 g
    assert pins == [True, False] and _xfer(dev, [0xAF, 0])[1] == 0x20  # EMPTY


def test_lis3dsh_read_ahead_equals_real_reads_for_any_stop() -> None:
    for taken in range(7):
        ref, ref_pins = _fifo_lis3dsh(5)
        ref.select()
        ref.transfer(0xA8)
        want = [ref.transfer(0) for _ in range(taken)]
        ref.deselect()
        dev, pins = _fifo_lis3dsh(5)
        dev.select()
        dev.transfer(0xA8)
        got = dev.read_ahead(32)
        assert got is not None
        data, finish = got
        finish(taken)
        dev.deselect()
        assert list(data[:taken]) == want
        assert (dev.fifo, dev._raw, dev.samples_read, pins) == (ref.fifo, ref._raw, ref.samples_read, ref_pins)


def test_lis3dsh_read_ahead_mid_sample_equals_real_reads() -> None:
    for start in range(1, 6):
        for taken in range(7 - start):
            ref, _ = _fifo_lis3dsh(5)
            dev, _ = _fifo_lis3dsh(5)
            for d in (ref, dev):
                d.select()
                d.transfer(0xA8)
                for _ in range(start):
                    d.transfer(0)
            want = [ref.transfer(0) for _ in range(taken)] + [ref.transfer(0) for _ in range(6)]
            got = dev.read_ahead(32)
            assert got is not None
            data, finish = got
            finish(taken)
            rest = [dev.transfer(0) for _ in range(6)]  # the next sample, after the roll-over
            assert list(data[:taken]) + rest == want and dev.fifo == ref.fifo
