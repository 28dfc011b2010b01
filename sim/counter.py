"""Exact retired-instruction counting with a Unicorn block hook, plus deferred stop requests.

The block hook fires when a translated block is entered, before its first instruction runs. It adds the
block's instruction count (decoded once per (address, size) and cached) unless that would pass the
current limit or a stop was requested, in which case it stops emulation *before* the block runs.
Emulation can also end in the middle of a block (a fault, or a stop from an MMIO callback); `settle`
then removes the instructions of the block that did not retire, so resuming at the reported PC
(which starts a new block there) does not count them twice.

Inside MMIO callbacks the PC reported by Unicorn is the PC of the accessing instruction only when a
memory hook is registered (without one it is the start of the block); the board registers one.

Two implementations with identical results: `NativeCounter` (the hook in C, sim/native/blockhook.c,
about 8x faster per block) and `PythonCounter` (the reference). `InstructionCounter(uc)` picks one:
$TINYML_COUNTER = "native" (fail if it cannot be built), "python", or unset/"auto" (native, falling
back to Python with a warning only when there is no C compiler).
"""

from __future__ import annotations

import ctypes
import os
import warnings

from unicorn import UC_HOOK_BLOCK, Uc, UcError
from unicorn.arm_const import UC_ARM_REG_PC

from tinyml_disco.sim.native import blockhook
from tinyml_disco.sim.thumb import count_instructions, first_fpu_offset, uses_fpu

NO_LIMIT = 1 << 62
COUNTER_ENV = "TINYML_COUNTER"
_INT64_MAX = (1 << 63) - 1

# uc_cb_hookcode_t: void (*)(uc_engine *uc, uint64_t address, uint32_t size, void *user_data)
_RAW_BLOCK_HOOK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p)


def _add_raw_block_hook(uc: Uc, callback: ctypes._CFuncPtr) -> bool:
    """Register `callback` straight with libunicorn, skipping the binding's two Python wrapper layers
    (about 40% of the per-block cost). Returns False if this binding's internals are not as expected."""
    try:
        from unicorn.unicorn_py3.unicorn import uc_hook_h, uclib
    except ImportError:
        return False
    handle = uc_hook_h()
    status = uclib.uc_hook_add(
        uc._uch, ctypes.byref(handle), UC_HOOK_BLOCK, callback, None, ctypes.c_uint64(1), ctypes.c_uint64(0)
    )
    if status != 0:
        raise UcError(status)
    return True


def _native_selected(requested: str | None) -> bool:
    choice = (requested or os.environ.get(COUNTER_ENV) or "auto").strip().lower()
    if choice not in ("auto", "native", "python"):
        raise ValueError(f"{COUNTER_ENV}={choice!r}: choose native, python or auto")
    if choice != "auto":
        return choice == "native"
    from tinyml_disco.sim.native import build

    if build.is_buildable():
        return True
    warnings.warn(
        "no C compiler for the native instruction counter: using the Python one (about 8x slower per "
        "block). Install gcc (scripts/bootstrap.sh does) or set CC.",
        RuntimeWarning,
        stacklevel=3,
    )
    return False


class InstructionCounter:
    """Counts retired instructions of `uc` exactly. Constructing this class returns a NativeCounter or a
    PythonCounter (see the module docstring); `backend` ("native", "python", "auto") overrides the
    environment. Public state: retired, stop_reason, fpu_enabled, fpu_violation_pc, hook_error."""

    backend = "abstract"

    def __new__(cls, uc: Uc, backend: str | None = None) -> InstructionCounter:
        if cls is InstructionCounter:
            cls = NativeCounter if _native_selected(backend) else PythonCounter
        return super().__new__(cls)

    def arm(self, limit: int) -> None:
        """Prepare a run: stop before any block that would take `retired` past `limit`."""
        raise NotImplementedError

    def request_stop(self, reason: str) -> None:
        """Stop at the next block entry (the current block finishes; no access is replayed)."""
        raise NotImplementedError

    def settle(self) -> None:
        """After emu_start returns: make `retired` exact if emulation ended in the middle of a block."""
        raise NotImplementedError

    def retired_before_current(self, uc: Uc) -> int:
        """Inside an MMIO callback: instructions retired before the accessing instruction."""
        raise NotImplementedError


