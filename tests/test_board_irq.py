"""Interrupts, virtual time and the I2C/LIS2DW12 models of the board (fixture firmware + register level)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.sim.board import Board
from tinyml_disco.sim.periph import i2c as i2c_regs
from tinyml_disco.sim.periph.exti import IMR, PR, RTSR, Exti
from tinyml_disco.sim.periph.i2c import I2c
from tinyml_disco.sim.periph.lis2dw12 import Lis2dw12, firmware_counts
from tinyml_disco.sim.periph.nvic import SYSTICK, Nvic
from tinyml_disco.sim.periph.scs import ENABLE, STK_CTRL, STK_LOAD, TICKINT, SystemControlSpace

try:
    from tests.test_board_firmware_build import build_firmware
except ImportError:
    from test_board_firmware_build import build_firmware  # type: ignore[no-redef]

FULL = 0xFFFF_FFFF


class Clock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


@pytest.fixture(scope="module")
def irq_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_firmware(tmp_path_factory.mktemp("irq_fw"), "irq", ["startup.c", "irq.c"])


# -- exception entry/return, FPU frame, WFI time skipping -------------------------------------------------
def test_systick_fpu_frame_and_wfi_skipping(irq_elf: Path) -> None:
    board = Board(irq_elf, sensor="none")
    board.run_until_idle()  # SysTick alone does not keep the firmware busy: idle at the first WFI
    assert board.read_lines() == []
    start = board.cycles
    board.run_for(0.005)  # 80,000 cycles at 16 MHz HSI: 5 SysTick periods of 10,000 cycles
    # s0-s15 survived a handler that overwrites them: the 26-word frame was pushed and popped;
    # thread mode on PSP with an active FP context -> EXC_RETURN 0xFFFFFFED.
    assert board.read_lines() == ["FP ok", "LR ffffffed", "T 00000005"]
    assert board.cycles == start + 80_000
    assert board.instructions < 5_000  # the rest was slept in WFI
    assert board.slept_cycles == board.cycles - board.instructions
    assert not board.nvic.active


def test_exti_button_and_usart_interrupts(irq_elf: Path) -> None:
    board = Board(irq_elf, sensor="none")
    board.run_for(0.005)
    board.read_lines()
    board.set_button(True)  # rising edge on PA0 -> EXTI0 -> IRQ 6
    board.run_until_idle()
    board.set_button(False)  # falling edge: not selected in FTSR
    board.run_until_idle()
    board.set_button(True)
    board.run_until_idle()
    board.uart_write(b"AB")  # RXNEIE -> IRQ 38, the handler drains both bytes
    board.run_until_idle()
    assert board.read_lines() == ["E 01", "E 02", "R 41", "R 42"]
    assert board.exti.read_reg(PR) == 0  # cleared by the handler (write 1 to clear)


def test_irq_firmware_is_deterministic(irq_elf: Path) -> None:
    def run() -> tuple[list[str], int, int]:
        b = Board(irq_elf, sensor="none")
        b.run_for(0.005)
        b.set_button(True)
        b.uart_write("xyz")
        b.run_until_idle()
        return b.uart_lines, b.instructions, b.cycles

    assert run() == run()


# -- NVIC / EXTI / SysTick registers ------------------------------------------------------------------------
def test_nvic_priorities_and_levels() -> None:
    nvic = Nvic(lambda: None)
    nvic.enabled.update({6, 38})
    nvic.irq_priority[6], nvic.irq_priority[38] = 0x80, 0x40
    nvic.set_level(6, True)
    nvic.set_level(38, True)
    nvic.pend(SYSTICK)
    nvic.sys_priority[SYSTICK] = 0xC0
    assert nvic.best_pending() == 16 + 38  # lowest priority value first
    nvic.acknowledge(16 + 38)
    assert nvic.execution_priority(0, 0, 0) == 0x40
    assert nvic.execution_priority(1, 0, 0) == 0  # PRIMASK
    nvic.complete(16 + 38)
    assert 16 + 38 in nvic.pending  # level still high: pending again after return
    nvic.set_level(38, False)
    nvic.pending.discard(16 + 38)
    assert nvic.best_pending() == 16 + 6
    nvic.enabled.discard(6)
    assert nvic.best_pending() == SYSTICK  # disabled IRQs never win; system exceptions need no enable


def test_nvic_registers_and_systick_interrupt_times() -> None:
    clock = Clock()
    nvic = Nvic(lambda: None)
    scs = SystemControlSpace(clock, lambda _o: None, nvic)
    scs.write_reg(0x100, 1 << 6, FULL)  # ISER0
    scs.write_reg(0x104, 1 << 6, FULL)  # ISER1: IRQ 38
    assert nvic.enabled == {6, 38} and scs.read_reg(0x180) == 1 << 6
    scs.write_reg(0x404, 0x1234_56FF, 0xFF << 16)  # IPR byte 6
    assert nvic.irq_priority[6] == 0x30  # 4 implemented bits
    scs.write_reg(0x200, 1 << 6, FULL)  # ISPR
    assert 22 in nvic.pending and scs.read_reg(0xD04) >> 12 & 0x1FF == 22
    scs.write_reg(0x280, 1 << 6, FULL)  # ICPR
    assert not nvic.pending
    scs.write_reg(STK_LOAD, 999, FULL)
    scs.write_reg(STK_CTRL, ENABLE | TICKINT | 4, FULL)
    assert scs.systick.next_tick_irq() == 1000
    scs.systick.fire_tick_irq()
    assert scs.systick.next_tick_irq() == 2000


def test_exti_edges_mask_and_write_one_to_clear() -> None:
    levels: dict[int, bool] = {}
    exti = Exti(lambda irq, lvl: levels.__setitem__(irq, lvl))
    exti.write_reg(RTSR, 1, FULL)
    exti.input_changed(0, True)
    assert exti.read_reg(PR) == 1 and not levels.get(6)  # pending but masked
    exti.write_reg(IMR, 1, FULL)
    assert levels[6]
    exti.input_changed(0, False)  # falling edge not selected
    exti.write_reg(PR, 1, FULL)
    assert exti.read_reg(PR) == 0 and not levels[6]


# -- I2C v1 + LIS2DW12 --------------------------------------------------------------------------------------
def _bus() -> tuple[I2c, Lis2dw12, Clock]:
    clock = Clock()
    bus = I2c()
    dev = Lis2dw12(clock)
    bus.attach(dev)
    bus.write_reg(i2c_regs.CR1, i2c_regs.PE, FULL)
    return bus, dev, clock


def _wait(bus: I2c, flag: int) -> None:
    for _ in range(10):
        if bus.read_reg(i2c_regs.SR1) & flag:
            return
    raise AssertionError(f"SR1 flag 0x{flag:x} never set")


def _start(bus: I2c, addr_rw: int) -> None:
    cr1 = bus.read_reg(i2c_regs.CR1)
    bus.write_reg(i2c_regs.CR1, cr1 | i2c_regs.START, FULL)
    _wait(bus, i2c_regs.SB)
    bus.write_reg(i2c_regs.DR, addr_rw, FULL)


def _write(bus: I2c, reg: int, data: list[int], stop: bool = True) -> None:
    _start(bus, 0x19 << 1)
    _wait(bus, i2c_regs.ADDR)
    assert bus.read_reg(i2c_regs.SR2) & i2c_regs.TRA
    for b in [reg, *data]:
        _wait(bus, i2c_regs.TXE)
        bus.write_reg(i2c_regs.DR, b, FULL)
    _wait(bus, i2c_regs.BTF)
    if stop:
        bus.write_reg(i2c_regs.CR1, bus.read_reg(i2c_regs.CR1) | i2c_regs.STOP, FULL)


def _read(bus: I2c, reg: int, n: int) -> list[int]:
    """The reference manual's sequences for 1, 2 and N > 2 bytes."""
    _write(bus, reg, [], stop=False)
    cr1 = bus.read_reg(i2c_regs.CR1) & ~(i2c_regs.ACK | i2c_regs.POS)
    out: list[int] = []
    if n == 1:
        bus.write_reg(i2c_regs.CR1, cr1, FULL)
        _start(bus, (0x19 << 1) | 1)
        _wait(bus, i2c_regs.ADDR)
        bus.read_reg(i2c_regs.SR2)
        bus.write_reg(i2c_regs.CR1, cr1 | i2c_regs.STOP, FULL)
        _wait(bus, i2c_regs.RXNE)
        out.append(bus.read_reg(i2c_regs.DR))
    elif n == 2:
        bus.write_reg(i2c_regs.CR1, cr1 | i2c_regs.ACK | i2c_regs.POS, FULL)
        _start(bus, (0x19 << 1) | 1)
        _wait(bus, i2c_regs.ADDR)
        bus.read_reg(i2c_regs.SR2)
        bus.write_reg(i2c_regs.CR1, cr1 | i2c_regs.POS, FULL)  # clear ACK
        _wait(bus, i2c_regs.BTF)
        bus.write_reg(i2c_regs.CR1, cr1 | i2c_regs.POS | i2c_regs.STOP, FULL)
        out += [bus.read_reg(i2c_regs.DR), bus.read_reg(i2c_regs.DR)]
    else:
        bus.write_reg(i2c_regs.CR1, cr1 | i2c_regs.ACK, FULL)
        _start(bus, (0x19 << 1) | 1)
        _wait(bus, i2c_regs.ADDR)
        bus.read_reg(i2c_regs.SR2)
        for _ in range(n - 3):
            _wait(bus, i2c_regs.RXNE)
            out.append(bus.read_reg(i2c_regs.DR))
        _wait(bus, i2c_regs.BTF)
        bus.write_reg(i2c_regs.CR1, cr1, FULL)  # NACK the last byte
        out.append(bus.read_reg(i2c_regs.DR))
        _wait(bus, i2c_regs.BTF)
        bus.write_reg(i2c_regs.CR1, cr1 | i2c_regs.STOP, FULL)
        out += [bus.read_reg(i2c_regs.DR), bus.read_reg(i2c_regs.DR)]
    assert not bus.read_reg(i2c_regs.SR2) & i2c_regs.BUSY  # STOP done
    assert not bus.read_reg(i2c_regs.CR1) & i2c_regs.STOP
    return out


