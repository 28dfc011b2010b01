"""The Cortex-M4 core of the emulated board: Unicorn with the exact instruction counter, exception entry and
return, interrupt delivery between translated blocks, the run loop and WFI/WFE time skipping.

Virtual time: 1 retired instruction = 1 cycle of HCLK, plus the cycles skipped while the core sleeps in
WFI/WFE: it jumps to the next event of the board's scheduler (`self.events`), or to a `run_for` deadline.

A board is a subclass that, before `_install_hooks` and `_reset_cpu`, provides `nvic` (tinyml_disco.sim.periph.nvic),
`scs` (the System Control Space), `dwt`, `events` (tinyml_disco.sim.scheduler.Scheduler), `_buses` (its MMIO buses) and
`_quiet()` (no host input waiting: what "idle" means for it); `_mode` is the stop condition of the running
`_execute` ("idle", "line", "run" or "time"), which the board's callbacks read to request stops.
"""

from __future__ import annotations

from pathlib import Path

from unicorn import (
    UC_ARCH_ARM,
    UC_HOOK_CODE,
    UC_HOOK_INTR,
    UC_HOOK_MEM_PROT,
    UC_HOOK_MEM_READ,
    UC_HOOK_MEM_UNMAPPED,
    UC_HOOK_MEM_WRITE,
    UC_MODE_MCLASS,
    UC_MODE_THUMB,
    Uc,
    UcError,
)
from unicorn.arm_const import (
    UC_ARM_REG_BASEPRI,
    UC_ARM_REG_FAULTMASK,
    UC_ARM_REG_LR,
    UC_ARM_REG_MSP,
    UC_ARM_REG_PC,
    UC_ARM_REG_PRIMASK,
    UC_ARM_REG_SP,
    UC_CPU_ARM_CORTEX_M4,
)

from tinyml_disco.sim.counter import NO_LIMIT, InstructionCounter, NativeCounter
from tinyml_disco.sim.elfimage import LoadSegment, Symbolizer, load_segments, open_arm_elf, read_symbols, section_ranges
from tinyml_disco.sim.errors import FirmwareFault, InstructionBudgetExceeded
from tinyml_disco.sim.faults import PendingFault, access_fault, error_fault, exception_fault, format_fault
from tinyml_disco.sim.memory import FLASH_BASE, FLASH_SIZE, Memories
from tinyml_disco.sim.native.excfast import NativeExceptions
from tinyml_disco.sim.native.rawhook import RAW_INTR_HOOK, add_raw_hook
from tinyml_disco.sim.periph import exceptions, scs
from tinyml_disco.sim.periph.dwt import Dwt
from tinyml_disco.sim.periph.nvic import Nvic
from tinyml_disco.sim.regbatch import RegisterBatch
from tinyml_disco.sim.scheduler import Scheduler
from tinyml_disco.sim.stm32f407 import PPB_BASE, PPB_SIZE
from tinyml_disco.sim.thumb import WFE, WFI

_UNTIL = 0xFFFF_FFFF  # odd, so a Thumb PC never reaches it
_MASK_POLL = 4096  # re-check a PRIMASK/BASEPRI-masked interrupt this often (in case a CPSIE was missed)
_CPSIE = (0xB662, 0xB661)  # cpsie i, cpsie f
_MASK_REGS = (UC_ARM_REG_PRIMASK, UC_ARM_REG_BASEPRI, UC_ARM_REG_FAULTMASK)


