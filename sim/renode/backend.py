"""RenodeBackend: the unchanged ELF on Renode's STM32F4 Discovery, driven through Renode's Robot server.

Boot sequence (boot_keywords, golden-file tested): reset the emulation, create the machine, load the overlay
(and for the LIS3DSH: compile LIS3DSH.cs, load its overlay), load the ELF, attach a terminal tester to USART2.
The emulation runs only inside UART waits: each matched line pauses it (pauseEmulation=true), so the virtual
time at which samples are fed is known and runs are repeatable.

Sensor feeding:
- lis2dw12 (upstream model behind the RM0090 I2C master): each window becomes a text file of samples queued with
  `FeedAccelerationSample @file`; the firmware reads them in FIFO batches (see feed()).
- lis3dsh (LIS3DSH.cs on spi1): each window becomes a CSV fed with `FeedAccelerationSamplesFromCsv @file`.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyml_disco.sim import sensor_csv
from tinyml_disco.sim.backend import INSTRUCTIONS, LEDS, SENSOR, BackendUnavailable, BackendUnsupported
from tinyml_disco.sim.renode import platform
from tinyml_disco.sim.renode.robot_client import RenodeRobotClient

SENSORS = ("lis2dw12", "lis3dsh", "none")


@dataclass(frozen=True)
class Keyword:
    name: str
    args: tuple[str, ...] = ()
    named: tuple[tuple[str, object], ...] = ()

    def render(self) -> str:
        parts = [self.name, *self.args, *(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                                          for k, v in self.named)]
        return "    ".join(parts)


@dataclass(frozen=True)
class RenodeFiles:
    """Absolute paths Renode reads."""

    elf: Path
    overlay: Path = platform.OVERLAY_FILE
    no_sensor_overlay: Path = platform.NO_SENSOR_OVERLAY_FILE
    lis3dsh_model: Path = platform.LIS3DSH_MODEL_FILE
    lis3dsh_overlay: Path = platform.LIS3DSH_OVERLAY_FILE
    models: tuple[Path, ...] = platform.MODEL_FILES


def _at(path: Path) -> str:
    text = str(path)
    if any(ch.isspace() for ch in text):
        raise ValueError(f"Renode paths cannot contain whitespace: {text!r}; move the file to a path without spaces")
    return "@" + text


def boot_keywords(files: RenodeFiles, sensor: str, uart_timeout_s: int = 10,
                  settings: tuple[str, ...] = platform.EMULATION_SETTINGS) -> list[Keyword]:
    """The Robot keywords that bring the board up, in order."""
    if sensor not in SENSORS:
        raise ValueError(f"sensor must be one of {', '.join(SENSORS)}, got {sensor!r}")
    cmds = [*settings, f'mach create "{platform.MACHINE_NAME}"']
    cmds += [f"include {_at(model)}" for model in files.models]
    if sensor == "lis3dsh":
        cmds.append(f"include {_at(files.lis3dsh_model)}")
    overlay = files.no_sensor_overlay if sensor == "none" else files.overlay
    cmds.append(f"machine LoadPlatformDescription {_at(overlay)}")
    if sensor == "lis3dsh":
        cmds.append(f"machine LoadPlatformDescription {_at(files.lis3dsh_overlay)}")
    cmds += [f"sysbus.cpu PerformanceInMips {platform.MIPS}", f"sysbus LoadELF {_at(files.elf)}"]
    return [
        Keyword("Reset Emulation"),
        *(Keyword("Execute Command", (c,)) for c in cmds),
        Keyword("Create Terminal Tester", (platform.UART,),
                (("timeout", uart_timeout_s), ("defaultPauseEmulation", True))),
    ]


@dataclass
class RenodeBackend:
    """One booted board on a Renode instance (client); several boots may share one instance."""

    client: RenodeRobotClient
    files: RenodeFiles
    sensor: str = "lis2dw12"
    sample_rate_hz: float = 100.0
    line_timeout_s: float = 10.0  # virtual seconds to wait for an expected line
    quiet_s: float = 0.05  # virtual seconds without UART traffic that count as idle
    emulation_settings: tuple[str, ...] = platform.EMULATION_SETTINGS  # advance immediately, quantum
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tinyml-renode-")))
    name: str = "renode"
    _feeds: int = 0

    @property
    def capabilities(self) -> frozenset[str]:
        caps = {LEDS, INSTRUCTIONS}
        if self.sensor != "none":
            caps.add(SENSOR)
        return frozenset(caps)

    def begin(self) -> None:
        for kw in boot_keywords(self.files, self.sensor, max(1, round(self.line_timeout_s)), self.emulation_settings):
            self.client.run(kw.name, *kw.args, **dict(kw.named))
        self._feeds = 0

    def write(self, data: bytes) -> None:
        text = data.decode("ascii")
        # One WriteLineToUart per line; it appends '\r' (an empty line to the firmware, ignored), so keep our '\n'.
        for line in _lines_with_newline(text):
            self.client.run("Write Line To Uart", line, waitForEcho=False)

    def feed(self, samples_g: np.ndarray) -> None:
        samples = np.asarray(samples_g, dtype=np.float64).reshape(-1, 3)
        self._feeds += 1
        if self.sensor == "lis2dw12":
            # Queued in the model's host FIFO (FeedAccelerationSample @file: one "x y z" line in g per sample),
            # read once each through the sensor FIFO. A RESD stream would pace them at the ODR but ends with
            # one extra sample (its after-stream callback feeds once more), which would shift the next window.
            path = self.workdir / f"feed_{self._feeds:05d}.txt"
            path.write_text(samples_text(samples))
            self.client.execute_command(f"{platform.LIS2DW12} FeedAccelerationSample {_at(path)}")
        elif self.sensor == "lis3dsh":
            path = self.workdir / f"feed_{self._feeds:05d}.csv"
            sensor_csv.write_csv(path, samples, self.sample_rate_hz)
            self.client.execute_command(f"{platform.LIS3DSH} FeedAccelerationSamplesFromCsv {_at(path)}")
        else:
            raise BackendUnsupported("this Renode board was booted without a sensor (sensor=none)")

    def run_until_idle(self, until: re.Pattern[str] | None = None) -> list[str]:
        """Lines up to the first that matches `until` (the emulation stays paused right after it, so LEDs are read
        as that line left them; later lines come with the next call), or, without `until`, until quiet."""
        if until is None:
            return self._drain()
        lines: list[str] = []
        while (got := self._next(self.line_timeout_s)) is not None:
            lines.append(got)
            if until.search(got):
                break
        return lines  # without a match the caller reports what it expected and what came

    def stream_lines(self, until: re.Pattern[str], count: int) -> list[str]:
        """Lines, with the emulation running on between them (no pause per line: a pause and restart cost
        Renode ~75 ms of CPU), until `count` lines matched `until` or none came for line_timeout_s."""
        lines: list[str] = []
        matched = 0
        while matched < count:
            got = self.client.next_line(self.line_timeout_s, pause=False)
            if got is None:
                break
            lines.append(got.line)
            matched += bool(until.search(got.line))
        return lines

    def _next(self, timeout_s: float) -> str | None:
        got = self.client.next_line(timeout_s)
        return None if got is None else got.line

    def _drain(self) -> list[str]:
        # Lines until none comes for quiet_s of virtual time. (A tester wait with timeout 0 can block for ever
        # on 1.15.3 once the emulation has run, so every wait here has a positive virtual timeout.)
        lines: list[str] = []
        while (got := self._next(self.quiet_s)) is not None:
            lines.append(got)
        return lines

    def leds(self) -> dict[str, bool]:
        states = {}
        for name, periph in zip(platform.LED_NAMES, platform.LED_PERIPHERALS, strict=True):
            reply = self.client.execute_command(f"{periph} State").strip()
            if reply not in ("True", "False"):
                raise BackendUnsupported(f"could not read {periph} State: Renode said {reply!r}")
            states[name] = reply == "True"
        return states

    @property
    def instructions(self) -> int:
        reply = self.client.execute_command("sysbus.cpu ExecutedInstructions").strip()
        try:
            return int(reply.split()[-1], 0)
        except (ValueError, IndexError):
            raise BackendUnsupported(f"could not read sysbus.cpu ExecutedInstructions: {reply!r}") from None

    def close(self) -> None:
        """The Renode process belongs to whoever started it (RenodeConnection); nothing to release here."""


def samples_text(samples_g: np.ndarray) -> str:
    """Samples as Renode's FeedAccelerationSample(path) reads them: "x y z" in g, each rounded to a whole
    micro-g (what a RESD file holds), so Renode's decimal arithmetic and the embedded board quantize alike."""
    ug = np.rint(np.asarray(samples_g, dtype=np.float64) * 1e6).astype(np.int64)
    return "".join(" ".join(_ug_to_g(v) for v in row) + "\n" for row in ug)