def test_i2c_write_and_reads_of_1_2_and_n_bytes() -> None:
    bus, dev, clock = _bus()
    assert _read(bus, 0x0F, 1) == [0x44]  # WHO_AM_I
    assert _read(bus, 0x20, 2) == [0x00, 0x04]  # CTRL1, CTRL2 (IF_ADD_INC at reset)
    _write(bus, 0x25, [0x20])  # CTRL6: +-8 g
    _write(bus, 0x20, [0x54])  # CTRL1: 100 Hz, high performance
    dev.feed(np.array([[1.0, -0.5, 9.0]]))
    assert _read(bus, 0x27, 1)[0] & 1 == 0  # nothing before the first conversion instant
    clock.now = 168_000_000 // 100
    assert _read(bus, 0x27, 1)[0] & 1 == 1  # DRDY
    raw = _read(bus, 0x28, 6)
    counts = [int.from_bytes(bytes(raw[i : i + 2]), "little", signed=True) for i in (0, 2, 4)]
    assert all(c & 3 == 0 for c in counts)  # 14-bit, left-justified
    # 0.976 mg/LSB, rounded toward zero from micro-g as Renode's model does (1 g = 1024.59 -> 1024); 9 g saturates
    assert [c >> 2 for c in counts] == [1024, -512, 8191]
    assert dev.clipped == 1 and dev.samples_read == 1
    assert _read(bus, 0x27, 1)[0] & 1 == 0  # DRDY cleared by reading the output
    assert bus.protocol_errors == 0


