"""Thumb-2 (ARMv7E-M) instructions sorted into the timing classes of the Cortex-M4 TRM's instruction summary,
with the registers the pipeline rules need. Decoded from the encoding alone (ARMv7-M ARM, A5.2 and A5.3);
anything not recognised is an ALU-class instruction (1 cycle), which is what most of the rest are.

Classes: alu, mul (MUL/MLA/MLS, SMLAD and every other 32-bit multiply or multiply-accumulate, long ones
included), div (SDIV/UDIV), load, store (single LDR*/STR*), load_dual, store_dual (LDRD/STRD), load_multiple,
store_multiple (LDM/POP, STM/PUSH), branch (B/BL/BX/BLX, CBZ/CBNZ, B<cond>; taken or not is the caller's to
see), table_branch (TBB/TBH), it, fp (1-cycle FPv4 ops), fp_mac (VMLA/VFMA family, 3), fp_div (VDIV/VSQRT,
14), fp_load, fp_store, fp_multiple, fp_move2 (VMOV of one or two core registers, 2), system (MRS/MSR/CPS,
barriers, hints)."""

from __future__ import annotations

from dataclasses import dataclass

from tinyml_disco.sim.thumb import is_wide

PC, SP, LR = 15, 13, 14


@dataclass(frozen=True)
class Insn:
    cls: str
    size: int  # bytes: 2 or 4
    dests: frozenset[int] = frozenset()  # registers written (data processing, loads)
    addr_regs: frozenset[int] = frozenset()  # registers a load/store uses to form its address
    registers: int = 0  # load/store multiple: registers transferred (FP: words)
    writes_pc: bool = False  # an ALU op or a load with PC as destination: a branch
    reg_offset: bool = False  # a single load/store addressed [Rn, Rm]


def _bits(v: int, hi: int, lo: int) -> int:
    return (v >> lo) & ((1 << (hi - lo + 1)) - 1)


def decode(code: bytes) -> Insn:
    """The instruction at the start of `code` (2 or 4 bytes, little-endian halfwords)."""
    hw1 = code[0] | (code[1] << 8)
    if is_wide(hw1):
        return _decode32(hw1, code[2] | (code[3] << 8))
    return _decode16(hw1)


def _alu(rd: int | None, size: int = 2) -> Insn:
    if rd is None:
        return Insn("alu", size)
    return Insn("alu", size, frozenset({rd}), writes_pc=rd == PC)


def _decode16(hw: int) -> Insn:
    top6 = hw >> 10
    if hw >> 14 == 0b00:  # shift (imm), add, subtract, move, compare
        if _bits(hw, 13, 11) in (0b101,):  # CMP imm8
            return _alu(None)
        if hw >> 13 == 0b001:  # MOV/ADD/SUB imm8: Rdn in 10:8
            return _alu(_bits(hw, 10, 8))
        return _alu(hw & 7)
    if top6 == 0b010000:  # data processing
        op = _bits(hw, 9, 6)
        if op == 0b1101:
            return Insn("mul", 2, frozenset({hw & 7}))
        return _alu(None if op in (0b1000, 0b1010, 0b1011) else hw & 7)  # TST, CMP, CMN
    if top6 == 0b010001:  # special data processing, branch and exchange
        op = _bits(hw, 9, 8)
        rd = (_bits(hw, 7, 7) << 3) | (hw & 7)
        if op == 0b11:  # BX, BLX
            return Insn("branch", 2, frozenset({LR}) if hw & 0x80 else frozenset())
        return _alu(None if op == 0b01 else rd)
    if hw >> 11 == 0b01001:  # LDR (literal)
        return Insn("load", 2, frozenset({_bits(hw, 10, 8)}), frozenset({PC}))
    if hw >> 12 == 0b0101:  # load/store, register offset
        op = _bits(hw, 11, 9)
        regs = frozenset({_bits(hw, 5, 3), _bits(hw, 8, 6)})
        if op < 0b011:
            return Insn("store", 2, addr_regs=regs, reg_offset=True)
        return Insn("load", 2, frozenset({hw & 7}), regs, reg_offset=True)
    if hw >> 13 == 0b011 or hw >> 12 == 0b1000:  # LDR/STR(B/H) immediate
        if hw & 0x0800:
            return Insn("load", 2, frozenset({hw & 7}), frozenset({_bits(hw, 5, 3)}))
        return Insn("store", 2, addr_regs=frozenset({_bits(hw, 5, 3)}))
    if hw >> 12 == 0b1001:  # LDR/STR SP-relative
        if hw & 0x0800:
            return Insn("load", 2, frozenset({_bits(hw, 10, 8)}), frozenset({SP}))
        return Insn("store", 2, addr_regs=frozenset({SP}))
    if hw >> 12 == 0b1010:  # ADR, ADD Rd, SP, #imm
        return _alu(_bits(hw, 10, 8))
    if hw >> 12 == 0b1011:
        return _misc16(hw)
    if hw >> 12 == 0b1100:  # STM/LDM
        n = bin(hw & 0xFF).count("1")
        rn = _bits(hw, 10, 8)
        if hw & 0x0800:
            return Insn("load_multiple", 2, frozenset({rn}), frozenset({rn}), n)
        return Insn("store_multiple", 2, frozenset({rn}), frozenset({rn}), n)
    if hw >> 12 == 0b1101:  # B<cond>, UDF, SVC
        return Insn("system" if _bits(hw, 11, 9) == 0b111 else "branch", 2)
    if hw >> 11 == 0b11100:  # B
        return Insn("branch", 2)
    return _alu(None)


