"""Flash and RAM footprint of a firmware ELF for the STM32F407VG (1 MB flash, 128 KB SRAM + 64 KB CCM).

Flash = every allocated section with contents (not NOBITS) whose *load* address (LMA, from the PT_LOAD
segment holding it) is in flash: .isr_vector, .text, .rodata, .ARM.exidx, the .data load image...

RAM = every allocated section whose run address (VMA) is in SRAM or CCM (.data, .bss, .ccmram, a
`._user_heap_stack`-style reserve...) plus the stack reserve, found in this order:
  1. the absolute symbol `_stack_size` (this project's linker script),
  2. `_Min_Stack_Size` + `_Min_Heap_Size` (STM32CubeIDE scripts),
  3. nothing (0 bytes, `stack_source = "none"`).
The reserve is not added again when a RAM section whose name contains "stack" already holds it
(`stack_source` then says so). The stack is counted in SRAM unless `_estack` points into CCM.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from elftools.elf.elffile import ELFFile

from tinyml_disco.sim.elfimage import find_symbol_value, open_arm_elf, read_symbols
from tinyml_disco.sim.memory import CCM_BASE, CCM_SIZE, FLASH_BASE, FLASH_SIZE, SRAM_BASE, SRAM_SIZE

RAM_SIZE = SRAM_SIZE + CCM_SIZE
SHF_ALLOC = 0x2


@dataclass(frozen=True)
class SectionSize:
    name: str
    address: int  # run address (VMA)
    load_address: int  # LMA
    size: int
    flash: bool  # occupies flash (has contents loaded from flash)
    ram: str | None  # "sram", "ccm" or None


@dataclass(frozen=True)
class SymbolSize:
    name: str
    size: int
    section: str
    address: int


@dataclass(frozen=True)
class Footprint:
    path: str
    flash_bytes: int
    ram_bytes: int
    sram_bytes: int
    ccm_bytes: int
    stack_bytes: int
    stack_source: str
    sections: list[SectionSize] = field(default_factory=list)
    largest_symbols: list[SymbolSize] = field(default_factory=list)
    flash_limit: int = FLASH_SIZE
    ram_limit: int = RAM_SIZE
    sram_limit: int = SRAM_SIZE
    ccm_limit: int = CCM_SIZE

    @property
    def fits(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        """Human-readable reasons the image does not fit the STM32F407VG (empty when it fits)."""
        out = []
        for what, used, limit in (
            ("flash", self.flash_bytes, self.flash_limit),
            ("SRAM", self.sram_bytes, self.sram_limit),
            ("CCM", self.ccm_bytes, self.ccm_limit),
            ("RAM (SRAM + CCM)", self.ram_bytes, self.ram_limit),
        ):
            if used > limit:
                out.append(f"{what}: {used} bytes used, {limit} available ({used - limit} over)")
        return out

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["fits"] = self.fits
        data["problems"] = self.problems()
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def format_table(self) -> str:
        def row(region: str, used: int, limit: int) -> str:
            return f"{region:<18}{used:>10}{limit:>10}{100.0 * used / limit:>7.1f}%"

        lines = [
            f"Footprint of {self.path}",
            f"{'region':<18}{'used':>10}{'limit':>10}{'use':>8}",
            row("flash", self.flash_bytes, self.flash_limit),
            row("SRAM", self.sram_bytes, self.sram_limit),
            row("CCM", self.ccm_bytes, self.ccm_limit),
            row("RAM total", self.ram_bytes, self.ram_limit),
            f"stack reserve: {self.stack_bytes} bytes ({self.stack_source})",
            "",
            f"{'section':<24}{'address':>12}{'load addr':>12}{'size':>10}  region",
        ]
        for s in self.sections:
            region = "+".join(r for r in ("flash" if s.flash else "", s.ram or "") if r) or "-"
            lines.append(f"{s.name:<24}{s.address:>#12x}{s.load_address:>#12x}{s.size:>10}  {region}")
        if self.largest_symbols:
            lines += ["", f"{'largest symbols':<40}{'size':>10}  section"]
            lines += [f"{s.name[:39]:<40}{s.size:>10}  {s.section}" for s in self.largest_symbols]
        verdict = "fits the STM32F407VG" if self.fits else "DOES NOT FIT: " + "; ".join(self.problems())
        lines += ["", verdict]
        return "\n".join(lines)


def _ram_region(address: int) -> str | None:
    if SRAM_BASE <= address < SRAM_BASE + SRAM_SIZE:
        return "sram"
    if CCM_BASE <= address < CCM_BASE + CCM_SIZE:
        return "ccm"
    return None


def _in_flash(address: int) -> bool:
    return FLASH_BASE <= address < FLASH_BASE + FLASH_SIZE or 0 <= address < FLASH_SIZE


def _load_address(elf: ELFFile, vma: int) -> int:
    for seg in elf.iter_segments():
        if seg["p_type"] == "PT_LOAD" and seg["p_vaddr"] <= vma < seg["p_vaddr"] + max(seg["p_memsz"], 1):
            return int(seg["p_paddr"] + vma - seg["p_vaddr"])
    return vma


def _sections(elf: ELFFile) -> list[SectionSize]:
    out = []
    for sec in elf.iter_sections():
        if not sec["sh_flags"] & SHF_ALLOC or sec["sh_size"] == 0:
            continue
        vma = int(sec["sh_addr"])
        has_contents = sec["sh_type"] != "SHT_NOBITS"
        lma = _load_address(elf, vma) if has_contents else vma
        out.append(
            SectionSize(
                name=sec.name,
                address=vma,
                load_address=lma,
                size=int(sec["sh_size"]),
                flash=has_contents and _in_flash(lma),
                ram=_ram_region(vma),
            )
        )
    return out


def _stack_reserve(elf: ELFFile, sections: list[SectionSize]) -> tuple[int, str, bool]:
    """(bytes, source description, already counted in a section)."""
    in_section = next((s for s in sections if s.ram and "stack" in s.name.lower()), None)
    size = find_symbol_value(elf, "_stack_size")
    source = "symbol _stack_size"
    if size is None:
        stack, heap = find_symbol_value(elf, "_Min_Stack_Size"), find_symbol_value(elf, "_Min_Heap_Size")
        if stack is not None:
            size, source = stack + (heap or 0), "symbols _Min_Stack_Size + _Min_Heap_Size"
    if in_section is not None:
        return in_section.size, f"section {in_section.name}", True
    if size is None:
        return 0, "none", False
    return size, source, False


def measure_footprint(elf_path: str | Path, top_symbols: int = 10) -> Footprint:
    """Measure `elf_path`; raises tinyml_disco.sim.errors.ElfFormatError if it is not an ARM ELF."""
    elf = open_arm_elf(elf_path)
    sections = _sections(elf)
    flash = sum(s.size for s in sections if s.flash)
    sram = sum(s.size for s in sections if s.ram == "sram")
    ccm = sum(s.size for s in sections if s.ram == "ccm")
    stack, source, counted = _stack_reserve(elf, sections)
    if not counted:
        estack = find_symbol_value(elf, "_estack")
        if estack is not None and _ram_region(estack - 1) == "ccm":
            ccm += stack
        else:
            sram += stack
    symbols = {(s.name, s.address): s for s in read_symbols(elf) if s.size and s.kind in ("FUNC", "OBJECT")}
    largest = sorted(symbols.values(), key=lambda s: (-s.size, s.name))[:top_symbols]
    return Footprint(
        path=str(elf_path),
        flash_bytes=flash,
        ram_bytes=sram + ccm,
        sram_bytes=sram,
        ccm_bytes=ccm,
        stack_bytes=stack,
        stack_source=source,
        sections=sections,
        largest_symbols=[SymbolSize(s.name, s.size, s.section, s.address) for s in largest],
    )


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Flash/RAM footprint of a firmware ELF (STM32F407VG).")
    parser.add_argument("elf")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--top", type=int, default=10, help="how many of the largest symbols to list")
    args = parser.parse_args(argv)
    fp = measure_footprint(args.elf, args.top)
    print(fp.to_json() if args.json else fp.format_table())
    return 0 if fp.fits else 1


if __name__ == "__main__":
    raise SystemExit(main())


STACK_PAINT = 0xA5A5A5A5  # written over the stack reserve by Reset_Handler (firmware/src/startup_stm32f407.c)


def stack_high_water(elf_path: str | Path, read_memory) -> int | None:
    """Bytes of stack ever used, from the paint left in [_sstack, _estack) of a running board.

    `read_memory(address, size) -> bytes` reads the board's RAM. None if the ELF has no paint symbols.
    """
    elf = open_arm_elf(elf_path)
    lo, hi = find_symbol_value(elf, "_sstack"), find_symbol_value(elf, "_estack")
    if lo is None or hi is None:
        return None
    words = memoryview(read_memory(lo, hi - lo)).cast("I")
    untouched = next((i for i, w in enumerate(words) if w != STACK_PAINT), len(words))
    return (hi - lo) - 4 * untouched