def _ug_to_g(ug: int) -> str:
    sign = "-" if ug < 0 else ""
    whole, frac = divmod(abs(int(ug)), 1_000_000)
    return f"{sign}{whole}.{frac:06d}"


def _lines_with_newline(text: str) -> Iterator[str]:
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


class RenodeConnection:
    """A Renode we started (headless, Robot server) and can boot boards on; stop() ends it."""

    def __init__(self, log_dir: Path | None = None) -> None:
        from tinyml_disco.sim.renode.process import RenodeProcess, find_renode

        renode = find_renode()
        log_dir = log_dir or Path(tempfile.mkdtemp(prefix="tinyml-renode-log-"))
        self.process = RenodeProcess(renode, log_dir / "renode.log")

    def board(self, elf: Path, sensor: str = "lis2dw12", sample_rate_hz: float = 100.0,
              emulation_settings: tuple[str, ...] = platform.EMULATION_SETTINGS) -> RenodeBackend:
        if not Path(elf).is_file():
            raise BackendUnavailable(f"{elf} does not exist; build the firmware first (tinyml-disco build)")
        return RenodeBackend(self.process.client, RenodeFiles(elf=Path(elf).resolve()), sensor=sensor,
                             sample_rate_hz=sample_rate_hz, emulation_settings=emulation_settings)

    def stop(self) -> None:
        self.process.stop()
