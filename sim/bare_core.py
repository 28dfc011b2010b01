"""The board's Cortex-M4 core and memory map without peripherals: call one function of an ELF directly and
watch every translated block (the per-layer profile does this). Same CPU model, memory map and instruction
counter as sim/board.py; no clock, no interrupts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from tinyml_disco.sim.art_flash import in_flash
from tinyml_disco.sim.elfimage import Symbol, Symbolizer, load_segments, open_arm_elf, read_symbols, section_ranges
from tinyml_disco.sim.m4_timing import Trace
from tinyml_disco.sim.memory import Memories
from tinyml_disco.sim.thumb import count_instructions, instruction_offsets, is_it, it_block_length

STACK_TOP = 0x2001_F000
SCRATCH_BASE = 0x2001_8000  # free SRAM for call arguments (the firmware's .bss/.data sit low in SRAM)
_RETURN = 0x0800_0000  # any address in flash: emulation stops before executing it

BlockHook = Callable[[int, int], None]  # (address, retired instructions of the block)


class BareCore:
    def __init__(self, elf_path: str | Path) -> None:
        from unicorn import UC_ARCH_ARM, UC_MODE_MCLASS, UC_MODE_THUMB, Uc
        from unicorn.arm_const import UC_CPU_ARM_CORTEX_M4

        elf = open_arm_elf(elf_path)
        self.elf_path = Path(elf_path)
        self.symbols = Symbolizer(read_symbols(elf), section_ranges(elf))
        self._uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        self._uc.ctl_set_cpu_model(UC_CPU_ARM_CORTEX_M4)
        Memories(self._uc).load(load_segments(elf))

    def function(self, name: str) -> Symbol:
        sym = self.symbols.lookup(self.symbols.address_of(name) & ~1)
        if sym is None:
            raise RuntimeError(f"{self.elf_path}: no {name} symbol")
        return sym

    def write(self, address: int, data: bytes) -> None:
        self._uc.mem_write(address, data)

    def place_io(self, input_tensor: bytes) -> tuple[int, int]:
        """model_invoke's two arguments: the input written at SCRATCH_BASE, the output word-aligned after it."""
        self.write(SCRATCH_BASE, input_tensor)
        return SCRATCH_BASE, SCRATCH_BASE + ((len(input_tensor) + 3) & ~3)

    def read(self, address: int, size: int) -> bytes:
        return bytes(self._uc.mem_read(address, size))

    def call(self, name: str, args: Sequence[int], on_block: BlockHook) -> None:
        """Run `name(args...)` (up to 4 register arguments) to its return; on_block sees every block executed."""
        from unicorn import UC_HOOK_BLOCK

        counts: dict[int, int] = {}

        def hook(uc: object, address: int, size: int, _user: object) -> None:
            n = counts.get(address)
            if n is None:
                n = counts[address] = count_instructions(bytes(self._uc.mem_read(address, size)))
            on_block(address, n)

        self._run(name, args, [(UC_HOOK_BLOCK, hook)])

    def _run(self, name: str, args: Sequence[int], hooks: Sequence[tuple[int, Callable[..., None]]]) -> None:
        """`name(args...)` from a fresh stack to its return, with `hooks` ((Unicorn hook type, callback)) added
        for the run only."""
        from unicorn.arm_const import UC_ARM_REG_LR, UC_ARM_REG_R0, UC_ARM_REG_SP

        for i, value in enumerate(args[:4]):
            self._uc.reg_write(UC_ARM_REG_R0 + i, value)
        self._uc.reg_write(UC_ARM_REG_SP, STACK_TOP)
        self._uc.reg_write(UC_ARM_REG_LR, _RETURN | 1)
        handles = [self._uc.hook_add(kind, callback) for kind, callback in hooks]
        try:
            self._uc.emu_start(self.function(name).address | 1, _RETURN)
        finally:
            for h in handles:
                self._uc.hook_del(h)

    def trace(self, name: str, args: Sequence[int]) -> Trace:
        """Run `name(args...)` like `call`, recording every executed instruction and its data loads from flash
        (a code hook per instruction: ~100x slower than `call`; for the cycle estimate only)."""
        from unicorn import UC_HOOK_CODE, UC_HOOK_MEM_READ

        t = Trace()
        steps, code = t.steps, t.code

        def on_code(uc: object, address: int, size: int, _user: object) -> None:
            steps.append(address)
            if address in code:
                return
            code[address] = bytes(self._uc.mem_read(address, size))
            if size == 2 and is_it(code[address]):
                # Unicorn runs no hook for the instructions an IT skips: keep the bytes of its block
                block = bytes(self._uc.mem_read(address + 2, 18))
                offsets = instruction_offsets(block)[: it_block_length(code[address]) + 1]
                for off, end in zip(offsets, offsets[1:], strict=False):
                    code.setdefault(address + 2 + off, block[off:end])

        def on_read(uc: object, _access: int, address: int, _size: int, _value: int, _user: object) -> None:
            if in_flash(address):
                t.flash_loads.setdefault(len(steps) - 1, []).append(address)

        self._run(name, args, [(UC_HOOK_CODE, on_code), (UC_HOOK_MEM_READ, on_read)])
        t.exit_pc = _RETURN
        return t
