"""The small interface every board backend implements, and the error for a backend that cannot run here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# What a backend can do beyond the UART protocol; suites skip the checks a backend cannot support.
SENSOR = "sensor"  # samples can be injected into the emulated accelerometer
LEDS = "leds"  # LED states can be read
INSTRUCTIONS = "instructions"  # exact retired-instruction count


class BackendUnavailable(RuntimeError):
    """The requested backend cannot run on this machine (the message says why and how to fix it)."""


class BackendUnsupported(RuntimeError):
    """The backend runs, but cannot do this (e.g. inject sensor samples into a real board)."""


@dataclass(frozen=True)
class BoardStats:
    """What a backend that owns its clock can report beyond the UART (the embedded board does)."""

    instructions: int  # retired instructions since reset
    cycles: int  # virtual core cycles since reset (the core sleeps in WFI between them)
    uart_lines: tuple[str, ...]  # every complete UART line so far
    uart_line_cycles: tuple[int, ...]  # cycle at which each line ended
    sensor_sample_cycles: tuple[int, ...]  # cycle at which each fed sample became data-ready
    counter: str  # how instructions are counted: "native" (C block hook) or "python"
    exceptions_taken: tuple[tuple[int, int], ...] = ()  # (exception number, entries since reset), sorted


class MeasuredBackend(Protocol):
    def stats(self) -> BoardStats:
        """A snapshot of the board's counters."""

    def read_memory(self, address: int, size: int) -> bytes:
        """Target memory, e.g. for the stack high-water mark."""


class Backend(Protocol):
    name: str
    capabilities: frozenset[str]

    def begin(self) -> None:
        """Make the board (re)announce itself: after this, the UART will carry a BOOT line."""

    def write(self, data: bytes) -> None:
        """Bytes to the board's USART2 RX."""

    def feed(self, samples_g: np.ndarray) -> None:
        """Samples (N, 3) in g for the accelerometer; BackendUnsupported without the SENSOR capability."""

    def run_until_idle(self, until: re.Pattern[str] | None = None) -> list[str]:
        """Run until the UART goes quiet (after a line matching `until`, if given); the new complete lines."""

    def leds(self) -> dict[str, bool]:
        """LED name -> lit; BackendUnsupported without the LEDS capability."""

    def close(self) -> None:
        """Release the board (end processes, close ports)."""
