"""`cycles_estimate_m4`: an estimated Cortex-M4 cycle count of one inference on an STM32F407 at 168 MHz.

The emulator counts retired instructions (the project's primary metric: "cycles" in bench.json). This module
weighs each executed instruction with the Cortex-M4 TRM (r0p1, table 3-1) timings instead. It runs
`model_invoke` once on sim's bare core with a block hook (slow; only for this measurement), takes every
executed instruction from a static disassembly of the ELF (arm-none-eabi-objdump) and decides for the last
instruction of each block whether its branch was taken from the address of the next block.

The model (the README repeats it):
- data processing, shifts, compares, moves, extends, packing, saturation, CLZ, IT: 1 cycle (IT counted, not
  folded); MUL, MLA, the long multiplies and every DSP multiply (SMLAD, SMMULR, SMMLAR, SMULL, SMLAL ...): 1;
- SDIV/UDIV: 12 (the TRM's worst case of 2-12; early termination is data dependent);
- LDR/STR (all widths, any addressing): 2, or 1 when it directly follows another single load/store (the TRM's
  pipelined loads: N of them take N + 1); LDRD/STRD: 3; LDM/STM/PUSH/POP of N registers: 1 + N;
- branches (B, BL, BX, BLX, CBZ/CBNZ) taken: 1 + P, not taken: 1; LDR PC: 2 + P; POP {..., pc}: 1 + N + P;
  P = 2 (the TRM's pipeline refill is 1-3);
- memory: flash at 5 wait states with the ART accelerator; every instruction fetch and every constant read
  from flash is assumed to hit the ART (the kernels' loops are far below its 1 KB instruction cache and
  prefetch covers straight-line code), so flash adds nothing; SRAM is zero wait state.
Not modelled: ART misses (up to 5 cycles per 128-bit line), bus contention, interrupts.
"""

from __future__ import annotations

import bisect
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from training.artifacts import ModelPaths, load_card

PIPELINE_REFILL = 2  # P: taken-branch pipeline refill, 1..3 in the TRM
DIVIDE_CYCLES = 12  # SDIV/UDIV worst case
MODEL = ("Cortex-M4 TRM timings (ALU/MUL/DSP MAC 1, LDR/STR 2 or 1 pipelined, LDRD/STRD 3, LDM/STM 1+N, "
         f"SDIV {DIVIDE_CYCLES}, taken branch 1+P with P={PIPELINE_REFILL}), STM32F407 flash at 5 WS with every "
         "ART access a hit; see README 'Estimated M4 cycles'")

_LINE = re.compile(r"^\s*([0-9a-f]+):\s+(?:[0-9a-f]{4}(?: [0-9a-f]{4})?\s+)?([a-z][a-z0-9.]*)\s*(.*)$")
_BRANCHES = {"b", "bl", "bx", "blx", "cbz", "cbnz", "tbb", "tbh"}
_CONDS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al")


@dataclass
class Instr:
    mnemonic: str  # without condition code and .w/.n
    operands: str
    cls: str = ""


@dataclass
class M4Estimate:
    cycles: int
    instructions: int
    by_class: dict[str, list[int]] = field(default_factory=dict)  # class -> [instructions, cycles]
    model: str = MODEL


def _base(mnemonic: str) -> str:
    m = mnemonic.split(".")[0]
    for stem in ("ldm", "stm", "ldr", "str", "push", "pop"):
        if m.startswith(stem):
            return m
    if m in _BRANCHES or m.startswith("it"):
        return m
    if m.startswith("b") and m[1:] in _CONDS:
        return "b"
    for c in _CONDS:  # conditional data processing inside IT blocks: addlt, movge ...
        if m.endswith(c) and len(m) > len(c) + 1 and not m.startswith("b"):
            stripped = m[: -len(c)]
            if stripped in ("add", "sub", "mov", "cmp", "orr", "and", "eor", "rsb", "mvn", "lsl", "lsr", "asr", "neg",
                            "adds", "subs", "movs", "ldr", "str", "ldrb", "strb"):
                return stripped
    return m


def classify(mnemonic: str, operands: str) -> str:
    m = _base(mnemonic)
    if (m == "pop" or m.startswith("ldm")) and re.search(r"\bpc\b", operands[operands.find("{"):]):
        return "pop_pc"
    if m.startswith(("ldm", "stm")) or m in ("push", "pop"):
        return "ldm_stm"
    if m.startswith(("ldrd", "strd")):
        return "ldrd_strd"
    if m.startswith("ldr") and operands.split(",")[0].strip() == "pc":
        return "ldr_pc"
    if m.startswith(("ldr", "str")):
        return "load_store"
    if m in _BRANCHES or m == "b":
        return "branch"
    if m in ("sdiv", "udiv"):
        return "divide"
    if m.startswith("it"):
        return "it"
    if m.startswith(("smla", "smul", "smmu", "smml", "smua", "smus", "umul", "umla", "mul", "mla", "mls", "smlsd")):
        return "multiply"
    return "alu"