class PythonCounter(InstructionCounter):
    """The reference implementation: the block hook in Python (about 1 us per block)."""

    backend = "python"

    def __init__(self, uc: Uc, backend: str | None = None) -> None:
        self._uc = uc
        self.retired = 0
        self.stop_reason: str | None = None
        self._limit = NO_LIMIT
        self._counts: dict[int, int] = {}
        self._fpu_blocks: set[int] = set()
        self._block_addr = 0
        self._block_end = 0
        self.fpu_enabled = True
        self.fpu_violation_pc: int | None = None
        self.hook_error: BaseException | None = None
        self._raw_hook = _RAW_BLOCK_HOOK(self._on_raw_block)  # keep a reference: libunicorn calls it
        if not _add_raw_block_hook(uc, self._raw_hook):
            uc.hook_add(UC_HOOK_BLOCK, self._on_block)

    def _on_raw_block(self, _handle: int, address: int, size: int, _user: int) -> None:
        try:
            self._on_block(self._uc, address, size, None)
        except BaseException as exc:  # ctypes would print and swallow it: report it after emu_start
            if self.hook_error is None:
                self.hook_error = exc
            self._uc.emu_stop()

    # -- hook ---------------------------------------------------------------------------------------------
    def _on_block(self, uc: Uc, address: int, size: int, _user: object) -> None:
        key = address | (size << 32)
        n = self._counts.get(key)
        if n is None:
            n = self._decode(address, size, key)
        total = self.retired + n
        if total > self._limit:
            if self.stop_reason is None:
                self.stop_reason = "limit"
            self._block_addr = self._block_end = 0  # this block will not run; the previous one completed
            uc.emu_stop()
            return
        if not self.fpu_enabled and key in self._fpu_blocks:
            off = first_fpu_offset(bytes(uc.mem_read(address, size)))
            self.fpu_violation_pc = address + (off or 0)
            self.stop_reason = "fpu"
            self._block_addr = self._block_end = 0
            uc.emu_stop()
            return
        self.retired = total
        self._block_addr = address
        self._block_end = address + size

    def _decode(self, address: int, size: int, key: int) -> int:
        code = bytes(self._uc.mem_read(address, size)) if size else b""
        n = count_instructions(code)
        self._counts[key] = n
        if uses_fpu(code):
            self._fpu_blocks.add(key)
        return n

    # -- control ------------------------------------------------------------------------------------------
    def arm(self, limit: int) -> None:
        self._limit = limit
        self.stop_reason = None
        self.hook_error = None
        self._block_addr = self._block_end = 0

    def request_stop(self, reason: str) -> None:
        if self.stop_reason is None or self.stop_reason == "limit":
            self.stop_reason = reason
        self._limit = -1

    def _unretired(self, pc: int) -> int:
        """Instructions of the current block at or after `pc` (not yet retired)."""
        if not (self._block_addr <= pc < self._block_end):
            return 0
        return count_instructions(bytes(self._uc.mem_read(pc, self._block_end - pc)))

    def settle(self) -> None:
        pc = self._uc.reg_read(UC_ARM_REG_PC)
        self.retired -= self._unretired(pc)
        self._block_addr = self._block_end = 0

    def retired_before_current(self, uc: Uc) -> int:
        return self.retired - self._unretired(uc.reg_read(UC_ARM_REG_PC))


class NativeCounter(InstructionCounter):
    """The same hook in C (sim/native/blockhook.c); its state is a C struct read and written here."""

    backend = "native"

    def __init__(self, uc: Uc, backend: str | None = None) -> None:
        self._hook = blockhook.NativeBlockHook(uc, blockhook.load_library())
        self._st = self._hook.state
        self._requested: str | None = None  # the reason given to request_stop
        self._hook_error: BaseException | None = None

    @property
    def retired(self) -> int:
        return int(self._st.retired)

    @retired.setter
    def retired(self, value: int) -> None:
        self._st.retired = value

    @property
    def stop_reason(self) -> str | None:
        return (None, "limit", "fpu", self._requested)[self._st.reason]

    @stop_reason.setter
    def stop_reason(self, value: str | None) -> None:
        codes = {None: blockhook.REASON_NONE, "limit": blockhook.REASON_LIMIT, "fpu": blockhook.REASON_FPU}
        code = codes.get(value, blockhook.REASON_REQUESTED)
        self._requested = value if code == blockhook.REASON_REQUESTED else None
        self._st.reason = code

    @property
    def fpu_enabled(self) -> bool:
        return bool(self._st.fpu_enabled)

    @fpu_enabled.setter
    def fpu_enabled(self, value: bool) -> None:
        self._st.fpu_enabled = 1 if value else 0

    @property
    def fpu_violation_pc(self) -> int | None:
        pc = int(self._st.fpu_violation_pc)
        return None if pc == blockhook.NO_PC else pc

    @fpu_violation_pc.setter
    def fpu_violation_pc(self, value: int | None) -> None:
        self._st.fpu_violation_pc = blockhook.NO_PC if value is None else value

    @property
    def hook_error(self) -> BaseException | None:
        if self._hook_error is None and self._st.error != 0:
            self._hook_error = UcError(self._st.error)
        return self._hook_error

    @hook_error.setter
    def hook_error(self, value: BaseException | None) -> None:
        self._hook_error = value
        if value is None:
            self._st.error = 0

    @property
    def blocks_seen(self) -> int:
        """Block entries seen by the hook (including the ones it stopped before)."""
        return int(self._st.blocks)

    @property
    def blocks_decoded(self) -> int:
        """Cache misses: blocks whose instructions were decoded."""
        return int(self._st.misses)

    def arm(self, limit: int) -> None:
        st = self._st
        st.limit = min(limit, _INT64_MAX)
        st.reason = blockhook.REASON_NONE
        st.error = 0
        st.block_addr = st.block_end = 0
        self._requested = None
        self._hook_error = None

    def request_stop(self, reason: str) -> None:
        st = self._st
        if st.reason in (blockhook.REASON_NONE, blockhook.REASON_LIMIT):
            st.reason = blockhook.REASON_REQUESTED
            self._requested = reason
        st.limit = -1

    def settle(self) -> None:
        self._hook.settle()

    def retired_before_current(self, uc: Uc) -> int:
        return self._hook.retired_before_current()
