"""Flash and static RAM of a firmware split by what the bytes are for, from the linker map (firmware.map).

Every input section the linker placed is attributed by the object it came from:
  app      firmware/src (startup, drivers, features, UART protocol; LTO's ltrans objects are this code)
  model    the model: generated model.c (compiled runtime: weights and the call sequence; TFLM: the .tflite array)
  kernels  firmware/nn (compiled runtime), TFLM's kernels and CMSIS-NN (TFLM runtime)
  runtime  TFLM's interpreter, allocator, flatbuffer reader and our glue (tflm_runtime.cc); 0 for compiled
  libc     newlib, libgcc, libstdc++/libsupc++
  other    alignment fill and anything unrecognised
"""

from __future__ import annotations

import re
from pathlib import Path

CATEGORIES = ("app", "model", "kernels", "runtime", "libc", "other")
_FULL = re.compile(r"^ (\.\S+|COMMON)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_NAME = re.compile(r"^ (\.\S+|COMMON)$")
_REST = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_FILL = re.compile(r"^ \*fill\*\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)")


def category(obj: str) -> str:
    if "libtflm.a(" in obj:
        member = obj.split("libtflm.a(", 1)[1]
        return "kernels" if ("__kernels__" in member or member.startswith("third_party__cmsis_nn")) else "runtime"
    if obj.endswith("tflm_runtime.o"):
        return "runtime"
    if obj.endswith("/model/model.o"):
        return "model"
    if "/nn/" in obj:
        return "kernels"
    if "/src/" in obj or obj.endswith(".ltrans.o"):
        return "app"  # firmware/src; the link-time-optimised objects hold only the platform code (firmware/Makefile)
    if re.search(r"lib(c|c_nano|g|g_nano|gcc|m|stdc\+\+|stdc\+\+_nano|supc\+\+|supc\+\+_nano|nosys)\.a", obj):
        return "libc"
    return "other"


def _in_flash(addr: int) -> bool:
    return 0x0800_0000 <= addr < 0x0810_0000


def _in_ram(addr: int) -> bool:
    return 0x2000_0000 <= addr < 0x2002_0000 or 0x1000_0000 <= addr < 0x1001_0000


def split(map_path: Path, flash_total: int | None = None,
          ram_static_total: int | None = None) -> dict[str, dict[str, int]]:
    """{"flash": {category: bytes}, "ram_static": {category: bytes}} (.data counts in both). With the ELF's totals
    (sim.footprint), the few bytes of alignment the map does not list go to "other", so the parts add up."""
    flash = dict.fromkeys(CATEGORIES, 0)
    ram = dict.fromkeys(CATEGORIES, 0)
    lines = map_path.read_text(errors="replace").splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.startswith("Linker script and memory map"))
    except StopIteration as exc:
        raise ValueError(f"{map_path}: not a GNU ld map file") from exc
    pending: str | None = None
    for ln in lines[start:]:
        name = addr = size = obj = None
        if pending is not None:
            m = _REST.match(ln)
            pending_name, pending = pending, None
            if m:
                name, addr, size, obj = pending_name, int(m.group(1), 16), int(m.group(2), 16), m.group(3)
        if name is None:
            m = _FULL.match(ln)
            if m:
                name, addr, size, obj = m.group(1), int(m.group(2), 16), int(m.group(3), 16), m.group(4)
            elif _NAME.match(ln):
                pending = ln.strip()
                continue
            else:
                f = _FILL.match(ln)
                if f:
                    a, s = int(f.group(1), 16), int(f.group(2), 16)
                    if _in_flash(a):
                        flash["other"] += s
                    elif _in_ram(a):
                        ram["other"] += s
                continue
        if not size or name is None or obj is None or addr is None:
            continue
        cat = category(obj.strip())
        if _in_flash(addr):
            flash[cat] += size
        elif _in_ram(addr):
            ram[cat] += size
            if name.startswith(".data"):
                flash[cat] += size  # the initial image is stored in flash
    if flash_total is not None:
        flash["other"] += flash_total - sum(flash.values())
    if ram_static_total is not None:
        ram["other"] += ram_static_total - sum(ram.values())
    return {"flash": flash, "ram_static": ram}
