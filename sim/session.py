"""A conversation with one board over its UART protocol, independent of the backend.

Backends (sim/backend.py, `Backend`): `embedded` (the Unicorn board in this process), `renode` (Renode's
STM32F4 Discovery through its Robot server, sim/renode/) and `serial` (a real board, sim/serial_backend.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyml_disco.sim import protocol
from tinyml_disco.sim.backend import (
    INSTRUCTIONS,
    LEDS,
    SENSOR,
    Backend,
    BackendUnavailable,
    BackendUnsupported,
    BoardStats,
)

__all__ = ["BackendUnavailable", "BackendUnsupported", "DeviceSession", "EmbeddedBackend", "check_backend",
           "open_backend", "BACKENDS"]

BACKENDS = ("embedded", "renode", "serial")
BOOT_LINE = re.compile(r"^BOOT ")
REPLY_LINE = re.compile(r"^(OUT |ERR code=(" + "|".join(sorted(protocol.COMMAND_ERRORS)) + r")\b)")
PRED_LINE = re.compile(r"^PRED ")


class EmbeddedBackend:
    """The Unicorn board model running the unchanged ELF in this process."""

    name = "embedded"
    capabilities = frozenset({SENSOR, LEDS, INSTRUCTIONS})

    def __init__(self, elf: Path, sensor: str = "lis3dsh", instruction_budget: int = 200_000_000) -> None:
        from tinyml_disco.sim.board import Board

        self.board = Board(str(elf), sensor=sensor, instruction_budget=instruction_budget)

    def begin(self) -> None:
        """The board boots on its first run; nothing to do."""

    def feed(self, samples_g: np.ndarray) -> None:
        self.board.feed_samples(np.asarray(samples_g, dtype=np.float64).reshape(-1, 3))

    def write(self, data: bytes) -> None:
        self.board.uart_write(data)

    def run_until_idle(self, until: re.Pattern[str] | None = None) -> list[str]:
        del until  # the in-process board runs until the firmware waits for input: everything is there
        self.board.run_until_idle()
        return self.board.read_lines()

    @property
    def instructions(self) -> int:
        return int(self.board.instructions)

    def extend_budget(self, instructions: int) -> None:
        """Let the firmware run `instructions` more from now (the budget catches hangs; long replays grow it)."""
        self.board.instruction_budget = int(self.board.instructions) + int(instructions)

    def leds(self) -> dict[str, bool]:
        return dict(self.board.leds)

    def stats(self) -> BoardStats:
        b = self.board
        return BoardStats(int(b.instructions), int(b.cycles), tuple(b.uart_lines), tuple(b.uart_line_cycles),
                          tuple(b.sensor_sample_cycles), b._counter.backend,
                          tuple(sorted(b.exceptions_taken.items())))

    def read_memory(self, address: int, size: int) -> bytes:
        return bytes(self.board.read_memory(address, size))

    def close(self) -> None:
        """Nothing to release."""


def check_backend(name: str, serial_port: str | None = None) -> None:
    """BackendUnavailable with the reason if `name` cannot run here; starts nothing."""
    if name == "embedded":
        return
    if name == "renode":
        from tinyml_disco.sim.renode.process import find_renode

        find_renode()
        return
    if name == "serial":
        from tinyml_disco.sim.serial_backend import check_serial

        check_serial(serial_port)
        return
    raise ValueError(f"unknown backend {name!r}; choose {', '.join(BACKENDS)}")


def open_backend(name: str, elf: Path, sensor: str = "lis3dsh", serial_port: str | None = None,
                 renode: object | None = None) -> Backend:
    """A ready backend. `renode`: a running sim.renode.backend.RenodeConnection to reuse (else one is started)."""
    if name == "embedded":
        return EmbeddedBackend(elf, sensor=sensor)
    if name == "renode":
        from tinyml_disco.sim.renode.backend import RenodeConnection

        connection = renode if isinstance(renode, RenodeConnection) else RenodeConnection()
        return connection.board(elf, sensor=sensor)
    if name == "serial":
        from tinyml_disco.sim.serial_backend import SerialBackend

        return SerialBackend(serial_port or "")
    raise ValueError(f"unknown backend {name!r}; choose {', '.join(BACKENDS)}")


@dataclass
class DeviceSession:
    backend: Backend
    lines: list[str] = field(default_factory=list)
    boot: protocol.Boot | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    def _pump(self, until: re.Pattern[str] | None = None) -> list[str]:
        new = self.backend.run_until_idle(until)
        self.lines.extend(new)
        for line in new:
            if line.startswith("ERR "):
                self.errors.append(protocol.parse_err(line))
        return new

    def start(self) -> protocol.Boot:
        self.backend.begin()
        new = self._pump(BOOT_LINE)
        new += self._pump()  # what the firmware says right after booting (ERR code=no_sensor, ...)
        boots = [ln for ln in new if ln.startswith("BOOT ")]
        if not boots:
            raise protocol.ProtocolError(f"no BOOT line after reset; UART said {new!r}")
        self.boot = protocol.parse_boot(boots[-1])
        return self.boot

    def infer(self, tensor: np.ndarray) -> protocol.InferResult:
        self.backend.write(protocol.infer_command(np.asarray(tensor, np.int8).tobytes()).encode())
        new = self._pump(REPLY_LINE)
        # Sensor events (PRED, ERR code=sensor_timeout...) may interleave; only command errors answer INFER.
        outs = [ln for ln in new if ln.startswith("OUT ")
                or (ln.startswith("ERR ") and protocol.parse_err(ln)["code"] in protocol.COMMAND_ERRORS)]
        if len(outs) != 1 or not outs[0].startswith("OUT "):
            raise protocol.ProtocolError(f"expected one OUT line for INFER, got {new!r}")
        return protocol.parse_out(outs[0])

    def classify(self, windows_g: np.ndarray, on_window: Callable[[], None] | None = None) -> list[protocol.Prediction]:
        """Feed whole windows (W, window, 3) through the sensor; one PRED per window expected.
        on_window() after each window (a progress bar)."""
        w = np.asarray(windows_g, dtype=np.float64)
        preds: list[protocol.Prediction] = []
        for win in w:
            self.backend.feed(win)
            new = self._pump(PRED_LINE)
            preds += [protocol.parse_pred(ln) for ln in new if ln.startswith("PRED ")]
            if on_window is not None:
                on_window()
        if len(preds) != len(w):
            raise protocol.ProtocolError(f"fed {len(w)} windows but got {len(preds)} PRED lines; "
                                         f"last UART lines: {self.lines[-5:]!r}")
        return preds

    def close(self) -> None:
        self.backend.close()


def embedded_session(elf: Path, sensor: str = "lis3dsh", instruction_budget: int = 200_000_000) -> DeviceSession:
    return DeviceSession(EmbeddedBackend(elf, sensor=sensor, instruction_budget=instruction_budget))


def timed_classify(session: DeviceSession, windows_g: np.ndarray,
                   on_window: Callable[[], None] | None = None) -> tuple[list[protocol.Prediction], float]:
    t0 = time.perf_counter()
    preds = session.classify(windows_g, on_window)
    return preds, time.perf_counter() - t0
