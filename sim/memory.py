"""STM32F407VG memory map (RM0090 section 2.3) and loading a firmware image into it."""

from __future__ import annotations

import ctypes
import struct

from unicorn import UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_READ, UC_PROT_WRITE, Uc

from tinyml_disco.sim.elfimage import LoadSegment
from tinyml_disco.sim.errors import ElfFormatError

FLASH_BASE, FLASH_SIZE = 0x0800_0000, 1024 * 1024
SRAM_BASE, SRAM_SIZE = 0x2000_0000, 128 * 1024
CCM_BASE, CCM_SIZE = 0x1000_0000, 64 * 1024
SYSMEM_BASE, SYSMEM_SIZE = 0x1FFF_0000, 0x1_0000  # system memory, OTP, unique ID, option bytes
SRAM_BITBAND_BASE, SRAM_BITBAND_SIZE = 0x2200_0000, SRAM_SIZE * 32
UNIQUE_ID_ADDR, FLASH_SIZE_REG = 0x1FFF_7A10, 0x1FFF_7A22


class Memories:
    """Flash (aliased at 0), SRAM, CCM (no execute), system memory and the SRAM bit-band alias."""

    def __init__(self, uc: Uc) -> None:
        self._uc = uc
        self._flash = ctypes.create_string_buffer(b"\xff" * FLASH_SIZE, FLASH_SIZE)
        flash_ptr = ctypes.addressof(self._flash)
        uc.mem_map_ptr(FLASH_BASE, FLASH_SIZE, UC_PROT_READ | UC_PROT_EXEC, flash_ptr)
        uc.mem_map_ptr(0x0000_0000, FLASH_SIZE, UC_PROT_READ | UC_PROT_EXEC, flash_ptr)
        uc.mem_map(SRAM_BASE, SRAM_SIZE, UC_PROT_ALL)
        uc.mem_map(CCM_BASE, CCM_SIZE, UC_PROT_READ | UC_PROT_WRITE)
        uc.mem_map(SYSMEM_BASE, SYSMEM_SIZE, UC_PROT_READ)
        uc.mem_write(UNIQUE_ID_ADDR, bytes(range(0x30, 0x3C)))
        uc.mem_write(FLASH_SIZE_REG, struct.pack("<H", FLASH_SIZE // 1024))
        uc.mmio_map(SRAM_BITBAND_BASE, SRAM_BITBAND_SIZE, self._bb_read, None, self._bb_write, None)

    def load(self, segments: list[LoadSegment]) -> None:
        """Write each segment's file image at its load address (p_paddr); the rest of RAM stays zero."""
        for seg in segments:
            if not seg.data:
                continue
            start, end = seg.paddr, seg.paddr + len(seg.data)
            if FLASH_BASE <= start and end <= FLASH_BASE + FLASH_SIZE:
                ctypes.memmove(ctypes.addressof(self._flash) + start - FLASH_BASE, seg.data, len(seg.data))
            elif any(
                base <= start and end <= base + size
                for base, size in ((SRAM_BASE, SRAM_SIZE), (CCM_BASE, CCM_SIZE))
            ):
                self._uc.mem_write(start, seg.data)
            else:
                raise ElfFormatError(
                    f"segment at 0x{start:08x}..0x{end:08x} does not fit in flash, SRAM or CCM "
                    "of the STM32F407VG"
                )

    def vector(self, index: int) -> int:
        """Word `index` of the boot vector table at the start of flash."""
        return int(struct.unpack_from("<I", self._flash.raw, index * 4)[0])

    # -- SRAM bit-band alias (ARMv7-M ARM B3.1.1) ----------------------------------------------------------
    def _bb_target(self, offset: int) -> tuple[int, int]:
        return SRAM_BASE + (offset >> 5), (offset >> 2) & 7

    def _bb_read(self, uc: Uc, offset: int, _size: int, _user: object) -> int:
        addr, bit = self._bb_target(offset)
        return (uc.mem_read(addr, 1)[0] >> bit) & 1

    def _bb_write(self, uc: Uc, offset: int, _size: int, value: int, _user: object) -> None:
        addr, bit = self._bb_target(offset)
        old = uc.mem_read(addr, 1)[0]
        new = (old | (1 << bit)) if value & 1 else (old & ~(1 << bit))
        uc.mem_write(addr, bytes([new & 0xFF]))
