"""Embedded flash interface registers (RM0090 section 3.9): ACR latency etc. are stored and read back;
programming is not modelled (declared registers)."""

from __future__ import annotations

from tinyml_disco.sim.periph.registers import DeclaredPeripheral, Field, Register

ACR, KEYR, OPTKEYR, SR, CR, OPTCR = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14


class FlashInterface(DeclaredPeripheral):
    NAME = "FLASH"
    REGISTERS = (
        Register(ACR, "ACR", (Field("LATENCY", 0, 3), Field("PRFTEN", 8), Field("ICEN", 9), Field("DCEN", 10),
                              Field("ICRST", 11), Field("DCRST", 12))),
        Register(KEYR, "KEYR", write_only=True),
        Register(OPTKEYR, "OPTKEYR", write_only=True),
        Register(SR, "SR", (Field("EOP", 0), Field("OPERR", 1), Field("WRPERR", 4), Field("PGAERR", 5),
                            Field("PGPERR", 6), Field("PGSERR", 7), Field("BSY", 16))),
        Register(CR, "CR", (Field("PG", 0), Field("SER", 1), Field("MER", 2), Field("SNB", 3, 4), Field("PSIZE", 8, 2),
                            Field("STRT", 16), Field("EOPIE", 24), Field("ERRIE", 25), Field("LOCK", 31)),
                 0x8000_0000),
        Register(OPTCR, "OPTCR", (Field("OPTLOCK", 0), Field("OPTSTRT", 1), Field("BOR_LEV", 2, 2),
                                  Field("USER", 5, 3), Field("RDP", 8, 8), Field("nWRP", 16, 12)), 0x0FFF_AAED),
    )
