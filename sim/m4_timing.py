"""An estimate of Cortex-M4 cycles on a real STM32F407 at 168 MHz from an executed instruction trace: the
instruction timings of the Cortex-M4 TRM (r0p1, table 3-1 and the load/store notes) plus the flash wait states
behind the ART accelerator (sim/art_flash.py). It is a model, not a measurement; the emulator's exact count is
retired instructions. README "Estimated Cortex-M4 cycles" lists the assumptions; `COSTS` is the table.

Rules on top of the table:
- a taken branch (any instruction after which the next one is not the next in memory) costs 1 + P; P is
  `refill` (the TRM gives 1..3), + 1 when the target is a 32-bit instruction on a halfword address;
- a store costs 1 (TRM: "STR Rx,[Ry,#imm] is always one cycle", the write buffer), 2 with a register
  offset;
- a load or store right after a single load (LDR*, LDREX) costs one cycle less when that load's destination
  is not part of its address (TRM: "LDR [any] are pipelined when possible"); nothing pipelines after a store;
- a load or store whose address uses the result of the data-processing instruction just before it costs one
  cycle more (TRM: no forwarding path to the address generation);
- IT costs 0 after a 16-bit instruction (folded), else 1;
- SDIV/UDIV cost their worst case, 12 (the TRM's 2..12 depends on the operands);
- an instruction whose IT condition fails costs 1 cycle (it does not execute; Unicorn runs no hook for it, so
  the trace fills it in from the IT mask).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from tinyml_disco.sim.art_flash import ArtFlash
from tinyml_disco.sim.thumb import is_it, is_wide, it_block_length
from tinyml_disco.sim.thumb_decode import Insn, decode

MODEL_ID = "m4-trm-r0p1+art-5ws/v1"
CLOCK_HZ = 168_000_000

# Cycles per class with no wait states (Cortex-M4 TRM table 3-1); N = registers (FP: words) transferred.
COSTS: dict[str, int | str] = {
    "alu": 1, "mul": 1, "div": 12, "load": 2, "store": 1, "load_dual": 3, "store_dual": 3,
    "load_multiple": "1+N", "store_multiple": "1+N", "branch": 1, "table_branch": 2, "it": 1, "system": 1,
    "fp": 1, "fp_mac": 3, "fp_div": 14, "fp_load": 2, "fp_store": 2, "fp_multiple": "1+N", "fp_move2": 2,
}
STORE_REGISTER_OFFSET = 2  # STR Rt, [Rn, Rm] (the table's 2; only the immediate-offset forms are always 1)
_SINGLE_MEMORY = frozenset({"load", "store"})
_MEMORY = frozenset({"load", "store", "load_dual", "store_dual", "load_multiple", "store_multiple",
                     "table_branch", "fp_load", "fp_store", "fp_multiple"})
_DATA_PROCESSING = frozenset({"alu", "mul", "div"})


@dataclass
class Trace:
    """One run, instruction by instruction: the PC of each (`steps`), the bytes at each PC (`code`), the data
    loads each made from flash (`flash_loads`: step index -> addresses) and where execution went after the
    last one (`exit_pc`)."""

    steps: list[int] = field(default_factory=list)
    code: dict[int, bytes] = field(default_factory=dict)
    flash_loads: dict[int, list[int]] = field(default_factory=dict)
    exit_pc: int | None = None


@dataclass
class Estimate:
    cycles: int
    instructions: int
    classes: dict[str, dict[str, int]]  # class -> {"count", "cycles"} (cycles without flash stalls)
    adjustments: dict[str, int]  # pipelined loads, address-dependency stalls, folded ITs, taken branches...
    flash: dict[str, int]  # fetch and data stall cycles, cache misses
    model: str = MODEL_ID

    def to_json(self) -> dict:
        return {"cycles_estimate_m4": self.cycles, "estimate_model": self.model,
                "retired_instructions": self.instructions, "instruction_classes": self.classes,
                "pipeline": self.adjustments, "flash": self.flash}


def _base_cost(insn: Insn) -> int:
    if insn.cls == "store" and insn.reg_offset:
        return STORE_REGISTER_OFFSET
    cost = COSTS[insn.cls]
    if isinstance(cost, str):
        return 1 + insn.registers
    return cost


def _with_skipped(trace: Trace) -> Iterator[tuple[int, int, bool]]:
    """(step index, pc, executed) in program order, the instructions of IT blocks whose condition failed
    included (executed False): Unicorn runs no code hook for those, but the core retires them."""
    pending: list[int] = []
    for i, pc in enumerate(trace.steps):
        while pending and pending[0] != pc:
            yield i, pending.pop(0), False
        if pending:
            pending.pop(0)
        yield i, pc, True
        code = trace.code[pc]
        if is_it(code):
            address = pc + 2
            for _ in range(it_block_length(code)):
                pending.append(address)
                address += len(trace.code[address])
    for address in pending:
        yield len(trace.steps), address, False


def _program_order(trace: Trace) -> Iterator[tuple[int, int, bool, int | None]]:
    """(step index, pc, executed, pc of the next instruction or where the trace left)."""
    items = list(_with_skipped(trace))
    for k, (i, pc, executed) in enumerate(items):
        yield i, pc, executed, items[k + 1][1] if k + 1 < len(items) else trace.exit_pc


def _pipeline_cost(prev: Insn | None, insn: Insn, adj: dict[str, int]) -> int:
    """`insn`'s cycles after `prev`: the table's, with IT folding, load pipelining and address stalls."""
    cost = _base_cost(insn)
    if prev is None:
        return cost
    if insn.cls == "it" and prev.size == 2:
        adj["folded_it"] += 1
        return 0
    if insn.cls in _MEMORY:
        if prev.cls == "load" and insn.cls in _SINGLE_MEMORY and not prev.dests & insn.addr_regs and cost > 1:
            cost -= 1
            adj["pipelined_loads"] += 1
        if prev.cls in _DATA_PROCESSING and prev.dests & insn.addr_regs:
            cost += 1
            adj["address_dependency_stalls"] += 1
    return cost


def _refill(trace: Trace, target: int, refill: int, adj: dict[str, int]) -> int:
    """Pipeline refill cycles of a taken branch to `target`."""
    extra = refill
    code = trace.code.get(target)
    if target % 4 == 2 and code is not None and is_wide(code[0] | (code[1] << 8)):
        extra += 1
        adj["unaligned_target_cycles"] += 1
    adj["branches_taken"] += 1
    adj["refill_cycles"] += extra
    return extra


def estimate(trace: Trace, flash: ArtFlash | None = None, refill: int = 2) -> Estimate:
    """Cycles of `trace` on the M4 with `flash` (a fresh ArtFlash, i.e. cold caches, when None; pass the one
    a previous estimate used to see the same code run again with warm caches)."""
    art = flash if flash is not None else ArtFlash()
    fetch0, data0, imiss0, dmiss0 = art.fetch_stalls, art.data_stalls, art.icache_misses, art.dcache_misses
    decoded: dict[int, Insn] = {}
    classes: dict[str, dict[str, int]] = {}
    adj = {"branches_taken": 0, "branches_not_taken": 0, "refill_cycles": 0, "unaligned_target_cycles": 0,
           "pipelined_loads": 0, "address_dependency_stalls": 0, "folded_it": 0}
    cycles = retired = 0
    prev: Insn | None = None
    for i, pc, executed, nxt in _program_order(trace):
        insn = decoded.get(pc)
        if insn is None:
            insn = decoded[pc] = decode(trace.code[pc])
        retired += 1
        cycles += art.fetch(pc, insn.size, cycles)
        if not executed:  # condition failed inside an IT block: one cycle, like a NOP
            cost, cls, insn = 1, "condition_failed", Insn("system", insn.size)
        else:
            cost, cls = _pipeline_cost(prev, insn, adj), insn.cls
        row = classes.setdefault(cls, {"count": 0, "cycles": 0})
        row["count"] += 1
        row["cycles"] += cost
        cycles += cost
        if executed:
            for address in trace.flash_loads.get(i, ()):
                cycles += art.load(address)
            if nxt is not None and nxt != pc + insn.size:
                cycles += _refill(trace, nxt, refill, adj)
            elif insn.cls == "branch":
                adj["branches_not_taken"] += 1
        prev = insn
    flash_figures = {"fetch_stall_cycles": art.fetch_stalls - fetch0, "data_stall_cycles": art.data_stalls - data0,
                     "icache_misses": art.icache_misses - imiss0, "dcache_misses": art.dcache_misses - dmiss0,
                     "wait_states": art.wait_states}
    return Estimate(cycles, retired, dict(sorted(classes.items())), adj, flash_figures)
