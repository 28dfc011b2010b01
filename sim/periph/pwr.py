"""Power controller (RM0090 section 5.4): CR stored, CSR reports VOSRDY (declared registers)."""

from __future__ import annotations

from tinyml_disco.sim.periph.registers import DeclaredPeripheral, Field, Register

CR, CSR = 0x00, 0x04
VOSRDY = 1 << 14


class Pwr(DeclaredPeripheral):
    NAME = "PWR"
    REGISTERS = (
        Register(CR, "CR", (Field("LPDS", 0), Field("PDDS", 1), Field("CWUF", 2), Field("CSBF", 3), Field("PVDE", 4),
                            Field("PLS", 5, 3), Field("DBP", 8), Field("FPDS", 9), Field("VOS", 14)), 0x0000_4000),
        Register(CSR, "CSR", (Field("WUF", 0, writable=False), Field("SBF", 1, writable=False),
                              Field("PVDO", 2, writable=False), Field("BRR", 3, writable=False), Field("EWUP", 8),
                              Field("BRE", 9), Field("VOSRDY", 14, writable=False)), VOSRDY),
    )
