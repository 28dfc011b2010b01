"""Exceptions raised by the emulated board."""

from __future__ import annotations


class EmulationError(RuntimeError):
    """Base class for everything the emulated board raises about the firmware."""


class ElfFormatError(EmulationError):
    """The file is not a 32-bit little-endian ARM ELF, or it cannot be loaded on this board."""


class FirmwareFault(EmulationError):
    """The firmware did something the real chip would fault on (bad access, undefined instruction...)."""

    def __init__(self, message: str, pc: int | None = None) -> None:
        super().__init__(message)
        self.pc = pc


class InstructionBudgetExceeded(EmulationError):
    """The firmware ran past an instruction limit (the board's budget or a call's `max_instructions`)."""

    def __init__(self, message: str, pc: int | None = None) -> None:
        super().__init__(message)
        self.pc = pc


class LineNotSeen(InstructionBudgetExceeded):
    """`Board.wait_for_line` ran out of instructions before a matching UART line appeared."""

    def __init__(self, message: str, pc: int | None, last_lines: list[str]) -> None:
        super().__init__(message, pc)
        self.last_lines = last_lines