def _register_count(operands: str) -> int:
    inside = operands[operands.find("{") + 1: operands.find("}")]
    n = 0
    for part in inside.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = (int(re.sub(r"\D", "", r) or 0) for r in part.split("-"))
            n += hi - lo + 1
        elif part:
            n += 1
    return max(n, 1)


def disassemble(elf: Path) -> tuple[list[int], list[Instr]]:
    objdump = shutil.which("arm-none-eabi-objdump")
    if objdump is None:
        raise RuntimeError("arm-none-eabi-objdump not found (the ARM toolchain the firmware build uses)")
    text = subprocess.run([objdump, "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    addrs: list[int] = []
    instrs: list[Instr] = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m or m.group(2) in (".word", ".short", ".byte"):
            continue
        mnemonic, operands = m.group(2), m.group(3).split(";")[0].split("@")[0].strip()
        addrs.append(int(m.group(1), 16))
        instrs.append(Instr(mnemonic, operands, classify(mnemonic, operands)))
    return addrs, instrs


def _cost(ins: Instr, prev_cls: str, taken: bool) -> int:
    c = ins.cls
    if c == "load_store":
        return 1 if prev_cls == "load_store" else 2
    if c == "ldrd_strd":
        return 3
    if c == "ldm_stm":
        return 1 + _register_count(ins.operands)
    if c == "pop_pc":
        return 1 + _register_count(ins.operands) + PIPELINE_REFILL
    if c == "ldr_pc":
        return 2 + PIPELINE_REFILL
    if c == "branch":
        return 1 + PIPELINE_REFILL if taken else 1
    if c == "divide":
        return DIVIDE_CYCLES
    return 1


def estimate_elf(elf_path: Path, input_tensor: np.ndarray) -> M4Estimate:
    """Run model_invoke once on `input_tensor` and weigh every executed instruction (see the module doc)."""
    from sim.bare_core import SCRATCH_BASE, BareCore

    addrs, instrs = disassemble(elf_path)
    core = BareCore(elf_path)
    x = np.ascontiguousarray(input_tensor, np.int8).tobytes()
    core.write(SCRATCH_BASE, x)
    out_addr = SCRATCH_BASE + ((len(x) + 3) & ~3)
    blocks: list[tuple[int, int]] = []
    core.call("model_invoke", [SCRATCH_BASE, out_addr], lambda address, n: blocks.append((address, n)))

    by_class: dict[str, list[int]] = {}
    total = count = 0
    prev_cls = ""
    for k, (address, n) in enumerate(blocks):
        i = bisect.bisect_left(addrs, address)
        if i >= len(addrs) or addrs[i] != address:
            raise RuntimeError(f"block at 0x{address:08x} is not an instruction start in the disassembly")
        next_start = blocks[k + 1][0] if k + 1 < len(blocks) else None
        for j in range(i, i + n):
            ins = instrs[j]
            last = j == i + n - 1
            fallthrough = addrs[j + 1] if j + 1 < len(addrs) else -1
            taken = last and next_start != fallthrough
            cycles = _cost(ins, prev_cls, taken)
            entry = by_class.setdefault(ins.cls, [0, 0])
            entry[0] += 1
            entry[1] += cycles
            total += cycles
            count += 1
            prev_cls = ins.cls
    return M4Estimate(total, count, by_class)


def estimate_model(paths: ModelPaths, seed: int = 0) -> M4Estimate:
    """The estimate for build/<model>/firmware.elf on the profile's random input (app/profile.py, same seed)."""
    card = load_card(paths)
    x = np.random.default_rng(seed).integers(-128, 128, size=card.n_inputs).astype(np.int8)
    return estimate_elf(paths.elf, x)


def format_estimate(e: M4Estimate) -> str:
    rows = [f"estimated Cortex-M4 cycles: {e.cycles} for {e.instructions} instructions "
            f"({e.cycles / max(e.instructions, 1):.2f} cycles per instruction)"]
    for cls, (n, c) in sorted(e.by_class.items(), key=lambda kv: -kv[1][1]):
        rows.append(f"  {cls:<12} {n:8d} instructions {c:8d} cycles")
    return "\n".join(rows)
