"""The emulated STM32F4 Discovery board (STM32F407VG) running an unchanged firmware ELF on Unicorn.

Wiring as on the MB997 board: LEDs PD12 green, PD13 orange, PD14 red, PD15 blue; user button PA0;
USART2 (PA2/PA3); LIS3DSH accelerometer on SPI1 with chip select PE3 (active low, only while PE3 is an
output). Virtual time is the retired-instruction count: DWT CYCCNT and SysTick count instructions.

Idle: the firmware is idle when it reads USART2 SR with no RX byte ready and no sensor sample pending,
and the previous SR read saw the same (no UART byte sent or received and no sample read in between),
or when it executes WFI/WFE with nothing pending. The second SR read is required so a print loop that
polls TXE between characters does not count as idle.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path

import numpy as np
from unicorn import (
    UC_ARCH_ARM,
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
    UC_ARM_REG_LR,
    UC_ARM_REG_MSP,
    UC_ARM_REG_PC,
    UC_ARM_REG_SP,
    UC_CPU_ARM_CORTEX_M4,
)

from sim.counter import NO_LIMIT, InstructionCounter
from sim.elfimage import Symbolizer, load_segments, open_arm_elf, read_symbols, section_ranges
from sim.errors import FirmwareFault, InstructionBudgetExceeded, LineNotSeen
from sim.faults import PendingFault, access_fault, error_fault, exception_fault, format_fault
from sim.memory import FLASH_BASE, FLASH_SIZE, Memories
from sim.periph import rcc, scs
from sim.periph.base import RegisterFile
from sim.periph.bus import Gate, MmioBus
from sim.periph.dwt import Dwt
from sim.periph.flash import FlashInterface
from sim.periph.gpio import GpioPort
from sim.periph.lis3dsh import Lis3dsh
from sim.periph.pwr import Pwr
from sim.periph.rcc import Rcc
from sim.periph.spi import Spi, SpiDevice
from sim.periph.usart import Usart
from sim.thumb import WFE, WFI

PERIPH_BASE, PERIPH_SIZE = 0x4000_0000, 0x2000_0000
PERIPH_BITBAND = (0x4200_0000, 0x0200_0000, 0x4000_0000)
PPB_BASE, PPB_SIZE = 0xE000_0000, 0x0010_0000
GPIO_BASE = {"A": 0x4002_0000, "B": 0x4002_0400, "C": 0x4002_0800, "D": 0x4002_0C00, "E": 0x4002_1000}
USART2_BASE, SPI1_BASE, PWR_BASE = 0x4000_4400, 0x4001_3000, 0x4000_7000
RCC_BASE, FLASH_IF_BASE = 0x4002_3800, 0x4002_3C00
DWT_BASE, SCS_BASE, DBGMCU_BASE = 0xE000_1000, 0xE000_E000, 0xE004_2000
DBGMCU_IDCODE = 0x1007_6413  # STM32F40x/41x, DEV_ID 0x413

LED_PINS = {"green": 12, "orange": 13, "red": 14, "blue": 15}
CS_PIN_PE3 = 3
BUTTON_PIN_PA0 = 0
_UNTIL = 0xFFFF_FFFF  # odd, so a Thumb PC never reaches it
_HISTORY_LINES = 20


class Board:
    """One STM32F4 Discovery running `elf_path`. Not thread-safe; every instance is independent."""

    def __init__(
        self,
        elf_path: str | Path,
        sensor: str = "lis3dsh",
        instruction_budget: int = 50_000_000,
        clock_gating: bool = True,
    ) -> None:
        if sensor not in ("lis3dsh", "none"):
            raise ValueError(f"sensor must be 'lis3dsh' or 'none', not {sensor!r}")
        elf = open_arm_elf(elf_path)
        self.elf_path = Path(elf_path)
        self.symbols = Symbolizer(read_symbols(elf), section_ranges(elf))
        self.instruction_budget = instruction_budget

        self._uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        self._uc.ctl_set_cpu_model(UC_CPU_ARM_CORTEX_M4)
        self._memories = Memories(self._uc)
        self._memories.load(load_segments(elf))
        self._counter = InstructionCounter(self._uc)

        self.sensor: Lis3dsh | None = Lis3dsh() if sensor == "lis3dsh" else None
        self._build_peripherals(clock_gating)
        self._install_hooks()

        self._lines: deque[str] = deque()
        self._history: deque[str] = deque(maxlen=_HISTORY_LINES)
        self.uart_lines: list[str] = []  # every complete line since reset
        self._mode = "run"
        self._pattern: re.Pattern[str] | None = None
        self._last_poll: tuple[int, int, int] | None = None
        self._pending: PendingFault | None = None
        self._reset_cpu()

    # -- construction -------------------------------------------------------------------------------------
    def _build_peripherals(self, clock_gating: bool) -> None:
        self.rcc = Rcc()
        self.gpio = {name: GpioPort(name) for name in GPIO_BASE}
        self.usart2 = Usart()
        self.spi1 = Spi(self._spi1_selected)
        self.scs = scs.SystemControlSpace(self._clock, self._on_scs_write)
        self.dwt = Dwt(self._clock, self.scs.trace_enabled)
        self._cs_low = False
        self.gpio["E"].listeners.append(self._on_port_e)
        self.usart2.on_line = self._on_line
        self.usart2.on_poll = self._on_uart_poll

        def gate(reg: int, bit: int) -> Gate | None:
            return (lambda: self.rcc.enabled(reg, bit)) if clock_gating else None

        bus = MmioBus(PERIPH_BASE, PERIPH_SIZE, page_shift=10, bitband=PERIPH_BITBAND)
        for i, (name, base) in enumerate(GPIO_BASE.items()):
            bus.attach(base, 0x400, self.gpio[name], gate(rcc.AHB1ENR, i))
        bus.attach(RCC_BASE, 0x400, self.rcc)
        bus.attach(FLASH_IF_BASE, 0x400, FlashInterface())
        bus.attach(PWR_BASE, 0x400, Pwr(), gate(rcc.APB1ENR, 28))
        bus.attach(USART2_BASE, 0x400, self.usart2, gate(rcc.APB1ENR, 17))
        bus.attach(SPI1_BASE, 0x400, self.spi1, gate(rcc.APB2ENR, 12))
        bus.map_into(self._uc)

        dbgmcu = RegisterFile()
        dbgmcu.regs[0] = DBGMCU_IDCODE
        ppb = MmioBus(PPB_BASE, PPB_SIZE, page_shift=12)
        ppb.attach(DWT_BASE, 0x1000, self.dwt)
        ppb.attach(SCS_BASE, 0x1000, self.scs)
        ppb.attach(DBGMCU_BASE, 0x1000, dbgmcu)
        ppb.map_into(self._uc)
        self._buses = (bus, ppb)

    def _install_hooks(self) -> None:
        # An (empty) memory hook makes Unicorn report the exact PC of the accessing instruction in MMIO
        # callbacks; without one it reports the start of the translated block. DWT/SysTick need it.
        self._uc.hook_add(UC_HOOK_MEM_READ, _ignore_access, begin=PPB_BASE, end=PPB_BASE + PPB_SIZE - 1)
        self._uc.hook_add(UC_HOOK_MEM_WRITE, _ignore_access, begin=PPB_BASE, end=PPB_BASE + PPB_SIZE - 1)
        self._uc.hook_add(UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_PROT, self._on_bad_access)
        self._uc.hook_add(UC_HOOK_INTR, self._on_exception)

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

    # -- wiring callbacks ---------------------------------------------------------------------------------
    def _clock(self) -> int:
        return self._counter.retired_before_current(self._uc)

    def _on_scs_write(self, offset: int) -> None:
        if offset == scs.DEMCR:
            self.dwt.trace_enable_changed()
        elif offset == scs.CPACR:
            self._counter.fpu_enabled = self.scs.fpu_enabled()

    def _spi1_selected(self) -> SpiDevice | None:
        return self.sensor if self._cs_low else None

    def _on_port_e(self, port: GpioPort) -> None:
        low = port.is_output_low(CS_PIN_PE3)
        if low != self._cs_low:
            self._cs_low = low
            if self.sensor is not None:
                (self.sensor.select if low else self.sensor.deselect)()

    def _on_line(self, line: str) -> None:
        self._lines.append(line)
        self._history.append(line)
        self.uart_lines.append(line)
        if self._mode == "line" and self._pattern is not None and self._pattern.search(line):
            self._counter.request_stop("line")

    def _nothing_pending(self) -> bool:
        return not self.usart2.rx_ready() and not (self.sensor is not None and self.sensor.has_data())

    def _on_uart_poll(self, rx_ready: bool) -> None:
        samples = self.sensor.samples_read if self.sensor is not None else 0
        snapshot = (len(self.usart2.tx_bytes), len(self.usart2.rx), samples)
        quiet = self._last_poll == snapshot
        self._last_poll = snapshot
        if self._mode == "idle" and quiet and not rx_ready and self._nothing_pending():
            self._counter.request_stop("idle")

    def _on_bad_access(self, uc: Uc, access: int, address: int, _size: int, _value: int, _u: object) -> bool:
        if self._pending is None:
            self._pending = access_fault(access, address, uc.reg_read(UC_ARM_REG_PC))
        return False

    def _on_exception(self, uc: Uc, intno: int, _user: object) -> None:
        if self._pending is None:
            self._pending = exception_fault(intno, uc.reg_read(UC_ARM_REG_PC))
        uc.emu_stop()

    # -- running ------------------------------------------------------------------------------------------
    def _where(self) -> str:
        pc = self.pc
        return f"pc=0x{pc:08x} (in {self.symbols.describe(pc)})"

    def _execute(self, mode: str, max_instructions: int | None) -> str:
        """Run until the stop condition of `mode` ("idle", "line" or "run"); returns why it stopped."""
        start = self._counter.retired
        call_limit = NO_LIMIT if max_instructions is None else start + max_instructions
        limit = min(call_limit, self.instruction_budget)
        self._mode = mode
        try:
            while True:
                self._counter.arm(limit)
                error: UcError | None = None
                try:
                    self._uc.emu_start(self.pc | 1, _UNTIL)
                except UcError as exc:
                    error = exc
                finally:
                    self._counter.settle()
                if self._counter.hook_error is not None:
                    raise self._counter.hook_error
                self._raise_fault(error)
                reason = self._counter.stop_reason
                if reason == "limit":
                    if limit == self.instruction_budget and call_limit >= self.instruction_budget:
                        raise InstructionBudgetExceeded(
                            f"instruction budget of {self.instruction_budget} exhausted at {self._where()}",
                            self.pc,
                        )
                    return "limit"
                if reason in ("idle", "line"):
                    return reason
                if reason is None and self._after_wait_instruction():
                    if mode == "idle" and self._nothing_pending():
                        return "idle"
                    continue
                raise FirmwareFault(f"emulation stopped unexpectedly ({reason}) at {self._where()}", self.pc)
        finally:
            self._mode = "run"

    def _after_wait_instruction(self) -> bool:
        pc = self.pc
        halfword = int.from_bytes(self._uc.mem_read(pc - 2, 2), "little") if pc >= 2 else 0
        return halfword in (WFI, WFE)

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
        lr = self._uc.reg_read(UC_ARM_REG_LR)
        raise FirmwareFault(format_fault(fault, lr, self.symbols), fault.pc)

    def run(self, instructions: int) -> None:
        """Run at most `instructions` more instructions (stops at a block boundary at or before that)."""
        self._execute("run", instructions)

    def run_until_idle(self, max_instructions: int | None = None) -> int:
        """Run until the firmware is idle; returns the instructions executed by this call."""
        start = self._counter.retired
        if self._execute("idle", max_instructions) == "limit":
            raise InstructionBudgetExceeded(
                f"firmware did not become idle within {max_instructions} instructions; "
                f"stopped at {self._where()}",
                self.pc,
            )
        return self._counter.retired - start

    def wait_for_line(self, pattern: str, max_instructions: int = 20_000_000) -> str:
        """Return the first unread UART line matching regex `pattern` (re.search), running the firmware
        as needed. Unread lines up to and including the match are consumed."""
        regex = re.compile(pattern)
        while True:
            for i, line in enumerate(self._lines):
                if regex.search(line):
                    for _ in range(i + 1):
                        self._lines.popleft()
                    return line
            self._pattern = regex
            try:
                reason = self._execute("line", max_instructions)
            except InstructionBudgetExceeded as exc:
                raise LineNotSeen(self._not_seen(pattern, str(exc)), exc.pc, list(self._history)) from exc
            finally:
                self._pattern = None
            if reason == "limit":
                raise LineNotSeen(
                    self._not_seen(
                        pattern, f"{max_instructions} instructions ran; stopped at {self._where()}"
                    ),
                    self.pc,
                    list(self._history),
                )

    def _not_seen(self, pattern: str, why: str) -> str:
        last = "\n  ".join(self._history) or "(no UART output)"
        partial = self.usart2.partial_line()
        tail = f"\nunterminated output: {partial!r}" if partial else ""
        return f"no UART line matching {pattern!r}: {why}\nlast lines:\n  {last}{tail}"

    # -- host-side I/O ------------------------------------------------------------------------------------
    def uart_write(self, data: bytes | str) -> None:
        """Queue bytes on USART2 RX (a str is UTF-8 encoded)."""
        self.usart2.rx.extend(data.encode() if isinstance(data, str) else data)

    def read_lines(self) -> list[str]:
        """Return and clear the complete UART lines not read yet (without the newline; a CR is dropped)."""
        lines = list(self._lines)
        self._lines.clear()
        return lines

    def feed_samples(self, samples_g: np.ndarray) -> None:
        """Queue accelerometer samples, shape (N, 3), in g."""
        if self.sensor is None:
            raise ValueError("this board has no sensor attached (sensor='none')")
        self.sensor.feed(samples_g)

    def set_button(self, pressed: bool) -> None:
        """Drive the user button PA0 (high while pressed)."""
        self.gpio["A"].set_input(BUTTON_PIN_PA0, pressed)

    # -- observation --------------------------------------------------------------------------------------
    @property
    def instructions(self) -> int:
        """Exact number of instructions retired since reset."""
        return self._counter.retired

    @property
    def pc(self) -> int:
        return int(self._uc.reg_read(UC_ARM_REG_PC))

    @property
    def leds(self) -> dict[str, bool]:
        port = self.gpio["D"]
        return {name: port.odr_bit(pin) for name, pin in LED_PINS.items()}

    @property
    def predicted_led_class(self) -> int | None:
        """Index (0 green, 1 orange, 2 red, 3 blue) of the single lit LED, or None."""
        lit = [i for i, on in enumerate(self.leds.values()) if on]
        return lit[0] if len(lit) == 1 else None

    @property
    def sensor_clipped(self) -> int:
        """Samples (read by the firmware so far) with at least one axis clipped to int16."""
        return self.sensor.clipped if self.sensor is not None else 0

    @property
    def sensor_queued(self) -> int:
        return self.sensor.queued if self.sensor is not None else 0

    @property
    def clock_hz(self) -> int:
        """HCLK as configured in RCC by the firmware."""
        return self.rcc.hclk_hz()

    def symbol_at(self, address: int) -> str:
        return self.symbols.describe(address)

    def symbol_address(self, name: str) -> int:
        """Address of the ELF symbol `name` (KeyError if absent)."""
        return self.symbols.address_of(name)

    def read_memory(self, address: int, size: int) -> bytes:
        return bytes(self._uc.mem_read(address, size))


def _ignore_access(_uc: Uc, _access: int, _address: int, _size: int, _value: int, _user: object) -> None:
    return None