def _misc16(hw: int) -> Insn:
    op = _bits(hw, 11, 8)
    if op == 0b0000:  # ADD/SUB SP, SP, #imm
        return _alu(SP)
    if op in (0b0001, 0b0011, 0b1001, 0b1011):  # CBZ, CBNZ
        return Insn("branch", 2)
    if op in (0b0010, 0b1010):  # SXTH/SXTB/UXTH/UXTB, REV/REV16/REVSH
        return _alu(hw & 7)
    if op in (0b0100, 0b0101):  # PUSH
        n = bin(hw & 0xFF).count("1") + _bits(hw, 8, 8)
        return Insn("store_multiple", 2, frozenset({SP}), frozenset({SP}), n)
    if op in (0b1100, 0b1101):  # POP
        pc = _bits(hw, 8, 8)
        dests = {i for i in range(8) if hw >> i & 1} | {SP} | ({PC} if pc else set())
        return Insn("load_multiple", 2, frozenset(dests), frozenset({SP}), bin(hw & 0xFF).count("1") + pc,
                    writes_pc=bool(pc))
    if op == 0b1111:  # IT or a hint
        return Insn("it" if hw & 0xF else "system", 2)
    return Insn("system", 2)  # CPS, BKPT


def _reglist(hw2: int) -> tuple[frozenset[int], int]:
    regs = frozenset(i for i in range(16) if hw2 >> i & 1)
    return regs, len(regs)


def _decode32(hw1: int, hw2: int) -> Insn:
    op1 = _bits(hw1, 12, 11)
    if op1 == 0b01:
        if _bits(hw1, 10, 9) == 0b00:
            return _ldst_multiple_dual(hw1, hw2)
        if _bits(hw1, 10, 9) == 0b01:  # data processing (shifted register)
            rd = _bits(hw2, 11, 8)
            return _alu(None if rd == PC else rd, 4)  # Rd=1111 with S: TST/TEQ/CMN/CMP
        return _coprocessor(hw1, hw2)
    if op1 == 0b10:
        if not hw2 & 0x8000:  # data processing (modified or plain immediate)
            rd = _bits(hw2, 11, 8)
            return _alu(None if rd == PC else rd, 4)
        if hw2 & 0x5000:  # B (T4), BL
            return Insn("branch", 4, frozenset({LR}) if hw2 & 0x4000 else frozenset())
        if _bits(hw1, 9, 7) != 0b111:  # B<cond> (T3)
            return Insn("branch", 4)
        return Insn("system", 4)  # MSR, MRS, hints, barriers
    # op1 == 0b11
    if hw1 & 0x0400:
        return _coprocessor(hw1, hw2)
    if _bits(hw1, 10, 9) == 0b00:  # load/store single
        return _ldst_single(hw1, hw2)
    group = _bits(hw1, 10, 7)
    if group == 0b0110:  # multiply, multiply-accumulate, absolute difference
        return Insn("mul", 4, frozenset({_bits(hw2, 11, 8)}))
    if group == 0b0111:  # long multiply, long multiply-accumulate, divide
        if _bits(hw1, 6, 4) in (0b001, 0b011):
            return Insn("div", 4, frozenset({_bits(hw2, 11, 8)}))
        return Insn("mul", 4, frozenset({_bits(hw2, 15, 12), _bits(hw2, 11, 8)}))
    return _alu(_bits(hw2, 11, 8), 4)  # data processing (register): shifts, extends, SIMD, REV, CLZ, Q ops


