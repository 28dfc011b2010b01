"""What TFLite Micro's arena holds for a model: the figures our static plan is compared against.

`print_allocations()` of the recording allocator reports the arena head (TFLM's planned,
non-persistent buffers: all activations including the model input and output, plus op scratch) and
the total with the persistent tail (tensor structs, op data). It prints from C++, so fds 1 and 2 are captured.
The arena size argument is not probed downwards: undersized arenas can abort the process.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import tempfile
from dataclasses import dataclass


@dataclass(frozen=True)
class TflmArena:
    head_bytes: int  # activations + scratch (platform independent)
    total_bytes: int  # + persistent tail (struct sizes of the host build, 64-bit)


def measure(model: bytes, arena_size: int = 1 << 20) -> TflmArena:
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(model, arena_size=arena_size)
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    sys.stderr.flush()
    libc.fflush(None)
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            interp.print_allocations()
            libc.fflush(None)  # the report goes through C stdio
        finally:
            for fd, copy in ((1, saved[0]), (2, saved[1])):
                os.dup2(copy, fd)
                os.close(copy)
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")
    head = re.search(r"Arena allocation head (\d+) bytes", text)
    total = re.search(r"Arena allocation total (\d+) bytes", text)
    if head is None or total is None:
        raise RuntimeError(f"could not read TFLM's allocation report: {text[:200]!r}")
    return TflmArena(int(head.group(1)), int(total.group(1)))
