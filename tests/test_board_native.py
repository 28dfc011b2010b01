"""The native fast paths of the board (sim/native/excfast.c, spifast.c) against their Python references."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unicorn import UC_ARCH_ARM, UC_MODE_MCLASS, UC_MODE_THUMB, Uc
from unicorn.arm_const import (
    UC_ARM_REG_CONTROL,
    UC_ARM_REG_FPSCR,
    UC_ARM_REG_IPSR,
    UC_ARM_REG_LR,
    UC_ARM_REG_MSP,
    UC_ARM_REG_PC,
    UC_ARM_REG_PSP,
    UC_ARM_REG_R0,
    UC_ARM_REG_R12,
    UC_ARM_REG_S0,
    UC_ARM_REG_XPSR,
    UC_CPU_ARM_CORTEX_M4,
)

from tinyml_disco.sim.native import build
from tinyml_disco.sim.native.excfast import NativeExceptions
from tinyml_disco.sim.native.spifast import SpiFastPath
from tinyml_disco.sim.periph import exceptions
from tinyml_disco.sim.periph.bus import MmioBus, NativeWindow
from tinyml_disco.sim.periph.rcc import Rcc
from tinyml_disco.sim.periph.spi import DR, SR, SR_RXNE, SR_TXE, Spi

pytestmark = pytest.mark.skipif(not build.is_buildable(), reason="no C compiler for the native library")

RAM, RAM_SIZE = 0x2000_0000, 0x2_0000
_REGS = (
    UC_ARM_REG_R0, UC_ARM_REG_R0 + 1, UC_ARM_REG_R0 + 2, UC_ARM_REG_R0 + 3, UC_ARM_REG_R12, UC_ARM_REG_LR,
    UC_ARM_REG_PC, UC_ARM_REG_XPSR, UC_ARM_REG_IPSR, UC_ARM_REG_CONTROL, UC_ARM_REG_MSP, UC_ARM_REG_PSP,
    *(UC_ARM_REG_S0 + i for i in range(16)), UC_ARM_REG_FPSCR,
)


def _cpu() -> Uc:
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(UC_CPU_ARM_CORTEX_M4)
    uc.mem_map(RAM, RAM_SIZE)
    uc.mem_map(0x0800_0000, 0x1000)
    return uc


def _state(uc: Uc, low: int) -> tuple[tuple[int, ...], bytes]:
    """Registers and the RAM from `low` to the top (covers any frame stacked below MSP or PSP)."""
    return tuple(uc.reg_read(r) for r in _REGS), bytes(uc.mem_read(low, RAM + RAM_SIZE - low))


def _expected_frame(words: list[int], ipsr: int, control: int, msp: int, psp: int, align8: bool,
                    fpu_on: bool) -> tuple[int, list[int]]:
    """Where the exception frame goes and what it holds, from the registers `_set` wrote (ARMv7-M B1.5.6)."""
    thread = ipsr == 0
    sp = psp if thread and control & 2 else msp
    extended = fpu_on and bool(control & 4)
    frame = sp - 4 * (26 if extended else 8)
    pad = 0
    if align8 and frame & 4:
        frame, pad = frame - 4, 1 << 9
    xpsr = (1 << 24) | (words[23] & 0xF800_0000) | ipsr | pad
    stacked = [*words[:6], 0x0800_0100, xpsr]  # r0-r3, r12, lr, return address, xPSR
    if extended:
        stacked += [*words[6:22], words[22] & 0xF7C0_009F, 0]  # s0-s15, FPSCR, reserved
    return frame, stacked


def _set(uc: Uc, words: list[int], ipsr: int, control: int, msp: int, psp: int) -> None:
    for reg, value in zip(_REGS[:6], words, strict=False):
        uc.reg_write(reg, value)
    for i in range(16):
        uc.reg_write(UC_ARM_REG_S0 + i, words[6 + i])
    uc.reg_write(UC_ARM_REG_FPSCR, words[22] & 0xF7C0_009F)
    uc.reg_write(UC_ARM_REG_PC, 0x0800_0100 | 1)
    uc.reg_write(UC_ARM_REG_XPSR, (1 << 24) | (words[23] & 0xF800_0000) | ipsr)
    uc.reg_write(UC_ARM_REG_IPSR, ipsr)
    uc.reg_write(UC_ARM_REG_MSP, msp)
    uc.reg_write(UC_ARM_REG_PSP, psp)
    uc.reg_write(UC_ARM_REG_CONTROL, control)


@settings(max_examples=25, deadline=None)
@given(
    words=st.lists(st.integers(0, 0xFFFF_FFFF), min_size=24, max_size=24),
    ipsr=st.sampled_from([0, 15, 22]),
    control=st.sampled_from([0, 2, 4, 6]),  # SPSEL, FPCA (the firmware stays privileged)
    msp=st.integers(0x200, 0x3F0).map(lambda k: RAM + RAM_SIZE - 4 * k),
    psp=st.integers(0x200, 0x3F0).map(lambda k: RAM + RAM_SIZE - 4 * k),
    align8=st.booleans(),
    fpu_on=st.booleans(),
    exc=st.sampled_from([15, 22, 54]),
)
def test_native_exception_entry_and_return_match_python(
    words: list[int], ipsr: int, control: int, msp: int, psp: int, align8: bool, fpu_on: bool, exc: int
) -> None:
    py_uc, nat_uc = _cpu(), _cpu()
    py, nat = exceptions.PythonExceptions(py_uc), NativeExceptions(nat_uc)
    for uc in (py_uc, nat_uc):
        _set(uc, words, ipsr, control, msp, psp)
    low = min(msp, psp) - 0x80  # below the largest frame (26 words + alignment) under either stack pointer
    assert _state(py_uc, low) == _state(nat_uc, low)
    assert py.enter(exc, 0x0800_0200, align8, fpu_on) == nat.enter(exc, 0x0800_0200, align8, fpu_on)
    assert _state(py_uc, low) == _state(nat_uc, low)
    frame, stacked = _expected_frame(words, ipsr, control, msp, psp, align8, fpu_on)
    for impl, uc in (("python", py_uc), ("native", nat_uc)):
        got = list(struct.unpack(f"<{len(stacked)}I", bytes(uc.mem_read(frame, 4 * len(stacked)))))
        assert got == stacked, f"{impl}: frame at 0x{frame:08x}"
        thread_psp = ipsr == 0 and control & 2
        assert uc.reg_read(UC_ARM_REG_PSP if thread_psp else UC_ARM_REG_MSP) == frame, impl
    assert py.current_exception() == nat.current_exception() == exc
    exc_return = py_uc.reg_read(UC_ARM_REG_LR)
    assert py.leave(exc_return) == nat.leave(exc_return) == 0x0800_0100
    assert _state(py_uc, low) == _state(nat_uc, low)


def test_native_exception_return_errors_match_python() -> None:
    py_uc, nat_uc = _cpu(), _cpu()
    py, nat = exceptions.PythonExceptions(py_uc), NativeExceptions(nat_uc)
    messages = []
    for impl, uc in ((py, py_uc), (nat, nat_uc)):
        _set(uc, [0] * 24, 0, 0, RAM + 0x1000, RAM + 0x2000)
        impl.enter(15, 0x0800_0200, True, False)
        for bad in (0xFFFF_FFF1, 0xFFFF_FFF5):  # to handler mode over a thread frame; not an EXC_RETURN
            with pytest.raises(exceptions.ExceptionReturnError) as err:
                impl.leave(bad)
            messages.append(str(err.value))
    assert messages[:2] == messages[2:]
    assert "stacked IPSR is 0" in messages[0] and "invalid EXC_RETURN" in messages[1]


def test_native_spi_reads_share_the_python_state_and_respect_the_gate() -> None:
    uc = _cpu()
    rcc = Rcc()
    frames: list[int] = []

    class Echo:
        def select(self) -> None: ...
        def deselect(self) -> None: ...
        def transfer(self, mosi: int) -> int:
            frames.append(mosi)
            return mosi ^ 0x5A

    spi = Spi(lambda: Echo())
    bus = MmioBus(0x4000_0000, 0x2_0000, page_shift=10)
    bus.attach(0x4001_3000, 0x400, spi, lambda: rcc.enabled(0x44, 12))
    bus.attach(0x4001_3800, 0x400, rcc)  # after the native window: its offsets must still be right
    fast = SpiFastPath()
    assert bus.map_into(uc, (NativeWindow(0x4001_3000, 0x400, fast.read, fast.write, spi.shared),))

    def word(address: int) -> int:
        return int.from_bytes(uc.mem_read(address, 4), "little")

    assert word(0x4001_3000 + SR) == 0  # gated off (the native flag is clear): Python answers 0
    uc.mem_write(0x4001_3800 + 0x44, (1 << 12).to_bytes(4, "little"))
    assert word(0x4001_3800 + 0x44) == 1 << 12
    spi.shared.clock_on = 1  # what the board does on every RCC write
    uc.mem_write(0x4001_3000, (1 << 6).to_bytes(4, "little"))  # CR1.SPE, through Python
    uc.mem_write(0x4001_3000 + DR, (0x33).to_bytes(4, "little"))
    assert frames == [0x33]
    served = spi.shared.served
    assert word(0x4001_3000 + SR) == SR_TXE | SR_RXNE
    assert spi.read_reg(SR) == SR_TXE | SR_RXNE  # the same state from Python
    assert word(0x4001_3000 + DR) == 0x33 ^ 0x5A
    assert word(0x4001_3000 + SR) == SR_TXE  # the native DR read cleared RXNE for Python too
    assert spi.shared.served == served + 3
    assert bytes(uc.mem_read(0x4001_3000 + SR, 1)) == bytes([SR_TXE])  # sub-word: via Python, same value
    assert word(0x4001_3000) == 1 << 6  # other registers: via Python