class CortexM4Core:
    """The core half of a board (see the module docstring for what the board half provides)."""

    nvic: Nvic
    scs: scs.SystemControlSpace
    dwt: Dwt
    events: Scheduler
    _buses: tuple
    _mode: str
    _pending: PendingFault | None

    def _quiet(self) -> bool:
        raise NotImplementedError

    def _load_core(self, elf_path: str | Path, instruction_budget: int) -> list[LoadSegment]:
        """Unicorn as an M4 with the ELF loaded and the core's state at reset; returns the ELF's segments."""
        elf = open_arm_elf(elf_path)
        self.elf_path = Path(elf_path)
        self.symbols = Symbolizer(read_symbols(elf), section_ranges(elf))
        self.instruction_budget = instruction_budget

        self._uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        self._uc.ctl_set_cpu_model(UC_CPU_ARM_CORTEX_M4)
        self._memories = Memories(self._uc)
        segments = load_segments(elf)
        self._memories.load(segments)
        self._counter = InstructionCounter(self._uc)
        self._regs = RegisterBatch(self._uc)  # straight to libunicorn: the binding's register calls are slow
        self._read_masks = self._regs.reader(_MASK_REGS)
        self._exceptions = self._exception_path()
        self._slept = 0  # cycles skipped in WFI
        self._running = False
        self._exc_return: int | None = None
        self._hook_exc: BaseException | None = None  # raised inside a raw hook; re-raised after emu_start
        self._deadline: int | None = None  # of the running _execute
        self._budget_limit = NO_LIMIT
        self._limit = NO_LIMIT  # instruction limit and event horizon of the current slice
        self._horizon: int | None = None
        self._due: int | None = None  # the deliverable exception found by _plan
        self.exceptions_taken: dict[int, int] = {}  # exception number -> entries since reset (wake-ups)
        self._events_done: int | None = None  # _process_events ran up to here with nothing changed since
        self._vectors: dict[tuple[int, int], int] = {}  # (VTOR, exception) -> vector, for tables in flash
        self._wait_after: dict[int, bool] = {}  # flash PC -> is the instruction before it WFI/WFE
        return segments

    def _exception_path(self) -> exceptions.PythonExceptions | NativeExceptions:
        """Exception entry/return in C with the native counter (one call instead of 3-4 register batches);
        with the Python counter the Python reference in tinyml_disco.sim.periph.exceptions."""
        if not isinstance(self._counter, NativeCounter):
            return exceptions.PythonExceptions(self._uc, self._regs)
        return NativeExceptions(self._uc)

    def _install_hooks(self, segments: list[LoadSegment]) -> None:
        # An (empty) memory hook makes Unicorn report the exact PC of the accessing instruction in MMIO
        # callbacks; without one it reports the start of the translated block. DWT/SysTick need it.
        self._uc.hook_add(UC_HOOK_MEM_READ, _ignore_access, begin=PPB_BASE, end=PPB_BASE + PPB_SIZE - 1)
        self._uc.hook_add(UC_HOOK_MEM_WRITE, _ignore_access, begin=PPB_BASE, end=PPB_BASE + PPB_SIZE - 1)
        self._uc.hook_add(UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_PROT, self._on_bad_access)
        self._raw_intr = RAW_INTR_HOOK(self._on_raw_exception)  # keep a reference: libunicorn calls it
        if not add_raw_hook(self._uc, UC_HOOK_INTR, self._raw_intr):
            self._uc.hook_add(UC_HOOK_INTR, self._on_exception)
        # Unmasking instructions (CPSIE, MSR PRIMASK/BASEPRI/FAULTMASK) are invisible to MMIO: hook exactly
        # those addresses so a masked pending interrupt is taken right after them.
        sites = _unmask_sites(segments)
        for addr in sites:
            self._uc.hook_add(UC_HOOK_CODE, self._on_unmask, begin=addr, end=addr)
        # CPSIE I sites, for the shortcut in _run_slice (CPS ends its translated block in QEMU's M-profile
        # translator, so a slice starting there retires exactly that instruction before the next block).
        self._cpsie_i = {a for a in sites if self._memories_halfword(a) == _CPSIE[0]}

    def _memories_halfword(self, address: int) -> int:
        return int.from_bytes(self._uc.mem_read(address, 2), "little")

    def _reset_cpu(self) -> None:
        sp, reset = self._memories.vector(0), self._memories.vector(1)
        if not (FLASH_BASE <= (reset & ~1) < FLASH_BASE + FLASH_SIZE):
            raise FirmwareFault(
                f"reset vector 0x{reset:08x} does not point into flash: "
                f"no vector table at 0x{FLASH_BASE:08x}?"
            )
        self._uc.reg_write(UC_ARM_REG_MSP, sp)
        self._uc.reg_write(UC_ARM_REG_SP, sp)
        self._uc.reg_write(UC_ARM_REG_LR, 0xFFFF_FFFF)
        self._uc.reg_write(UC_ARM_REG_PC, reset | 1)
        self._counter.fpu_enabled = self.scs.fpu_enabled()

    def _clock(self) -> int:
        """Virtual time in cycles; inside an MMIO callback, the time of the accessing instruction."""
        if self._running:
            return self._counter.retired_before_current(self._uc) + self._slept
        return self._counter.retired + self._slept

    def _irq_changed(self) -> None:
        if self._running:
            self._counter.request_stop("irq")

    def _on_unmask(self, _uc: Uc, _address: int, _size: int, _user: object) -> None:
        if self.nvic.pending:
            self._counter.request_stop("irq")

    def _on_scs_write(self, offset: int) -> None:
        if offset == scs.DEMCR:
            self.dwt.trace_enable_changed()
        elif offset == scs.CPACR:
            self._counter.fpu_enabled = self.scs.fpu_enabled()
        elif offset == scs.STK_CTRL:
            self._irq_changed()

    def _on_bad_access(self, uc: Uc, access: int, address: int, _size: int, _value: int, _u: object) -> bool:
        if self._pending is None:
            self._pending = access_fault(access, address, uc.reg_read(UC_ARM_REG_PC))
        return False

    def _on_exception(self, uc: Uc, intno: int, _user: object) -> None:
        pc = self.pc
        if intno == 8 and self._exc_return is None:  # branch to EXC_RETURN in handler mode
            self._exc_return = pc | 1
            if self._pending is None and self._return_in_place():
                return
        elif self._pending is None:
            self._pending = exception_fault(intno, pc)
        uc.emu_stop()

    def _on_raw_exception(self, _uch: int, intno: int, _user: int) -> None:
        try:
            self._on_exception(self._uc, intno, None)
        except BaseException as exc:  # ctypes would print and swallow it: re-raised after emu_start
            if self._hook_exc is None:
                self._hook_exc = exc
            self._uc.emu_stop()

    def _return_in_place(self) -> bool:
        """Exception return inside the hook, emulation going on at the return address (saves a round trip
        through emu_start). Exactly what the loop in _execute does after an "exc_return" stop: a stop
        requested before the return is dropped, then the next slice is planned; if that plan is anything
        but "run on with this limit" (a deliverable exception, the deadline), stop and let the loop act."""
        self._return_from_exception(self._exc_return or 0)
        now = self._counter.retired + self._slept  # the whole block with the branch has retired
        limit = self._plan(now)
        if limit is None:
            self._counter.request_stop("exc_return")
        else:
            self._counter.arm(limit)
        return True

    def _next_event(self) -> int | None:
        return self.events.next_event()

    def _process_events(self, until: int) -> None:
        """Everything scheduled at or before `until` happens: SysTick pends, the sensor produces samples."""
        if until == self._events_done:
            return  # done already, and nothing (no emulation, no host input) could have changed since
        fired = self.events.advance(until)
        self._events_done = None if fired else until  # a second tick may be due as well

    def _masks(self) -> tuple[int, int, int]:
        primask, basepri, faultmask = self._read_masks()
        return primask, basepri, faultmask

    def _pending_state(self) -> tuple[int | None, bool]:
        """(the deliverable exception or None, whether a pending interrupt is held back only by
        PRIMASK/BASEPRI/FAULTMASK), from one look at the NVIC."""
        nvic = self.nvic
        if not nvic.pending:
            return None, False
        exc = nvic.best_pending()
        if exc is None:
            return None, False
        prio = nvic.group_priority(exc)
        if prio >= nvic.active_priority():
            return None, False
        # The masks can only lower the execution priority set by the active exceptions: read them (a call
        # into libunicorn) only when that one would let `exc` in.
        if prio >= nvic.execution_priority(*self._masks()):
            return None, True
        return exc, False

    def _vector(self, vtor: int, exc: int) -> int:
        key = (vtor, exc)
        vector = self._vectors.get(key)
        if vector is None:
            address = vtor + 4 * exc
            vector = int.from_bytes(self._uc.mem_read(address, 4), "little")
            if FLASH_BASE <= address < FLASH_BASE + FLASH_SIZE:  # flash is read-only to the firmware
                self._vectors[key] = vector
        return vector

    def _take_exception(self, exc: int) -> None:
        vector = self._vector(self.scs.vtor(), exc)
        if not (FLASH_BASE <= (vector & ~1) < FLASH_BASE + FLASH_SIZE or (vector & ~1) < FLASH_SIZE):
            raise FirmwareFault(
                f"exception {exc} taken but its vector 0x{vector:08x} (VTOR 0x{self.scs.vtor():08x}) "
                f"does not point into flash; interrupted at {self._where()}",
                self.pc,
            )
        self.nvic.acknowledge(exc)
        self.exceptions_taken[exc] = self.exceptions_taken.get(exc, 0) + 1
        self._exceptions.enter(exc, vector & ~1, self.scs.stack_align_8(), self.scs.fpu_enabled())

    def _return_from_exception(self, exc_return: int) -> None:
        self._exc_return = None
        exc = self._exceptions.current_exception()
        if exc == 0 or not self.nvic.complete(exc):
            raise FirmwareFault(f"exception return (0x{exc_return:08x}) with exception {exc} not active", None)
        try:
            self._exceptions.leave(exc_return)
        except exceptions.ExceptionReturnError as err:
            raise FirmwareFault(f"{err} (returning from exception {exc})", None) from err

    def _where(self) -> str:
        pc = self.pc
        return f"pc=0x{pc:08x} (in {self.symbols.describe(pc)})"

    def _plan(self, now: int) -> int | None:
        """The decisions before a slice at virtual time `now`: due events happen; returns the instruction
        limit for the next slice, or None when the deadline has come or an exception is deliverable."""
        self._process_events(now)
        deadline = self._deadline
        if deadline is not None and now >= deadline:
            return None
        due, masked = self._pending_state()
        self._due = due
        if due is not None:
            return None
        horizon = self._next_event()
        if deadline is not None:
            horizon = deadline if horizon is None else min(horizon, deadline)
        limit = self._budget_limit
        if horizon is not None:
            limit = min(limit, horizon - self._slept)
        if masked:
            limit = min(limit, self._counter.retired + _MASK_POLL)
        self._horizon = horizon
        self._limit = limit
        return limit

    def _execute(self, mode: str, max_instructions: int | None, deadline: int | None = None) -> str:
        """Run until the stop condition of `mode` ("idle", "line", "run" or "time") or the virtual-time
        `deadline`; returns why it stopped ("idle", "line", "limit", "deadline" or "asleep")."""
        start = self._counter.retired
        call_limit = NO_LIMIT if max_instructions is None else start + max_instructions
        budget_limit = min(call_limit, self.instruction_budget)
        self._mode = mode
        self._deadline = deadline
        self._budget_limit = budget_limit
        try:
            while True:
                now = self._clock()
                if self._plan(now) is None:
                    if deadline is not None and now >= deadline:
                        return "deadline"
                    if self._due is not None:
                        self._take_exception(self._due)
                    continue
                reason = self._run_slice(self._limit)
                limit, horizon = self._limit, self._horizon  # as (re)planned, also by an in-place return
                if reason == "limit":
                    if self._counter.retired >= budget_limit or limit == budget_limit:
                        if limit == self.instruction_budget and call_limit >= self.instruction_budget:
                            raise InstructionBudgetExceeded(
                                f"instruction budget of {self.instruction_budget} exhausted at {self._where()}",
                                self.pc,
                            )
                        return "limit"
                    if horizon is not None and limit == horizon - self._slept:
                        self._process_events(horizon)  # the next block would pass the event: it is due
                        if deadline is not None and horizon == deadline:
                            return "deadline"
                    continue
                if reason in ("idle", "line"):
                    return reason
                if reason in ("irq", "exc_return"):
                    continue
                if reason == "wait":
                    why = self._sleep(mode, deadline)
                    if why is not None:
                        return why
                    continue
                raise FirmwareFault(f"emulation stopped unexpectedly ({reason}) at {self._where()}", self.pc)
        finally:
            self._mode = "run"
            self._deadline = None

    def _run_slice(self, limit: int) -> str | None:
        pc = self.pc
        if pc in self._cpsie_i and self.nvic.pending and self._counter.retired < limit and self._pending is None:
            return self._unmask_shortcut(pc, limit)
        self._counter.arm(limit)
        error: UcError | None = None
        self._events_done = None  # MMIO may change what is due
        self._running = True
        try:
            self._uc.emu_start(pc | 1, _UNTIL)
        except UcError as exc:
            error = exc
        finally:
            self._running = False
            self._counter.settle()
        hook_exc = self._hook_exc
        if hook_exc is not None:
            self._hook_exc = None
            raise hook_exc
        bus_errors = [bus.take_error() for bus in self._buses]
        for err in bus_errors:  # what the binding's emu_start would have raised for a Python MMIO callback
            if err is not None:
                raise err
        if self._counter.hook_error is not None:
            raise self._counter.hook_error
        if self._exc_return is not None and self._pending is None:
            self._return_from_exception(self._exc_return)
            return "exc_return"
        self._raise_fault(error)
        reason = self._counter.stop_reason
        if reason is None and self._after_wait_instruction():
            return "wait"
        return reason

    def _unmask_shortcut(self, pc: int, limit: int) -> str:
        """A slice starting at CPSIE I with an interrupt pending: what emulating it does, without the round
        trip through emu_start. The block is that one instruction (CPS ends a translated block), within
        `limit`; its code hook requests a stop, so emulation stops before the next block."""
        self._counter.arm(limit)
        self._counter.retired += 1
        self._regs.write(((UC_ARM_REG_PRIMASK, 0), (UC_ARM_REG_PC, (pc + 2) | 1)))
        self._counter.request_stop("irq")
        return "irq"

    def _sleep(self, mode: str, deadline: int | None) -> str | None:
        """The core executed WFI/WFE: wake at once if an interrupt is pending (even masked), else skip
        virtual time to the next event. Returns a stop reason, or None to keep running."""
        while True:  # WFI completes on an interrupt, not on every event (a sample below a FIFO watermark)
            if self.nvic.pending and self.nvic.best_pending() is not None:
                return None
            if mode == "idle" and self._quiet():
                return "idle"
            horizon = self._next_event()
            if deadline is not None:
                horizon = deadline if horizon is None else min(horizon, deadline)
            if horizon is None:
                return "idle" if mode == "idle" else "asleep"
            now = self._clock()
            if horizon > now:
                self._slept += horizon - now
            self._process_events(horizon)
            if deadline is not None and horizon >= deadline:
                return None

    def _after_wait_instruction(self) -> bool:
        pc = self.pc
        known = self._wait_after.get(pc)
        if known is not None:
            return known
        if not (FLASH_BASE <= pc < FLASH_BASE + FLASH_SIZE or 2 <= pc < FLASH_SIZE):
            return False
        halfword = int.from_bytes(self._uc.mem_read(pc - 2, 2), "little")
        self._wait_after[pc] = halfword in (WFI, WFE)  # flash (or its alias at 0) does not change
        return self._wait_after[pc]

    def _raise_fault(self, error: UcError | None) -> None:
        fault = self._pending
        if fault is None and self._counter.stop_reason == "fpu":
            pc = self._counter.fpu_violation_pc or self.pc
            fault = PendingFault("FPU instruction with CP10/CP11 disabled in CPACR (UsageFault NOCP)", pc)
        if fault is None and error is not None:
            fault = error_fault(error, self.pc)
        if fault is None:
            return
        self._pending = None
        self._exc_return = None
        lr = self._uc.reg_read(UC_ARM_REG_LR)
        raise FirmwareFault(format_fault(fault, lr, self.symbols), fault.pc)

    def run(self, instructions: int) -> None:
        """Run at most `instructions` more instructions (stops at a block boundary at or before that)."""
        self._execute("run", instructions)

    @property
    def instructions(self) -> int:
        """Exact number of instructions retired since reset."""
        return self._counter.retired

    @property
    def pc(self) -> int:
        return self._regs.read_one(UC_ARM_REG_PC)

    @property
    def cycles(self) -> int:
        """Virtual time since reset in HCLK cycles: retired instructions plus cycles slept in WFI."""
        return self._counter.retired + self._slept

    @property
    def slept_cycles(self) -> int:
        return self._slept

    def symbol_at(self, address: int) -> str:
        return self.symbols.describe(address)

    def symbol_address(self, name: str) -> int:
        """Address of the ELF symbol `name` (KeyError if absent)."""
        return self.symbols.address_of(name)

    def read_memory(self, address: int, size: int) -> bytes:
        return bytes(self._uc.mem_read(address, size))


def _ignore_access(_uc: Uc, _access: int, _address: int, _size: int, _value: int, _user: object) -> None:
    return None


def _unmask_sites(segments: list[LoadSegment]) -> list[int]:
    """Addresses of CPSIE i/f and MSR PRIMASK/BASEPRI/BASEPRI_MAX/FAULTMASK in the flash image (a literal
    that happens to match only costs a spurious stop)."""
    sites: list[int] = []
    for seg in segments:
        if not (FLASH_BASE <= seg.paddr < FLASH_BASE + FLASH_SIZE):
            continue
        code = seg.data
        for off in range(0, len(code) - 1, 2):
            hw = code[off] | (code[off + 1] << 8)
            if hw in _CPSIE:
                sites.append(seg.paddr + off)
            elif hw & 0xFFF0 == 0xF380 and off + 3 < len(code):
                hw2 = code[off + 2] | (code[off + 3] << 8)
                if hw2 & 0xFF00 == 0x8800 and 0x10 <= (hw2 & 0xFF) <= 0x13:
                    sites.append(seg.paddr + off)
    return sites[:256]
