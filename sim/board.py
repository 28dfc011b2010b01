"""The emulated STM32F4 Discovery board (STM32F407VG) running an unchanged firmware ELF on Unicorn.

Wiring as on the MB997 board: LEDs PD12 green, PD13 orange, PD14 red, PD15 blue; user button PA0;
USART2 (PA2/PA3); accelerometer INT1 on PE0. `sensor="lis3dsh"`: LIS3DSH on SPI1 with chip select PE3
(active low, only while PE3 is an output). `sensor="lis2dw12"`: LIS2DW12 on I2C1 (PB6/PB9) at 0x19, as
in the Renode overlay (on a real MB997E it sits on SPI1). `sensor="none"`: nothing attached.

Virtual time: 1 retired instruction = 1 cycle of HCLK (168 MHz once the firmware has set up the PLL), plus
the cycles skipped while the core sleeps in WFI/WFE: the board jumps to the next event (SysTick expiry,
the sensor's next sample at its ODR, a `run_for` deadline). DWT CYCCNT and SysTick count virtual time, as
in Renode. Interrupts (NVIC, EXTI, SysTick, USART2) are delivered between translated blocks; exception
entry and return are modelled in `tinyml_disco.sim.periph.exceptions`.

Idle: the firmware is idle when it executes WFI/WFE with no interrupt pending, no sensor sample queued or
unread and no UART input waiting; or (polling firmware) when it reads USART2 SR with nothing to receive
and the previous SR read saw the same (no byte sent or received and no sample read in between). The
second SR read is required so a print loop that polls TXE between characters does not count as idle.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from tinyml_disco.sim import sensors as sensor_registry
from tinyml_disco.sim.core import CortexM4Core
from tinyml_disco.sim.counter import NativeCounter
from tinyml_disco.sim.discovery import LED_PINS, LED_PORT, SENSOR_CS, SENSOR_INT1, USER_BUTTON
from tinyml_disco.sim.errors import InstructionBudgetExceeded, LineNotSeen
from tinyml_disco.sim.faults import PendingFault
from tinyml_disco.sim.native.spifast import SpiFastPath
from tinyml_disco.sim.periph import rcc, scs
from tinyml_disco.sim.periph.base import RegisterFile
from tinyml_disco.sim.periph.bus import Gate, MmioBus, NativeWindow
from tinyml_disco.sim.periph.dwt import Dwt
from tinyml_disco.sim.periph.exti import Exti, Syscfg
from tinyml_disco.sim.periph.flash import FlashInterface
from tinyml_disco.sim.periph.gpio import GpioPort
from tinyml_disco.sim.periph.i2c import I2c
from tinyml_disco.sim.periph.nvic import SYSTICK, Nvic
from tinyml_disco.sim.periph.pwr import Pwr
from tinyml_disco.sim.periph.rcc import Rcc
from tinyml_disco.sim.periph.spi import Spi, SpiDevice
from tinyml_disco.sim.periph.usart import Usart
from tinyml_disco.sim.scheduler import Scheduler, SysTickEvents
from tinyml_disco.sim.stm32f407 import (
    BLOCKS,
    DBGMCU_IDCODE,
    GPIO_PORTS,
    PERIPH_BASE,
    PERIPH_BITBAND,
    PERIPH_SIZE,
    PPB_BASE,
    PPB_SIZE,
    USART2_IRQ,
)

SENSORS = sensor_registry.KEYS  # sim/sensors.py: which accelerometer is fitted, and on which bus
SPI1_BASE = BLOCKS["SPI1"].base
CS_PORT, CS_PIN = SENSOR_CS
INT1_PORT, INT1_PIN = SENSOR_INT1
_HISTORY_LINES = 20


class Board(CortexM4Core):
    """One STM32F4 Discovery running `elf_path`: the Cortex-M4 core (sim/core.py: run loop, exceptions, WFI
    time skipping) + the STM32F407's peripherals from the SoC table + the MB997 wiring + the UART line
    buffer and idle detection the suites drive. Not thread-safe; every instance is independent."""

    def __init__(
        self,
        elf_path: str | Path,
        sensor: str = "lis3dsh",
        instruction_budget: int = 50_000_000,
        clock_gating: bool = True,
    ) -> None:
        if sensor not in SENSORS:
            raise ValueError(f"sensor must be one of {', '.join(repr(s) for s in SENSORS)}, not {sensor!r}")
        segments = self._load_core(elf_path, instruction_budget)

        self.nvic = Nvic(self._irq_changed)
        self._build_peripherals(clock_gating, sensor)
        self._install_hooks(segments)

        self._lines: deque[str] = deque()
        self._history: deque[str] = deque(maxlen=_HISTORY_LINES)
        self.uart_lines: list[str] = []  # every complete line since reset
        self.uart_line_cycles: list[int] = []  # virtual time at which each of those lines ended
        self._mode = "run"
        self._pattern: re.Pattern[str] | None = None
        self._last_poll: tuple[int, int, int] | None = None
        self._pending: PendingFault | None = None
        self._reset_cpu()

    # -- construction -------------------------------------------------------------------------------------
    def _build_peripherals(self, clock_gating: bool, sensor: str) -> None:
        self._clock_gating = clock_gating
        self.rcc = Rcc()
        self.gpio = {name: GpioPort(name) for name in GPIO_PORTS}
        self.usart2 = Usart()
        self.spi1 = Spi(self._spi1_selected)
        self.i2c1 = I2c()
        self.scs = scs.SystemControlSpace(self._clock, self._on_scs_write, self.nvic)
        self.dwt = Dwt(self._clock, self.scs.trace_enabled)
        self.exti = Exti(self.nvic.set_level)
        self.syscfg = Syscfg(self._on_exti_mapping)
        self._cs_low = False
        self.sensor: Any = None  # a tinyml_disco.sim.periph.accel.FedSensor on SPI1 (SpiDevice) or I2C1 (I2C target)
        self._sensor_on_spi1 = False
        info = sensor_registry.REGISTRY.get(sensor)
        if info is not None:
            self.sensor = info.model_class()(self._clock, self.rcc.hclk_hz, self._on_int1)
            self._sensor_on_spi1 = info.bus == "spi1"
            if info.bus == "i2c1":
                self.i2c1.attach(self.sensor)
        self.events = Scheduler()
        self.events.register(SysTickEvents(self.scs.systick, functools.partial(self.nvic.pend, SYSTICK)))
        if self.sensor is not None:
            self.events.register(self.sensor)
            self.gpio[INT1_PORT].set_input(INT1_PIN, self.sensor.int1_level())
        self.gpio[CS_PORT].listeners.append(self._on_cs_port)
        self.usart2.on_line = self._on_line
        self.usart2.on_poll = self._on_uart_poll
        self.usart2.on_irq = lambda level: self.nvic.set_level(USART2_IRQ, level)

        def gate(reg: int, bit: int) -> Gate | None:
            return functools.partial(self.rcc.enabled, reg, bit) if clock_gating else None

        models = {**{f"GPIO{p}": self.gpio[p] for p in GPIO_PORTS}, "RCC": self.rcc, "FLASH": FlashInterface(),
                  "PWR": Pwr(), "USART2": self.usart2, "I2C1": self.i2c1, "SPI1": self.spi1, "SYSCFG": self.syscfg,
                  "EXTI": self.exti}
        bus = MmioBus(PERIPH_BASE, PERIPH_SIZE, page_shift=10, bitband=PERIPH_BITBAND)
        for name, model in models.items():
            block = BLOCKS[name]
            bus.attach(block.base, block.size, model, gate(*block.clock) if block.clock else None)
        self._spi1_native = bus.map_into(self._uc, self._native_windows())
        if clock_gating:
            self.rcc.on_write = self._update_native_gates
        self._update_native_gates()

        dbgmcu = RegisterFile()
        dbgmcu.regs[0] = DBGMCU_IDCODE
        ppb = MmioBus(PPB_BASE, PPB_SIZE, page_shift=12)
        for name, model in (("DWT", self.dwt), ("SCS", self.scs), ("DBGMCU", dbgmcu)):
            ppb.attach(BLOCKS[name].base, BLOCKS[name].size, model)
        ppb.map_into(self._uc)
        self._buses = (bus, ppb)

    def _native_windows(self) -> tuple[NativeWindow, ...]:
        """SPI1's SR/DR word reads answered in C (sim/native/spifast.c) when the native library is in use
        (the native counter); with the Python counter everything stays in Python, the reference."""
        if not isinstance(self._counter, NativeCounter):
            return ()
        fast = SpiFastPath()
        # DR writes inside a read transaction take bytes the sensor answered ahead (Spi.prefetch): the sensor
        # settles the prefetch before any change of its own (a new sample), the board at chip select.
        self.spi1.prefetch_enabled = True
        if self.sensor is not None and self._sensor_on_spi1:
            self.sensor.settle = self.spi1.settle
        return (NativeWindow(SPI1_BASE, 0x400, fast.read, fast.write, self.spi1.shared),)

    def _update_native_gates(self) -> None:
        """The native SPI1 reads see the RCC clock gate through this flag (off: everything goes to Python)."""
        on = self._clock_gating is False or self.rcc.enabled(rcc.APB2ENR, 12)
        self.spi1.shared.clock_on = 1 if on else 0

    # -- wiring callbacks ---------------------------------------------------------------------------------

    def _spi1_selected(self) -> SpiDevice | None:
        return self.sensor if self._cs_low and self._sensor_on_spi1 else None

    def _on_cs_port(self, port: GpioPort) -> None:
        low = port.is_output_low(CS_PIN)
        if low != self._cs_low:
            self.spi1.settle()
            self._cs_low = low
            if self._sensor_on_spi1:
                (self.sensor.select if low else self.sensor.deselect)()

    def _on_int1(self, level: bool) -> None:
        self._drive_pin(INT1_PORT, INT1_PIN, level)

    def _drive_pin(self, port: str, pin: int, level: bool) -> None:
        self.gpio[port].set_input(pin, level)
        if self.syscfg.port_of_line(pin) == "ABCDE".index(port):
            self.exti.input_changed(pin, level)

    def _on_exti_mapping(self) -> None:
        for line in range(16):
            port = "ABCDE"[self.syscfg.port_of_line(line)] if self.syscfg.port_of_line(line) < 5 else None
            if port is not None:
                self.exti.input_changed(line, bool(self.gpio[port].inputs >> line & 1))

    def _on_line(self, line: str) -> None:
        self._lines.append(line)
        self._history.append(line)
        self.uart_lines.append(line)
        self.uart_line_cycles.append(self._clock())
        if self._mode == "line" and self._pattern is not None and self._pattern.search(line):
            self._counter.request_stop("line")

    def _quiet(self) -> bool:
        """No UART input waiting and no sensor sample queued or unread."""
        return not self.usart2.rx and not (self.sensor is not None and self.sensor.has_data())

    def _on_uart_poll(self, rx_ready: bool) -> None:
        if self.usart2.stored(0x0C) & (1 << 5):
            return  # RXNEIE: RX by interrupt, so an SR read is no polling loop; idle is WFI
        samples = self.sensor.samples_read if self.sensor is not None else 0
        snapshot = (len(self.usart2.tx_bytes), len(self.usart2.rx), samples)
        quiet = self._last_poll == snapshot
        self._last_poll = snapshot
        if self._mode == "idle" and quiet and not rx_ready and self._quiet():
            self._counter.request_stop("idle")

    # -- running ------------------------------------------------------------------------------------------
    def run_for(self, seconds: float, max_instructions: int | None = None) -> None:
        """Advance virtual time by `seconds` at the current HCLK, running the firmware (it may sleep)."""
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        deadline = self._clock() + round(seconds * self.rcc.hclk_hz())
        if self._execute("time", max_instructions, deadline) == "limit":
            raise InstructionBudgetExceeded(
                f"{max_instructions} instructions ran before {seconds} s of virtual time passed; "
                f"stopped at {self._where()}",
                self.pc,
            )

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

    def wait_for_line(self, pattern: str, max_instructions: int = 20_000_000, max_seconds: float = 10.0) -> str:
        """Return the first unread UART line matching regex `pattern` (re.search), running the firmware
        as needed (at most `max_instructions` and `max_seconds` of virtual time). Unread lines up to and
        including the match are consumed."""
        regex = re.compile(pattern)
        deadline = self._clock() + round(max_seconds * self.rcc.hclk_hz())
        while True:
            for i, line in enumerate(self._lines):
                if regex.search(line):
                    for _ in range(i + 1):
                        self._lines.popleft()
                    return line
            self._pattern = regex
            try:
                reason = self._execute("line", max_instructions, deadline)
            except InstructionBudgetExceeded as exc:
                raise LineNotSeen(self._not_seen(pattern, str(exc)), exc.pc, list(self._history)) from exc
            finally:
                self._pattern = None
            why = {
                "limit": f"{max_instructions} instructions ran",
                "deadline": f"{max_seconds} s of virtual time passed",
                "asleep": "the firmware sleeps (WFI) with no interrupt or event to come",
            }.get(reason)
            if why is not None:
                raise LineNotSeen(
                    self._not_seen(pattern, f"{why}; stopped at {self._where()}"), self.pc, list(self._history)
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
        self._events_done = None
        self.usart2.update_irq()

    def read_lines(self) -> list[str]:
        """Return and clear the complete UART lines not read yet (without the newline; a CR is dropped)."""
        lines = list(self._lines)
        self._lines.clear()
        return lines

    def feed_samples(self, samples_g: np.ndarray) -> None:
        """Queue accelerometer samples, shape (N, 3), in g. The sensor produces them one per period of its
        configured ODR in virtual time, starting at its next conversion instant."""
        if self.sensor is None:
            raise ValueError("this board has no sensor attached (sensor='none'); use sensor='lis3dsh' or "
                             "'lis2dw12'")
        self._events_done = None
        self.sensor.feed(samples_g)

    def set_button(self, pressed: bool) -> None:
        """Drive the user button PA0 (high while pressed)."""
        self._events_done = None
        self._drive_pin(*USER_BUTTON, pressed)

    # -- observation --------------------------------------------------------------------------------------

    @property
    def leds(self) -> dict[str, bool]:
        port = self.gpio[LED_PORT]
        return {name: port.odr_bit(pin) for name, pin in LED_PINS.items()}

    @property
    def predicted_led_class(self) -> int | None:
        """Index (0 green, 1 orange, 2 red, 3 blue) of the single lit LED, or None."""
        lit = [i for i, on in enumerate(self.leds.values()) if on]
        return lit[0] if len(lit) == 1 else None

    @property
    def sensor_clipped(self) -> int:
        """Samples produced so far with at least one axis saturated at the sensor's output range."""
        return self.sensor.clipped if self.sensor is not None else 0

    @property
    def sensor_overruns(self) -> int:
        """Samples overwritten before the firmware read them."""
        return self.sensor.stream.overruns if self.sensor is not None else 0

    @property
    def sensor_sample_cycles(self) -> list[int]:
        """Virtual time at which each sample produced so far became available (data-ready rose)."""
        return list(self.sensor.stream.sample_cycles) if self.sensor is not None else []

    @property
    def sensor_queued(self) -> int:
        return self.sensor.queued if self.sensor is not None else 0

    @property
    def clock_hz(self) -> int:
        """HCLK as configured in RCC by the firmware."""
        return self.rcc.hclk_hz()
