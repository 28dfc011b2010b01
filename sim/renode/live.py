"""A Renode board that runs freely, as a real board on the desk does: the rehearsal stage for `flash`, the serial
backend, `monitor` and `record` (README "Real board").

Two ways to bring it up, both on the same overlay as the Robot-driven backend (sim/renode/platform.py):
- `empty_flash_commands`: erased flash (Renode's MappedMemory starts as zeros; nothing is loaded with LoadELF) and
  a GDB server whose connection does not start the emulation, so `gdb load` writes the flash as a debugger does on
  silicon. The reset vector is fetched from 0x08000000, as on an STM32F4 with BOOT0 low (flash aliased at 0):
  1.15.3's CortexM fetches SP/PC from VTOR at the first start, and VTOR is 0 there, where the base platform has no
  memory. Measured on 1.15.3: without that the CPU halts ("PC does not lay in memory") at the first start.
- `loaded_commands`: the ELF loaded with LoadELF, for the serial/monitor/record rehearsals.

`pty_commands` exposes USART2 as a pseudo-terminal (`emulation CreateUartPtyTerminal NAME FILE true`, then
`connector Connect sysbus.usart2 NAME`): FILE becomes a symlink to /dev/pts/N, which pyserial opens exactly as it
opens /dev/ttyUSB0. The emulation then runs with `start` (virtual time jumps over idle periods: the overlay's
SetGlobalAdvanceImmediately), and every wait on the host side is wall-clock bounded.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from tinyml_disco.sim.backend import BackendUnavailable
from tinyml_disco.sim.renode import platform
from tinyml_disco.sim.renode.backend import RenodeFiles, _at

FLASH_BASE = 0x0800_0000
PTY_NAME = "uart_pty"


def _platform_commands(files: RenodeFiles, sensor: str) -> list[str]:
    if sensor not in ("lis2dw12", "none"):
        raise ValueError(f"the live board has sensor lis2dw12 or none, got {sensor!r}")
    overlay = files.no_sensor_overlay if sensor == "none" else files.overlay
    return [*platform.LIVE_EMULATION_SETTINGS, f'mach create "{platform.MACHINE_NAME}"',
            *(f"include {_at(model)}" for model in files.models),
            f"machine LoadPlatformDescription {_at(overlay)}", f"sysbus.cpu PerformanceInMips {platform.MIPS}"]


def resd_feed_command(resd: Path) -> str:
    """Feed a RESD file into the LIS2DW12 at the ODR the firmware sets (MultiFrequency: the Normal type starts at
    the current rate, 0 before the firmware runs, and 1.15.3 dies with a DivideByZeroException)."""
    return f"{platform.LIS2DW12} FeedAccelerationSamplesFromRESD {_at(resd)} 0 0 Specified 0 MultiFrequency"


BOOT_FROM_FLASH = f"sysbus.cpu VectorTableOffset 0x{FLASH_BASE:08X}"
# Renode runs the machine's `reset` macro after `machine Reset`, which puts VTOR back to 0: boot from flash again.
RESET_MACRO = f'macro reset "{BOOT_FROM_FLASH}"'


def empty_flash_commands(files: RenodeFiles, sensor: str, gdb_port: int) -> list[str]:
    """A board with erased flash and a GDB server on gdb_port; the emulation is not started."""
    return [*_platform_commands(files, sensor), BOOT_FROM_FLASH, RESET_MACRO,
            f"machine StartGdbServer {gdb_port} false"]


def loaded_commands(files: RenodeFiles, sensor: str, resd: Path | None = None) -> list[str]:
    cmds = _platform_commands(files, sensor)
    if resd is not None:
        if sensor != "lis2dw12":
            raise ValueError("a RESD feed needs sensor lis2dw12")
        cmds.append(resd_feed_command(resd))
    return [*cmds, f"sysbus LoadELF {_at(files.elf)}", BOOT_FROM_FLASH, RESET_MACRO]


def pty_commands(pty_link: Path) -> list[str]:
    text = str(pty_link)
    if any(ch.isspace() or ch == '"' for ch in text):
        raise ValueError(f"pty path must not contain whitespace or quotes: {text!r}")
    return [f'emulation CreateUartPtyTerminal "{PTY_NAME}" "{text}" true',
            f"connector Connect {platform.UART} {PTY_NAME}"]


def wait_for_pty(pty_link: Path, timeout_s: float = 10.0) -> str:
    """The /dev/pts/N behind Renode's symlink, once it exists."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pty_link.is_symlink() and pty_link.exists():
            return os.path.realpath(pty_link)
        time.sleep(0.05)
    raise BackendUnavailable(f"Renode did not create the UART pseudo-terminal {pty_link} within {timeout_s:.0f} s")


class LiveRenode:
    """One Renode we started (headless, Robot server), hosting one free-running board at a time."""

    def __init__(self, log_dir: Path | None = None) -> None:
        from tinyml_disco.sim.renode.process import RenodeProcess, find_renode

        self.workdir = Path(tempfile.mkdtemp(prefix="tinyml-live-", dir=log_dir))
        self.process = RenodeProcess(find_renode(), self.workdir / "renode.log")
        self.client = self.process.client
        self._boots = 0
        self._pty_holder: int | None = None

    def _release_pty(self) -> None:
        if self._pty_holder is not None:
            os.close(self._pty_holder)
            self._pty_holder = None

    def _run(self, commands: list[str]) -> None:
        self.client.run("Reset Emulation")
        self._release_pty()  # the old terminal is gone with the old machine
        for command in commands:
            self.client.execute_command(command)

    def empty_board(self, elf: Path, gdb_port: int, sensor: str = "none", tester: bool = True) -> None:
        """Erased flash, GDB server on gdb_port, emulation stopped; `tester`: a terminal tester on USART2 (its
        waits run the emulation)."""
        self._run(empty_flash_commands(RenodeFiles(elf=Path(elf).resolve()), sensor, gdb_port))
        if tester:
            self.client.run("Create Terminal Tester", platform.UART, timeout=10, defaultPauseEmulation=True)

    def pty_board(self, elf: Path, sensor: str = "none", resd: Path | None = None) -> str:
        """The ELF loaded, USART2 on a pseudo-terminal, the emulation running; returns the /dev/pts path."""
        self._boots += 1
        link = self.workdir / f"uart{self._boots}"
        self._run([*loaded_commands(RenodeFiles(elf=Path(elf).resolve()), sensor, resd), *pty_commands(link)])
        port = wait_for_pty(link)
        # Renode 1.15.3 dies (unhandled IOException, EIO in its pty read) when the last client of the pty closes
        # it, e.g. between a monitor and a record session. Holding one descriptor open (never read) avoids that;
        # a real USB-serial adapter has no such problem.
        self._pty_holder = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.client.execute_command("start")
        return port

    def reset_machine(self) -> None:
        """A reset as the board's reset button gives: the firmware boots again from its flash."""
        self.client.execute_command("machine Reset")
        self.client.execute_command("start")

    def stop(self) -> None:
        self.process.stop()
        self._release_pty()
