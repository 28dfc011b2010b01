"""ctypes side of blockhook.c: loads the built library, allocates its state, registers the hook.

libunicorn's functions are handed to the C code as pointers taken from the Python binding's own loaded
library (`uclib`), so the hook calls exactly the libunicorn that runs the emulation.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

from unicorn import Uc, UcError, uc_version
from unicorn.arm_const import UC_ARM_REG_PC

from tinyml_disco.sim.native import build

REASON_NONE, REASON_LIMIT, REASON_FPU, REASON_REQUESTED = 0, 1, 2, 3
NO_PC = (1 << 64) - 1  # fpu_violation_pc when there was no violation


class NativeUnavailable(RuntimeError):
    """The native hook cannot be used with this Unicorn binding (the message says why)."""


class State(ctypes.Structure):
    """Mirror of tc_state's header in blockhook.c (the hash table that follows stays opaque)."""

    _fields_ = [
        ("retired", ctypes.c_int64),
        ("limit", ctypes.c_int64),
        ("block_addr", ctypes.c_uint64),
        ("block_end", ctypes.c_uint64),
        ("fpu_violation_pc", ctypes.c_uint64),
        ("blocks", ctypes.c_uint64),
        ("misses", ctypes.c_uint64),
        ("fpu_enabled", ctypes.c_uint32),
        ("reason", ctypes.c_uint32),
        ("error", ctypes.c_int32),
        ("pc_regid", ctypes.c_int32),
        ("uc", ctypes.c_void_p),
        ("mem_read", ctypes.c_void_p),
        ("emu_stop", ctypes.c_void_p),
        ("reg_read", ctypes.c_void_p),
    ]


def _unicorn_lib() -> ctypes.CDLL:
    major, minor, _ = uc_version()
    if major != 2 or minor < 1:
        raise NativeUnavailable(f"the native hook is written against unicorn 2.1's C API, found {major}.{minor}")
    try:
        from unicorn.unicorn_py3.unicorn import uclib
    except ImportError as exc:
        raise NativeUnavailable(f"this unicorn binding does not expose its C library ({exc})") from exc
    return uclib


def load_library(path: Path | None = None) -> ctypes.CDLL:
    """Load (building first if needed) the native hook and check its state layout against `State`."""
    lib = ctypes.CDLL(str(path or build.build()))
    lib.tc_state_size.restype = ctypes.c_size_t
    lib.tc_state_size.argtypes = []
    lib.tc_offsets.restype = ctypes.c_size_t
    lib.tc_offsets.argtypes = [ctypes.POINTER(ctypes.c_size_t), ctypes.c_size_t]
    lib.tc_attach.restype = ctypes.c_int
    lib.tc_attach.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
    lib.tc_retired_before_current.restype = ctypes.c_int64
    lib.tc_retired_before_current.argtypes = [ctypes.c_void_p]
    lib.tc_settle.restype = ctypes.c_int
    lib.tc_settle.argtypes = [ctypes.c_void_p]
    lib.tc_on_block.restype = None
    lib.tc_on_block.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p]

    offsets = (ctypes.c_size_t * 32)()
    n = lib.tc_offsets(offsets, len(offsets))
    mine = [getattr(State, name).offset for name, _ in State._fields_]
    theirs = list(offsets[:n])
    if theirs[: len(mine)] != mine or n != len(mine) + 1 or theirs[-1] < ctypes.sizeof(State):
        raise NativeUnavailable(f"tc_state layout in {lib._name} does not match sim/native/blockhook.py: "
                                f"C offsets {theirs}, ctypes {mine}")
    return lib


class NativeBlockHook:
    """The C block hook registered on `uc`, with its state. Keep this object alive while `uc` runs."""

    def __init__(self, uc: Uc, lib: ctypes.CDLL) -> None:
        uclib = _unicorn_lib()
        self._lib = lib
        self._buffer = (ctypes.c_uint8 * lib.tc_state_size())()  # zeroed; owned here, never by C
        self.state = State.from_buffer(self._buffer)
        self._ptr = ctypes.addressof(self._buffer)
        st = self.state
        st.limit = (1 << 63) - 1
        st.fpu_enabled = 1
        st.fpu_violation_pc = NO_PC
        st.pc_regid = UC_ARM_REG_PC
        st.uc = uc._uch.value
        st.mem_read = _address_of(uclib.uc_mem_read)
        st.emu_stop = _address_of(uclib.uc_emu_stop)
        st.reg_read = _address_of(uclib.uc_reg_read)
        self._uch = uc._uch
        self._hook_del = uclib.uc_hook_del
        self.handle = ctypes.c_size_t(0)
        status = lib.tc_attach(self._ptr, _address_of(uclib.uc_hook_add), ctypes.byref(self.handle))
        if status != 0:
            raise UcError(status)

    def detach(self) -> None:
        """Unregister the hook; `enter_block` can then drive it (lockstep checks against the Python hook)."""
        status = self._hook_del(self._uch, self.handle.value)
        if status != 0:
            raise UcError(status)

    def enter_block(self, address: int, size: int) -> None:
        """What libunicorn calls at each block entry."""
        self._lib.tc_on_block(self._uch, address, size, self._ptr)

    def retired_before_current(self) -> int:
        n = int(self._lib.tc_retired_before_current(self._ptr))
        if n < 0:
            raise RuntimeError("native counter: could not read the PC or the current block's code")
        return n

    def settle(self) -> None:
        if self._lib.tc_settle(self._ptr) != 0:
            raise RuntimeError("native counter: could not read the PC or the current block's code")


def _address_of(func: ctypes._CFuncPtr) -> int:
    address = ctypes.cast(func, ctypes.c_void_p).value
    if not address:
        raise NativeUnavailable(f"no address for {func!r} in the unicorn library")
    return int(address)
