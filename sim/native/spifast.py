"""ctypes side of spifast.c: the native SR/DR read callbacks for an SPI register page (sim/periph/spi.py)."""

from __future__ import annotations

import ctypes

from tinyml_disco.sim.native.blockhook import NativeUnavailable, load_library
from tinyml_disco.sim.periph.spi import SpiShared


class SpiFastPath:
    """Addresses of sf_read / sf_write in the native library, after checking that sf_state matches
    `SpiShared`. Raises NativeUnavailable if the library cannot be loaded or does not match."""

    def __init__(self, lib: ctypes.CDLL | None = None) -> None:
        lib = lib if lib is not None else load_library()
        try:
            offsets_fn, read, write = lib.sf_offsets, lib.sf_read, lib.sf_write
        except AttributeError as exc:
            raise NativeUnavailable(f"{lib._name} has no native SPI callbacks ({exc})") from exc
        offsets_fn.restype = ctypes.c_size_t
        offsets_fn.argtypes = [ctypes.POINTER(ctypes.c_size_t), ctypes.c_size_t]
        out = (ctypes.c_size_t * 16)()
        n = offsets_fn(out, len(out))
        theirs = list(out[:n])
        mine = [getattr(SpiShared, name).offset for name, _ in SpiShared._fields_] + [ctypes.sizeof(SpiShared)]
        if theirs != mine:
            raise NativeUnavailable(f"sf_state in {lib._name} does not match SpiShared in sim/periph/spi.py: "
                                    f"C offsets {theirs}, ctypes {mine}")
        self.read = _address_of(read)
        self.write = _address_of(write)
        self._lib = lib  # keeps the library (and so the addresses) loaded


def _address_of(func: ctypes._CFuncPtr) -> int:
    address = ctypes.cast(func, ctypes.c_void_p).value
    if not address:
        raise NativeUnavailable(f"no address for {func!r} in the native library")
    return int(address)
