"""Where a firmware's flash and RAM go: by section, by what the bytes are for, and by the largest symbols.

The section sizes and symbols come from the ELF (sim/footprint.py, pyelftools); the split by purpose (app / model /
kernels / runtime / libc) from the linker map next to it (app/flash_split.py), when there is one. `.data` is in
both lists (its initial image is stored in flash, it runs in RAM); the stack reserve is a RAM entry of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tinyml_disco.app.flash_split import split
from tinyml_disco.sim import footprint


@dataclass(frozen=True)
class Part:
    name: str
    size: int
    detail: str = ""  # the symbol's section, or empty


@dataclass(frozen=True)
class Breakdown:
    elf: Path
    flash_bytes: int
    ram_bytes: int
    flash_sections: list[Part]
    ram_sections: list[Part]
    flash_symbols: list[Part]
    ram_symbols: list[Part]
    flash_split: dict[str, int] = field(default_factory=dict)  # empty without a linker map
    ram_static_split: dict[str, int] = field(default_factory=dict)
    flash_limit: int = footprint.FLASH_SIZE
    ram_limit: int = footprint.RAM_SIZE


def breakdown(elf: Path, top: int = 12, min_symbol: int = 16) -> Breakdown:
    """Sections and the `top` largest symbols of flash and of RAM of at least `min_symbol` bytes (all symbols read
    once with pyelftools)."""
    fp = footprint.measure_footprint(elf, top_symbols=1_000_000)
    flash_secs = [Part(s.name, s.size) for s in fp.sections if s.flash]
    ram_secs = [Part(s.name, s.size) for s in fp.sections if s.ram]
    if fp.stack_bytes and not fp.stack_source.startswith("section"):
        ram_secs.append(Part("stack reserve", fp.stack_bytes, fp.stack_source))
    in_ram = {s.name for s in fp.sections if s.ram}
    in_flash = {s.name for s in fp.sections if s.flash}
    big = [s for s in fp.largest_symbols if s.size >= min_symbol]
    flash_syms = [Part(s.name, s.size, s.section) for s in big if s.section in in_flash]
    ram_syms = [Part(s.name, s.size, s.section) for s in big if s.section in in_ram]
    mapfile = elf.with_name("firmware.map")
    parts = split(mapfile, fp.flash_bytes, fp.ram_bytes - fp.stack_bytes) if mapfile.exists() else {}
    return Breakdown(elf=elf, flash_bytes=fp.flash_bytes, ram_bytes=fp.ram_bytes, flash_sections=flash_secs,
                     ram_sections=ram_secs, flash_symbols=flash_syms[:top], ram_symbols=ram_syms[:top],
                     flash_split=parts.get("flash", {}), ram_static_split=parts.get("ram_static", {}))
