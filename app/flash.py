"""`tinyml-disco flash`: write firmware.elf to an STM32F4 Discovery through a debug probe or a GDB server.

Probes (README "Real board"): `openocd` (default; Debian `openocd` 0.12, its board/stm32f4discovery.cfg: program,
verify, reset), `stlink` (Debian `stlink-tools`: `st-flash --reset write <bin> 0x08000000`), `pyocd` (PyPI:
`pyocd flash --no-wait --target stm32f407vg`) and `gdb` (Debian `gdb-multiarch` against any GDB server: OpenOCD's, a
debugger's, or Renode's `machine StartGdbServer PORT`: load, compare-sections, SP/PC from the vector table,
detach, so the core runs the new image). Every tool runs with a timeout; a failure becomes one FlashError line
naming the probe, what it said and the fix.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROBES = ("openocd", "stlink", "pyocd", "gdb")
FLASH_BASE = 0x0800_0000
OPENOCD_BOARD = "board/stm32f4discovery.cfg"
PYOCD_TARGET = "stm32f407vg"
DEFAULT_TIMEOUT_S = 60.0
BOARD_SETUP = "scripts/bootstrap.sh --board"
UDEV_FIX = ("install the ST-LINK udev rule (Debian: apt install stlink-tools, or openocd's "
            "60-openocd.rules in /etc/udev/rules.d), then replug the board")
PROBE_FIX = ("plug the Discovery's USB mini-B (the ST-LINK side, CN1) with a data cable, check that both "
             "CN3 jumpers are on, or choose another --probe")

# Which Debian/PyPI package gives each tool.
PACKAGES = {"openocd": "Debian package openocd", "st-flash": "Debian package stlink-tools",
            "pyocd": "PyPI package pyocd", "gdb-multiarch": "Debian package gdb-multiarch"}


class FlashError(RuntimeError):
    """Flashing failed; the message is one line: the probe tried, what it said, and the fix."""


@dataclass(frozen=True)
class FlashCommand:
    probe: str
    argv: tuple[str, ...]

    def shell(self) -> str:
        return shlex.join(self.argv)


def firmware_bin(elf: Path) -> Path:
    """The raw image next to the ELF (the Makefile writes firmware.bin); st-flash writes binaries only."""
    return elf.with_suffix(".bin")


def parse_gdb_target(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--gdb wants HOST:PORT (e.g. localhost:3333), got {text!r}")
    return host or "localhost", int(port)


def gdb_commands(target: str) -> list[str]:
    """The GDB session that flashes: connect, load (writes every loadable section), verify, start the image as a
    reset would (initial SP and the reset handler from the vector table at the start of flash), detach (the
    core runs)."""
    host, port = parse_gdb_target(target)
    return ["set confirm off", "set pagination off", "set remotetimeout 10",
            "set tcp connect-timeout 10", f"target remote {host}:{port}", "load",
            "compare-sections",
            f"set $sp = *(unsigned int *)0x{FLASH_BASE:08x}",
            f"set $pc = *(unsigned int *)0x{FLASH_BASE + 4:08x} & ~1", "detach"]


def flash_command(probe: str, elf: Path, gdb: str | None = None, gdb_exe: str = "gdb-multiarch") -> FlashCommand:
    """The exact command line for `probe` (what --dry-run prints)."""
    elf = Path(elf)
    if probe == "openocd":
        return FlashCommand(probe, ("openocd", "-f", OPENOCD_BOARD, "-c", f"program {elf} verify reset exit"))
    if probe == "stlink":
        return FlashCommand(probe, ("st-flash", "--reset", "write", str(firmware_bin(elf)), f"0x{FLASH_BASE:08x}"))
    if probe == "pyocd":
        # --no-wait: without it pyocd waits for ever for a probe to be plugged in ("Waiting for a debug probe").
        return FlashCommand(probe, ("pyocd", "flash", "--no-wait", "--target", PYOCD_TARGET, str(elf)))
    if probe == "gdb":
        argv = [gdb_exe, "-nx", "-batch"]
        for cmd in gdb_commands(gdb or "localhost:3333"):
            argv += ["-ex", cmd]
        return FlashCommand(probe, (*argv, str(elf)))
    raise ValueError(f"--probe must be one of {', '.join(PROBES)}, got {probe!r}")


# (pattern in the tool's output, what it means, the fix). First match wins. The "no probe" lines are the tools'
# real output with no board attached (openocd 0.12, st-flash 1.7.0, pyocd, gdb-multiarch 13), see the tests.
_DIAGNOSES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"LIBUSB_ERROR_ACCESS|Permission denied|insufficient permissions", re.I),
     "no permission to open the USB probe", UDEV_FIX),
    (re.compile(r"Error: open failed|Couldn't find any ST-Link devices|No (connected|available) debug probes|"
                r"No ST-?LINK detected|unable to find a matching CMSIS-DAP", re.I),
     "no debug probe found", PROBE_FIX),
    (re.compile(r"unable to connect to the target|init mode failed|target voltage may be too low|"
                r"Failed to enter SWD mode|No target found", re.I),
     "the probe answered but the target did not", "check that the board is powered and the CN3 jumpers are on; "
     "hold the reset button while connecting if the firmware disabled SWD"),
    (re.compile(r"Connection refused|Connection timed out", re.I),
     "no GDB server answers at that address", "start the GDB server first (openocd, pyocd gdbserver, or Renode's "
     "`machine StartGdbServer PORT`) or fix --gdb HOST:PORT"),
    (re.compile(r"Remote communication error|Remote connection closed|Ignoring packet error", re.I),
     "the GDB server did not answer", "check --gdb HOST:PORT and that the server is running"),
    (re.compile(r"MIS-MATCHED|verify failed|Verification.*fail", re.I),
     "the flash does not match the ELF after writing", "erase the chip (st-flash erase) and flash again"),
)


def _last_meaningful_line(output: str) -> str:
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    for line in reversed(lines):
        if re.search(r"error|fail|couldn't|no |refused|timed out", line, re.I):
            return line
    return lines[-1] if lines else "(no output)"


def diagnose(probe: str, tool: str, output: str, returncode: int | None) -> str:
    """One line: the probe tried, what it said, the fix."""
    for pattern, meaning, fix in _DIAGNOSES:
        m = pattern.search(output)
        if m:
            said = next((ln.strip() for ln in output.splitlines() if m.group(0) in ln), m.group(0))
            return f"flash --probe {probe}: {meaning} ({tool} said: {said!r}); fix: {fix}"
    code = "timed out" if returncode is None else f"exit code {returncode}"
    return (f"flash --probe {probe}: {tool} failed ({code}; it said: {_last_meaningful_line(output)!r}); "
            f"fix: {PROBE_FIX}")


def _succeeded(probe: str, output: str) -> bool:
    if probe == "gdb":
        # gdb -batch exits 0 even when a command failed; the session must have loaded, matched and detached.
        return ("Start address" in output and "MIS-MATCHED" not in output and "matched" in output
                and "detached" in output)
    return True


def run_flash(cmd: FlashCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    """Runs the flash command; returns its output, or raises FlashError (one line). Never hangs: the tool is
    killed after timeout_s."""
    tool = cmd.argv[0]
    # pyocd comes from PyPI: look next to this Python too (a venv's bin/ is not always on PATH).
    exe = shutil.which(tool) or shutil.which(tool, path=str(Path(sys.executable).parent))
    if exe is None:
        raise FlashError(f"flash --probe {cmd.probe}: {tool} is not installed; fix: {BOARD_SETUP} "
                         f"(installs the {PACKAGES.get(tool, tool)}) or choose another --probe")
    if cmd.probe == "stlink":
        image = Path(cmd.argv[3])
        if not image.is_file():
            raise FlashError(f"flash --probe stlink: {image} does not exist; fix: tinyml-disco build (the Makefile "
                             f"writes firmware.bin next to firmware.elf)")
    try:
        proc = subprocess.run([exe, *cmd.argv[1:]], capture_output=True, text=True, timeout=timeout_s,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:
        out = _text(exc.stdout) + _text(exc.stderr)
        raise FlashError(f"flash --probe {cmd.probe}: {tool} gave no result within {timeout_s:.0f} s and was "
                         f"stopped (last output: {_last_meaningful_line(out)!r}); fix: check the cable and the "
                         f"board's power, or raise --timeout") from None
    output = proc.stdout + proc.stderr
    if proc.returncode != 0 or not _succeeded(cmd.probe, output):
        raise FlashError(diagnose(cmd.probe, tool, output, proc.returncode))
    return output


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode(errors="replace")
