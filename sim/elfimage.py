"""Reading firmware ELF files: loadable segments and address -> symbol lookup."""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from tinyml_disco.sim.errors import ElfFormatError


def open_arm_elf(path: str | Path) -> ELFFile:
    """Open `path` as a 32-bit little-endian ARM ELF (whole file read into memory)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ElfFormatError(f"cannot read firmware ELF {p}: {exc}") from exc
    try:
        elf = ELFFile(io.BytesIO(data))
    except ELFError as exc:
        raise ElfFormatError(f"{p} is not an ELF file: {exc}") from exc
    if elf["e_machine"] != "EM_ARM" or elf.elfclass != 32 or not elf.little_endian:
        raise ElfFormatError(
            f"{p} is not a 32-bit little-endian ARM ELF (machine={elf['e_machine']}, class={elf.elfclass})"
        )
    return elf


@dataclass(frozen=True)
class LoadSegment:
    """One PT_LOAD segment: `data` goes at `paddr` (the load address); `memsz` bytes are reserved."""

    paddr: int
    vaddr: int
    data: bytes
    memsz: int


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int
    size: int
    kind: str  # "FUNC", "OBJECT" or "NOTYPE"
    section: str


def load_segments(elf: ELFFile) -> list[LoadSegment]:
    """The PT_LOAD segments of `elf`, in file order."""
    return [
        LoadSegment(seg["p_paddr"], seg["p_vaddr"], seg.data(), seg["p_memsz"])
        for seg in elf.iter_segments()
        if seg["p_type"] == "PT_LOAD"
    ]


def read_symbols(elf: ELFFile) -> list[Symbol]:
    """Named FUNC/OBJECT/NOTYPE symbols in a section (Thumb bit cleared, ARM mapping symbols skipped)."""
    symtab = elf.get_section_by_name(".symtab")
    if not isinstance(symtab, SymbolTableSection):
        return []
    names = [s.name for s in elf.iter_sections()]
    out: list[Symbol] = []
    for sym in symtab.iter_symbols():
        kind = sym["st_info"]["type"].removeprefix("STT_")
        shndx = sym["st_shndx"]
        if kind not in ("FUNC", "OBJECT", "NOTYPE") or not sym.name or not isinstance(shndx, int):
            continue
        if sym.name.startswith("$"):
            continue
        addr = sym["st_value"] & ~1 if kind == "FUNC" else sym["st_value"]
        section = names[shndx] if shndx < len(names) else ""
        out.append(Symbol(sym.name, addr, sym["st_size"], kind, section))
    return out


def find_symbol_value(elf: ELFFile, name: str) -> int | None:
    """Value of the symbol `name` (absolute symbols included), or None."""
    symtab = elf.get_section_by_name(".symtab")
    if not isinstance(symtab, SymbolTableSection):
        return None
    found = symtab.get_symbol_by_name(name)
    return int(found[0]["st_value"]) if found else None


def section_ranges(elf: ELFFile) -> dict[str, tuple[int, int]]:
    """Allocated sections: name -> (start, end) virtual address range."""
    return {
        s.name: (s["sh_addr"], s["sh_addr"] + s["sh_size"])
        for s in elf.iter_sections()
        if s["sh_flags"] & 0x2 and s["sh_size"]  # SHF_ALLOC
    }


class Symbolizer:
    """Maps code/data addresses to `name+0xoffset` using the ELF symbol table."""

    def __init__(self, symbols: list[Symbol], sections: dict[str, tuple[int, int]] | None = None) -> None:
        self._sections = sections or {}
        ranked = sorted(symbols, key=lambda s: (s.address, s.kind != "FUNC", -s.size, s.name))
        self._symbols = ranked
        self._starts = [s.address for s in ranked]
        self._by_name = {s.name: s for s in reversed(ranked)}

    def address_of(self, name: str) -> int:
        """Address of symbol `name` (KeyError if absent)."""
        return self._by_name[name].address

    def lookup(self, address: int) -> Symbol | None:
        """The sized symbol containing `address`, else the nearest preceding label in the same section."""
        i = bisect.bisect_right(self._starts, address)
        fallback: Symbol | None = None
        for sym in reversed(self._symbols[max(0, i - 64) : i]):
            if sym.size and sym.address <= address < sym.address + sym.size:
                return sym
            if fallback is None and sym.size == 0 and self._in_section(sym, address):
                fallback = sym
        return fallback

    def _in_section(self, sym: Symbol, address: int) -> bool:
        start, end = self._sections.get(sym.section, (0, 0))
        return start <= sym.address and address < end

    def describe(self, address: int) -> str:
        """`name+0xoff` for `address`, or `??` when no symbol covers it."""
        sym = self.lookup(address)
        if sym is None:
            return "??"
        off = address - sym.address
        return f"{sym.name}+0x{off:x}" if off else sym.name
