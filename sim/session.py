"""A conversation with one board over its UART protocol, independent of the backend.

`EmbeddedBackend` wraps the in-process Unicorn board; other backends (Renode, a real board on a
serial port) implement the same small interface: write(bytes), run_until_idle(), lines().
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim import protocol


class BackendUnavailable(RuntimeError):
    """The requested backend cannot run on this machine (the message says why)."""


class EmbeddedBackend:
    """The Unicorn board model running the unchanged ELF in this process."""

    name = "embedded"

    def __init__(self, elf: Path, sensor: str = "lis3dsh", instruction_budget: int = 200_000_000) -> None:
        from sim.board import Board

        self.board = Board(str(elf), sensor=sensor, instruction_budget=instruction_budget)

    def feed(self, samples_g: np.ndarray) -> None:
        self.board.feed_samples(np.asarray(samples_g, dtype=np.float64).reshape(-1, 3))

    def write(self, data: bytes) -> None:
        self.board.uart_write(data)

    def run_until_idle(self) -> list[str]:
        self.board.run_until_idle()
        return self.board.read_lines()

    @property
    def instructions(self) -> int:
        return int(self.board.instructions)

    def leds(self) -> dict[str, bool]:
        return dict(self.board.leds)


def open_backend(name: str, elf: Path, sensor: str = "lis3dsh") -> EmbeddedBackend:
    if name == "embedded":
        return EmbeddedBackend(elf, sensor=sensor)
    if name == "renode":
        raise BackendUnavailable("the Renode backend is not implemented in this release (tracked as issue 5); "
                                 "use BACKEND:embedded")
    if name == "serial":
        raise BackendUnavailable("the serial (real board) backend is not implemented in this release "
                                 "(tracked as issue 5); use BACKEND:embedded")
    raise ValueError(f"unknown backend {name!r}; choose embedded, renode or serial")


@dataclass
class DeviceSession:
    backend: EmbeddedBackend
    lines: list[str] = field(default_factory=list)
    boot: protocol.Boot | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    def _pump(self) -> list[str]:
        new = self.backend.run_until_idle()
        self.lines.extend(new)
        for line in new:
            if line.startswith("ERR "):
                self.errors.append(protocol.parse_err(line))
        return new

    def start(self) -> protocol.Boot:
        new = self._pump()
        boots = [ln for ln in new if ln.startswith("BOOT ")]
        if not boots:
            raise protocol.ProtocolError(f"no BOOT line after reset; UART said {new!r}")
        self.boot = protocol.parse_boot(boots[-1])
        return self.boot

    def infer(self, tensor: np.ndarray) -> protocol.InferResult:
        self.backend.write(protocol.infer_command(np.asarray(tensor, np.int8).tobytes()).encode())
        new = self._pump()
        outs = [ln for ln in new if ln.startswith(("OUT ", "ERR "))]
        if len(outs) != 1 or not outs[0].startswith("OUT "):
            raise protocol.ProtocolError(f"expected one OUT line for INFER, got {new!r}")
        return protocol.parse_out(outs[0])

    def classify(self, windows_g: np.ndarray) -> list[protocol.Prediction]:
        """Feed whole windows (W, window, 3) through the sensor; one PRED per window expected."""
        w = np.asarray(windows_g, dtype=np.float64)
        preds: list[protocol.Prediction] = []
        for win in w:
            self.backend.feed(win)
            new = self._pump()
            preds += [protocol.parse_pred(ln) for ln in new if ln.startswith("PRED ")]
        if len(preds) != len(w):
            raise protocol.ProtocolError(f"fed {len(w)} windows but got {len(preds)} PRED lines; "
                                         f"last UART lines: {self.lines[-5:]!r}")
        return preds


def embedded_session(elf: Path, sensor: str = "lis3dsh") -> DeviceSession:
    return DeviceSession(EmbeddedBackend(elf, sensor=sensor))


def timed_classify(session: DeviceSession, windows_g: np.ndarray) -> tuple[list[protocol.Prediction], float]:
    t0 = time.perf_counter()
    preds = session.classify(windows_g)
    return preds, time.perf_counter() - t0
