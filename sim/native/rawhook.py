"""Registering ctypes callbacks straight with libunicorn's uc_hook_add, skipping the Python binding's two
wrapper layers (which cost about as much as a small hook itself). A raw callback must not raise: it stores
its exception and stops emulation, and whoever runs the emulation re-raises it afterwards."""

from __future__ import annotations

import ctypes

from unicorn import Uc, UcError

# uc_cb_hookintr_t: void (*)(uc_engine *uc, uint32_t intno, void *user_data)
RAW_INTR_HOOK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p)


def add_raw_hook(uc: Uc, hook_type: int, callback: ctypes._CFuncPtr, begin: int = 1, end: int = 0) -> bool:
    """Register `callback` (keep a reference to it while `uc` runs) for `hook_type` on [begin, end].
    Returns False if this binding's internals are not as expected (then use uc.hook_add)."""
    try:
        from unicorn.unicorn_py3.unicorn import uc_hook_h, uclib
    except ImportError:
        return False
    handle = uc_hook_h()
    status = uclib.uc_hook_add(
        uc._uch, ctypes.byref(handle), hook_type, callback, None, ctypes.c_uint64(begin), ctypes.c_uint64(end)
    )
    if status != 0:
        raise UcError(status)
    return True


def emu_stopper(uc: Uc) -> ctypes._CFuncPtr | None:
    """uc_emu_stop bound to nothing (call it with uc._uch), or None without the binding's internals."""
    try:
        from unicorn.unicorn_py3.unicorn import uclib
    except ImportError:
        return None
    return uclib.uc_emu_stop
