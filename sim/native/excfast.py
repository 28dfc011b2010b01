"""ctypes side of excfast.c: Cortex-M4 exception entry and return in one native call each, with the same
results as sim/periph/exceptions.py (the reference, used with the Python counter)."""

from __future__ import annotations

import ctypes

from unicorn import Uc, UcError
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

from tinyml_disco.sim.native.blockhook import NativeUnavailable, load_library
from tinyml_disco.sim.periph.exceptions import VALID_EXC_RETURN, ExceptionReturnError

# Order of ex_ctx.regid in excfast.c.
_REG_IDS = (
    UC_ARM_REG_XPSR, UC_ARM_REG_CONTROL, UC_ARM_REG_MSP, UC_ARM_REG_PSP, UC_ARM_REG_R0, UC_ARM_REG_R1,
    UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R12, UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_IPSR,
    *(UC_ARM_REG_S0 + i for i in range(16)), UC_ARM_REG_FPSCR,
)
_BAD_MODE = -1


class ExcContext(ctypes.Structure):
    """Mirror of ex_ctx in excfast.c."""

    _fields_ = [
        ("uc", ctypes.c_void_p),
        ("reg_read_batch", ctypes.c_void_p),
        ("reg_write_batch", ctypes.c_void_p),
        ("mem_read", ctypes.c_void_p),
        ("mem_write", ctypes.c_void_p),
        ("regid", ctypes.c_int32 * len(_REG_IDS)),
    ]


class NativeExceptions:
    """enter / leave / current_exception of tinyml_disco.sim.periph.exceptions for one Uc, done in C. Raises
    NativeUnavailable if the library or this binding's internals are not as expected."""

    def __init__(self, uc: Uc, lib: ctypes.CDLL | None = None) -> None:
        try:
            from unicorn.unicorn_py3.unicorn import uclib
        except ImportError as exc:
            raise NativeUnavailable(f"this unicorn binding does not expose its C library ({exc})") from exc
        lib = lib if lib is not None else load_library()
        try:
            offsets_fn = lib.ex_offsets
            self._enter, self._leave, self._current = lib.ex_enter, lib.ex_leave, lib.ex_current
        except AttributeError as exc:
            raise NativeUnavailable(f"{lib._name} has no native exception entry/return ({exc})") from exc
        offsets_fn.restype = ctypes.c_size_t
        offsets_fn.argtypes = [ctypes.POINTER(ctypes.c_size_t), ctypes.c_size_t]
        out = (ctypes.c_size_t * 16)()
        n = offsets_fn(out, len(out))
        mine = [getattr(ExcContext, name).offset for name, _ in ExcContext._fields_] + [ctypes.sizeof(ExcContext)]
        if list(out[:n]) != mine:
            raise NativeUnavailable(f"ex_ctx in {lib._name} does not match ExcContext in sim/native/excfast.py: "
                                    f"C offsets {list(out[:n])}, ctypes {mine}")
        u32p = ctypes.POINTER(ctypes.c_uint32)
        self._enter.restype = ctypes.c_int
        self._enter.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32,
                                u32p]
        self._leave.restype = ctypes.c_int
        self._leave.argtypes = [ctypes.c_void_p, ctypes.c_uint32, u32p]
        self._current.restype = ctypes.c_int
        self._current.argtypes = [ctypes.c_void_p, u32p]
        ctx = self._ctx = ExcContext()
        ctx.uc = uc._uch.value
        ctx.reg_read_batch = _address_of(uclib.uc_reg_read_batch)
        ctx.reg_write_batch = _address_of(uclib.uc_reg_write_batch)
        ctx.mem_read = _address_of(uclib.uc_mem_read)
        ctx.mem_write = _address_of(uclib.uc_mem_write)
        ctx.regid[:] = list(_REG_IDS)
        self._ptr = ctypes.addressof(ctx)
        self._out = ctypes.c_uint32(0)
        self._out_ref = ctypes.byref(self._out)
        self._lib = lib  # keeps the library loaded
        self._uc = uc  # and the engine alive

    def enter(self, exc: int, handler: int, align8: bool, fpu_on: bool) -> int:
        """As exceptions.enter; returns EXC_RETURN."""
        status = self._enter(self._ptr, exc, handler, align8, fpu_on, self._out_ref)
        if status != 0:
            raise UcError(status)
        return self._out.value

    def current_exception(self) -> int:
        status = self._current(self._ptr, self._out_ref)
        if status != 0:
            raise UcError(status)
        return self._out.value

    def leave(self, exc_return: int) -> int:
        """As exceptions.leave; returns the return address."""
        if exc_return not in VALID_EXC_RETURN:
            raise ExceptionReturnError(f"invalid EXC_RETURN 0x{exc_return:08x}")
        status = self._leave(self._ptr, exc_return, self._out_ref)
        if status == _BAD_MODE:
            raise ExceptionReturnError(
                f"EXC_RETURN 0x{exc_return:08x} returns to {'thread' if exc_return & 0x8 else 'handler'} mode but "
                f"the stacked IPSR is {self._out.value & 0x1FF}"
            )
        if status != 0:
            raise UcError(status)
        return self._out.value


def _address_of(func: ctypes._CFuncPtr) -> int:
    address = ctypes.cast(func, ctypes.c_void_p).value
    if not address:
        raise NativeUnavailable(f"no address for {func!r} in the unicorn library")
    return int(address)