def _ldst_multiple_dual(hw1: int, hw2: int) -> Insn:
    rn = hw1 & 0xF
    load = bool(hw1 & 0x10)
    if not hw1 & 0x40:  # LDM/STM (IA, DB), incl. 32-bit PUSH/POP
        regs, n = _reglist(hw2)
        wb = frozenset({rn}) if hw1 & 0x20 else frozenset()
        if load:
            return Insn("load_multiple", 4, regs | wb, frozenset({rn}), n, writes_pc=PC in regs)
        return Insn("store_multiple", 4, wb, frozenset({rn}), n)
    if _bits(hw1, 8, 7) == 0b01 and not hw1 & 0x20:  # TBB/TBH, exclusive byte/half/dual
        if load and _bits(hw2, 7, 5) == 0b000:
            return Insn("table_branch", 4, addr_regs=frozenset({rn, hw2 & 0xF}))
    if _bits(hw1, 8, 7) == 0b00 and not hw1 & 0x20:  # LDREX/STREX: pipelined like LDR
        if load:
            return Insn("load", 4, frozenset({_bits(hw2, 15, 12)}), frozenset({rn}))
        return Insn("store", 4, frozenset({_bits(hw2, 11, 8)}), frozenset({rn}))
    if _bits(hw1, 8, 7) == 0b01 and not hw1 & 0x20:
        if load:
            return Insn("load", 4, frozenset({_bits(hw2, 15, 12)}), frozenset({rn}))
        return Insn("store", 4, frozenset({hw2 & 0xF}), frozenset({rn}))
    wb = frozenset({rn}) if hw1 & 0x20 else frozenset()
    if load:  # LDRD
        return Insn("load_dual", 4, frozenset({_bits(hw2, 15, 12), _bits(hw2, 11, 8)}) | wb, frozenset({rn}), 2)
    return Insn("store_dual", 4, wb, frozenset({rn}), 2)


def _ldst_single(hw1: int, hw2: int) -> Insn:
    rn = hw1 & 0xF
    rt = _bits(hw2, 15, 12)
    load = bool(hw1 & 0x10)
    addr = {rn}
    wb: set[int] = set()
    reg_offset = False
    if rn != PC and not hw1 & 0x80:
        if _bits(hw2, 11, 6) == 0:  # register offset
            addr.add(hw2 & 0xF)
            reg_offset = True
        elif hw2 & 0x0800 and hw2 & 0x0100:  # imm8 with writeback (pre/post-indexed)
            wb.add(rn)
    if not load:
        return Insn("store", 4, frozenset(wb), frozenset(addr), reg_offset=reg_offset)
    size = _bits(hw1, 6, 5)
    if rt == PC and size != 0b10:  # PLD, PLI
        return Insn("system", 4)
    return Insn("load", 4, frozenset({rt} | wb), frozenset(addr), writes_pc=rt == PC, reg_offset=reg_offset)


def _coprocessor(hw1: int, hw2: int) -> Insn:
    if _bits(hw2, 11, 9) != 0b101:  # not coprocessor 10/11
        return Insn("system", 4)
    if _bits(hw1, 11, 9) == 0b110:  # extension register load/store
        op = _bits(hw1, 8, 4)
        if op & 0b10010 == 0b10000:  # op = P U D W L: VSTR (P=1, W=0, L=0) / VLDR (L=1)
            return Insn("fp_load" if op & 1 else "fp_store", 4, addr_regs=frozenset({hw1 & 0xF}))
        if op & 0b11110 == 0b00100:  # VMOV two core registers <-> doubleword / two singles
            return Insn("fp_move2", 4, frozenset({_bits(hw2, 15, 12), hw1 & 0xF}) if op & 1 else frozenset())
        return Insn("fp_multiple", 4, addr_regs=frozenset({hw1 & 0xF}), registers=hw2 & 0xFF)
    if hw2 & 0x10:  # transfers between core and extension registers
        if hw1 & 0xFFE0 == 0xEEE0:  # VMRS/VMSR
            return Insn("fp", 4, frozenset({_bits(hw2, 15, 12)}) if hw1 & 0x10 else frozenset())
        if _bits(hw1, 7, 5) == 0:  # VMOV core <-> single
            return Insn("fp_move2", 4, frozenset({_bits(hw2, 15, 12)}) if hw1 & 0x10 else frozenset())
        return Insn("fp", 4, frozenset({_bits(hw2, 15, 12)}) if hw1 & 0x10 else frozenset())
    opc1 = _bits(hw1, 7, 4) & 0b1011
    if opc1 in (0b0000, 0b0001, 0b1001, 0b1010):  # VMLA/VMLS, VNMLA/VNMLS, VFNMA/VFNMS, VFMA/VFMS
        return Insn("fp_mac", 4)
    if opc1 == 0b1000:  # VDIV
        return Insn("fp_div", 4)
    if opc1 == 0b1011 and (hw1 & 0xF) == 0b0001 and _bits(hw2, 7, 6) == 0b11:  # VSQRT
        return Insn("fp_div", 4)
    return Insn("fp", 4)
