"""Common base for memory-mapped register blocks: 32-bit registers, sub-word accesses via byte masks."""

from __future__ import annotations

from collections.abc import Callable

# Returns the number of instructions retired before the instruction doing the current access.
Clock = Callable[[], int]


class Peripheral:
    """A block of 32-bit registers. Subclasses override `read_reg` / `write_reg` for side effects.

    `write_reg(offset, value, mask)`: `offset` is word aligned, `mask` selects the bytes written (0xFFFFFFFF
    for a word store, 0xFF << 8 for a byte store to offset+1...), `value` is already shifted into place.
    """

    RESET: dict[int, int] = {}

    def __init__(self) -> None:
        self.regs: dict[int, int] = dict(self.RESET)

    def stored(self, offset: int) -> int:
        return self.regs.get(offset, 0)

    def store(self, offset: int, value: int, mask: int = 0xFFFFFFFF) -> int:
        """Merge the masked bytes of `value` into register `offset`; return the new value."""
        new = (self.regs.get(offset, 0) & ~mask) | (value & mask)
        self.regs[offset] = new & 0xFFFFFFFF
        return self.regs[offset]

    def read_reg(self, offset: int) -> int:
        return self.regs.get(offset, 0)

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        self.store(offset, value, mask)


class RegisterFile(Peripheral):
    """Fallback for unmodelled addresses: reads return the last value written (0 initially)."""