def test_i2c_absent_address_sets_af_and_stop_recovers() -> None:
    bus, _dev, _clock = _bus()
    _start(bus, 0x18 << 1)
    assert bus.read_reg(i2c_regs.SR1) & i2c_regs.AF and not bus.read_reg(i2c_regs.SR1) & i2c_regs.ADDR
    bus.write_reg(i2c_regs.CR1, i2c_regs.PE | i2c_regs.STOP, FULL)
    bus.write_reg(i2c_regs.SR1, ~i2c_regs.AF & 0xFFFF, FULL)
    assert not bus.read_reg(i2c_regs.SR1) & i2c_regs.AF
    assert _read(bus, 0x0F, 1) == [0x44]


def test_i2c_single_byte_read_without_nack_is_counted() -> None:
    bus, _dev, _clock = _bus()
    _write(bus, 0x0F, [], stop=False)
    bus.write_reg(i2c_regs.CR1, i2c_regs.PE | i2c_regs.ACK, FULL)  # ACK left on: wrong for N = 1
    _start(bus, (0x19 << 1) | 1)
    _wait(bus, i2c_regs.ADDR)
    bus.read_reg(i2c_regs.SR2)
    bus.write_reg(i2c_regs.CR1, i2c_regs.PE | i2c_regs.ACK | i2c_regs.STOP, FULL)
    _wait(bus, i2c_regs.RXNE)
    assert bus.read_reg(i2c_regs.DR) == 0x44
    assert bus.protocol_errors == 1


def test_lis2dw12_int1_follows_drdy_and_odr_pacing() -> None:
    clock = Clock()
    edges: list[tuple[int, bool]] = []
    dev = Lis2dw12(clock, on_int1=lambda lvl: edges.append((clock.now, lvl)))
    dev.i2c_start(read=False)
    for reg, val in ((0x23, 0x01), (0x20, 0x44)):  # INT1_DRDY; 50 Hz high performance
        dev.i2c_start(read=False)
        dev.i2c_write(reg)
        dev.i2c_write(val)
    dev.feed(np.zeros((3, 3)))
    period = 168_000_000 // 50
    assert dev.next_event() == period
    clock.now = 3 * period
    dev.sync()
    assert dev.stream.sample_cycles == [period, 2 * period, 3 * period]
    assert dev.stream.overruns == 2  # never read in between
    assert edges == [(3 * period, True)]  # latched: one rise, stays high until read
    dev.i2c_start(read=False)
    dev.i2c_write(0x2D)
    dev.i2c_start(read=True)
    dev.i2c_read()
    assert edges[-1] == (3 * period, False)


def test_lis2dw12_unit_conversion_twin() -> None:
    raw = np.array([0, 1, -1, 8191, -8192, 100, -100])
    got = firmware_counts(raw)
    assert got.tolist() == [0, 4, -4, 32767, -32768, 407, -407]  # x * 61/15 rounded, saturated
    x = np.arange(-8000, 8000, 7)
    assert np.all(np.abs(firmware_counts(x) - x * 976 / 240) <= 0.5)  # nearest count in 0.24 mg units
