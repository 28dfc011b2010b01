"""Turning Unicorn errors and CPU exceptions into readable `FirmwareFault` messages."""

from __future__ import annotations

from dataclasses import dataclass

from unicorn import (
    UC_ERR_EXCEPTION,
    UC_ERR_FETCH_PROT,
    UC_ERR_FETCH_UNALIGNED,
    UC_ERR_FETCH_UNMAPPED,
    UC_ERR_INSN_INVALID,
    UC_ERR_READ_PROT,
    UC_ERR_READ_UNALIGNED,
    UC_ERR_READ_UNMAPPED,
    UC_ERR_WRITE_PROT,
    UC_ERR_WRITE_UNALIGNED,
    UC_ERR_WRITE_UNMAPPED,
    UC_MEM_FETCH_PROT,
    UC_MEM_FETCH_UNMAPPED,
    UC_MEM_READ_PROT,
    UC_MEM_READ_UNMAPPED,
    UC_MEM_WRITE_PROT,
    UC_MEM_WRITE_UNMAPPED,
    UcError,
)

from tinyml_disco.sim.elfimage import Symbolizer

# QEMU's ARM exception numbers, as passed to UC_HOOK_INTR.
EXCEPTION_NAMES = {
    1: "UNDEF (undefined instruction)",
    2: "SVC",
    3: "prefetch abort",
    4: "data abort",
    5: "IRQ",
    6: "FIQ",
    7: "BKPT",
    8: "exception return",
    9: "kernel trap",
    16: "semihosting call",
    17: "NOCP (coprocessor disabled)",
    18: "INVSTATE (invalid state)",
    19: "stack overflow",
    20: "lazy FP state preservation",
    21: "LSERR",
    22: "unaligned access",
}

_ACCESS_NAMES = {
    UC_MEM_READ_UNMAPPED: "read of unmapped address",
    UC_MEM_WRITE_UNMAPPED: "write to unmapped address",
    UC_MEM_FETCH_UNMAPPED: "instruction fetch from unmapped address",
    UC_MEM_WRITE_PROT: "write to read-only memory at",
    UC_MEM_READ_PROT: "read of protected memory at",
    UC_MEM_FETCH_PROT: "instruction fetch from non-executable memory at",
}

_ERROR_NAMES = {
    UC_ERR_INSN_INVALID: "invalid instruction",
    UC_ERR_EXCEPTION: "unhandled CPU exception",
    UC_ERR_READ_UNMAPPED: "read of unmapped memory",
    UC_ERR_WRITE_UNMAPPED: "write to unmapped memory",
    UC_ERR_FETCH_UNMAPPED: "instruction fetch from unmapped memory",
    UC_ERR_WRITE_PROT: "write to read-only memory",
    UC_ERR_READ_PROT: "read of protected memory",
    UC_ERR_FETCH_PROT: "instruction fetch from non-executable memory",
    UC_ERR_READ_UNALIGNED: "unaligned read",
    UC_ERR_WRITE_UNALIGNED: "unaligned write",
    UC_ERR_FETCH_UNALIGNED: "unaligned instruction fetch",
}


@dataclass(frozen=True)
class PendingFault:
    """A fault noticed inside a hook, reported once `emu_start` has returned."""

    what: str
    pc: int


def access_fault(access: int, address: int, pc: int) -> PendingFault:
    return PendingFault(f"{_ACCESS_NAMES.get(access, f'memory access {access} at')} 0x{address:08x}", pc)


def exception_fault(intno: int, pc: int) -> PendingFault:
    return PendingFault(f"CPU exception {EXCEPTION_NAMES.get(intno, 'unknown')} (#{intno})", pc)


def error_fault(err: UcError, pc: int) -> PendingFault:
    return PendingFault(_ERROR_NAMES.get(err.errno, f"emulator error: {err}"), pc)


def format_fault(fault: PendingFault, lr: int, symbols: Symbolizer) -> str:
    """`<what> at pc=0x08000123 (in model_invoke+0x12); lr=0x... (in caller+0x4)`."""
    pc = fault.pc & ~1
    lr_addr = lr & ~1
    return (
        f"{fault.what} at pc=0x{pc:08x} (in {symbols.describe(pc)}); "
        f"lr=0x{lr:08x} (in {symbols.describe(lr_addr)})"
    )
