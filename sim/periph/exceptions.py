"""Cortex-M4 exception entry and return (ARMv7-M ARM B1.5.6-B1.5.8), done by the board because Unicorn
delivers no exceptions.

Entry pushes r0-r3, r12, lr, return address, xPSR (8 words), or with CONTROL.FPCA set the extended frame
(+ s0-s15, FPSCR, a reserved word = 26 words; lazy stacking is modelled as eager), on the stack in use,
8-byte aligned when CCR.STKALIGN is set (xPSR bit 9 records the padding). LR gets EXC_RETURN: 0xFFFFFFF1
(to handler), 0xFFFFFFF9 (to thread, MSP), 0xFFFFFFFD (to thread, PSP); bit 4 clear (E1/E9/ED) when the
frame is extended. The handler runs on MSP with IPSR = exception number and CONTROL.FPCA = 0. Return is
the reverse; Unicorn reports the branch to EXC_RETURN as interrupt 8 with PC = EXC_RETURN & ~1.
"""

from __future__ import annotations

import struct

from unicorn import Uc
from unicorn.arm_const import (
    UC_ARM_REG_CONTROL,
    UC_ARM_REG_FPSCR,
    UC_ARM_REG_IPSR,
    UC_ARM_REG_LR,
    UC_ARM_REG_MSP,
    UC_ARM_REG_PC,
    UC_ARM_REG_PSP,
    UC_ARM_REG_R0,
    UC_ARM_REG_R1,
    UC_ARM_REG_R2,
    UC_ARM_REG_R3,
    UC_ARM_REG_R12,
    UC_ARM_REG_S0,
    UC_ARM_REG_XPSR,
)

from tinyml_disco.sim.regbatch import RegisterBatch

CONTROL_SPSEL, CONTROL_FPCA = 1 << 1, 1 << 2
_CORE = (UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R12, UC_ARM_REG_LR)
_S_REGS = tuple(UC_ARM_REG_S0 + i for i in range(16))
_ENTRY_READ = (UC_ARM_REG_XPSR, UC_ARM_REG_CONTROL, UC_ARM_REG_MSP, UC_ARM_REG_PSP, *_CORE, UC_ARM_REG_PC)
_FP_READ = (*_S_REGS, UC_ARM_REG_FPSCR)
_LEAVE_READ = (UC_ARM_REG_CONTROL, UC_ARM_REG_MSP, UC_ARM_REG_PSP)
_IPSR = (UC_ARM_REG_IPSR,)
VALID_EXC_RETURN = (0xFFFF_FFF1, 0xFFFF_FFF9, 0xFFFF_FFFD, 0xFFFF_FFE1, 0xFFFF_FFE9, 0xFFFF_FFED)


class ExceptionReturnError(Exception):
    """The firmware branched to an EXC_RETURN value the architecture does not allow here."""


def enter(uc: Uc, exc: int, handler: int, align8: bool, fpu_on: bool, regs: RegisterBatch | None = None) -> int:
    """Stack the context and switch to the handler of exception `exc`; returns the EXC_RETURN value.
    `regs`: the board's RegisterBatch for `uc` (registers go through libunicorn directly; made if None)."""
    regs = regs if regs is not None else RegisterBatch(uc)
    state = regs.read(_ENTRY_READ)
    xpsr, control, msp, psp_value = state[:4]
    thread = (xpsr & 0x1FF) == 0
    psp = thread and bool(control & CONTROL_SPSEL)
    extended = fpu_on and bool(control & CONTROL_FPCA)
    sp = psp_value if psp else msp
    words = list(state[4:])
    words_fp = list(regs.read(_FP_READ)) + [0] if extended else []
    size = 4 * (8 + len(words_fp))
    frame = sp - size
    pad = 0
    if align8 and frame & 4:
        frame -= 4
        pad = 1 << 9
    words.append(xpsr | pad)
    uc.mem_write(frame, struct.pack(f"<{len(words) + len(words_fp)}I", *words, *words_fp))
    exc_return = 0xFFFF_FFF1 if not thread else (0xFFFF_FFFD if psp else 0xFFFF_FFF9)
    if extended:
        exc_return &= ~0x10
    # Stack pointer first, then handler mode (SP becomes MSP), SPSEL/FPCA cleared, flags and IT reset.
    regs.write((
        (UC_ARM_REG_PSP if psp else UC_ARM_REG_MSP, frame),
        (UC_ARM_REG_XPSR, (1 << 24) | exc),
        (UC_ARM_REG_IPSR, exc),
        (UC_ARM_REG_CONTROL, control & ~(CONTROL_SPSEL | CONTROL_FPCA)),
        (UC_ARM_REG_MSP, msp if psp else frame),
        (UC_ARM_REG_LR, exc_return),
        (UC_ARM_REG_PC, handler | 1),
    ))
    return exc_return


