"""Thumb-2 instruction-length decoding, used to count retired instructions per translated block."""

from __future__ import annotations

# First-halfword bits[15:11] that start a 32-bit Thumb-2 instruction.
_WIDE_PREFIXES = (0b11101, 0b11110, 0b11111)
WFI = 0xBF30
WFE = 0xBF20


def is_wide(halfword: int) -> bool:
    """True when `halfword` is the first half of a 32-bit Thumb-2 instruction."""
    return (halfword >> 11) in _WIDE_PREFIXES


def is_it(code: bytes) -> bool:
    """True when `code` starts with an IT instruction (not a hint: its mask is not zero)."""
    return len(code) >= 2 and code[1] == 0xBF and code[0] & 0xF != 0


def it_block_length(code: bytes) -> int:
    """Instructions in the block of the IT instruction at the start of `code` (1 to 4)."""
    mask = code[0] & 0xF
    return 4 - ((mask & -mask).bit_length() - 1)


def instruction_offsets(code: bytes) -> list[int]:
    """Byte offsets of the instructions that start in `code` (a run of Thumb code)."""
    offsets: list[int] = []
    i = 0
    end = len(code) - 1
    while i < end:
        offsets.append(i)
        halfword = code[i] | (code[i + 1] << 8)
        i += 4 if (halfword >> 11) in _WIDE_PREFIXES else 2
    return offsets


def count_instructions(code: bytes) -> int:
    """Number of Thumb instructions in `code`."""
    return len(instruction_offsets(code))


def first_fpu_offset(code: bytes) -> int | None:
    """Offset of the first coprocessor 10/11 (VFP / FPv4-SP) instruction in `code`, or None."""
    for off in instruction_offsets(code):
        if off + 4 > len(code):
            break
        first = code[off] | (code[off + 1] << 8)
        # Coprocessor space: first halfword 111x 11xx xxxx xxxx; coprocessor number in bits 11:8 of the 2nd.
        if (first & 0xEC00) == 0xEC00:
            second = code[off + 2] | (code[off + 3] << 8)
            if (second >> 8) & 0xE == 0xA:
                return off
    return None


def uses_fpu(code: bytes) -> bool:
    """True when `code` contains a coprocessor 10/11 (VFP / FPv4-SP) instruction."""
    return first_fpu_offset(code) is not None