def current_exception(uc: Uc, regs: RegisterBatch | None = None) -> int:
    regs = regs if regs is not None else RegisterBatch(uc)
    return regs.read(_IPSR)[0] & 0x1FF


def leave(uc: Uc, exc_return: int, regs: RegisterBatch | None = None) -> int:
    """Unstack the frame named by `exc_return`; returns the return address. The caller has checked that
    an exception is active. `regs` as for `enter`."""
    if exc_return not in VALID_EXC_RETURN:
        raise ExceptionReturnError(f"invalid EXC_RETURN 0x{exc_return:08x}")
    to_thread = exc_return & 0x8
    psp = bool(exc_return & 0x4)
    extended = not exc_return & 0x10
    regs = regs if regs is not None else RegisterBatch(uc)
    control, msp, psp_value = regs.read(_LEAVE_READ)
    sp = psp_value if psp else msp
    n = 26 if extended else 8
    vals = struct.unpack(f"<{n}I", bytes(uc.mem_read(sp, 4 * n)))
    xpsr = vals[7]
    if bool(xpsr & 0x1FF) == bool(to_thread):
        raise ExceptionReturnError(
            f"EXC_RETURN 0x{exc_return:08x} returns to {'thread' if to_thread else 'handler'} mode but the "
            f"stacked IPSR is {xpsr & 0x1FF}"
        )
    new_sp = sp + 4 * n + (4 if xpsr & (1 << 9) else 0)
    writes = list(zip(_CORE, vals[:6], strict=True))
    if extended:
        writes += list(zip(_S_REGS, vals[8:24], strict=True)) + [(UC_ARM_REG_FPSCR, vals[24])]
    control = (control & ~(CONTROL_SPSEL | CONTROL_FPCA)) | (CONTROL_FPCA if extended else 0)
    if psp:
        control |= CONTROL_SPSEL
    ret = vals[6]
    writes += [
        (UC_ARM_REG_XPSR, xpsr & ~(1 << 9)),
        (UC_ARM_REG_IPSR, xpsr & 0x1FF),
        (UC_ARM_REG_PSP if psp else UC_ARM_REG_MSP, new_sp),
        (UC_ARM_REG_CONTROL, control),
        (UC_ARM_REG_PC, ret | 1),
    ]
    regs.write(writes)
    return int(ret)


class PythonExceptions:
    """enter / leave / current_exception bound to one Uc: the reference implementation (NativeExceptions in
    sim/native/excfast.py has the same interface and results)."""

    def __init__(self, uc: Uc, regs: RegisterBatch | None = None) -> None:
        self._uc = uc
        self._regs = regs if regs is not None else RegisterBatch(uc)

    def enter(self, exc: int, handler: int, align8: bool, fpu_on: bool) -> int:
        return enter(self._uc, exc, handler, align8, fpu_on, self._regs)

    def current_exception(self) -> int:
        return current_exception(self._uc, self._regs)

    def leave(self, exc_return: int) -> int:
        return leave(self._uc, exc_return, self._regs)
