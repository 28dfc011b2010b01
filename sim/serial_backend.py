"""SerialBackend: a real STM32F4 Discovery on USART2 (PA2 TX, PA3 RX) through a USB-serial adapter, 115200 8N1.

Same UART protocol as the emulators. A real board reads its own accelerometer, so samples cannot be injected:
only the command channel (INFO, INFER, bad input) is testable; sensor-fed checks are skipped with that reason.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import numpy as np

from tinyml_disco.sim.backend import BackendUnavailable, BackendUnsupported

BAUDRATE = 115200
NO_SENSOR_INJECTION = ("a real board reads its own accelerometer, so samples cannot be fed over serial; "
                       "sensor-fed checks need BACKEND:embedded or BACKEND:renode (INFER-based checks run on serial)")


def _pyserial() -> Any:
    try:
        import serial  # pyserial
    except ImportError:
        raise BackendUnavailable("pyserial is not installed: `.venv/bin/pip install pyserial` "
                                 "(it is a dependency in pyproject.toml)") from None
    return serial


def check_serial(port: str | None) -> None:
    """BackendUnavailable (saying what to do) unless pyserial is importable and the port exists."""
    _pyserial()
    if not port:
        raise BackendUnavailable("no serial port given: run with --variable SERIAL_PORT:/dev/ttyUSB0 (the "
                                 "USB-serial adapter wired to PA2/PA3 and GND)")
    if port.startswith("/dev/") and not os.path.exists(port):
        raise BackendUnavailable(f"serial port {port} does not exist: plug in the USB-serial adapter (PA2 -> RX, "
                                 f"PA3 -> TX, GND) or name the right port (--port; robot: --variable SERIAL_PORT)")


class SerialBackend:
    name = "serial"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, port: str, line_timeout_s: float = 5.0, quiet_s: float = 0.2, serial_port: Any = None,
                 baudrate: int = BAUDRATE) -> None:
        """`serial_port`: an already open pyserial-like object (tests pass one on a pseudo-terminal)."""
        self.line_timeout_s = line_timeout_s
        self.quiet_s = quiet_s
        if serial_port is None:
            check_serial(port)
            serial = _pyserial()
            try:
                serial_port = serial.Serial(port, baudrate, bytesize=8, parity="N", stopbits=1, timeout=0.02)
            except (OSError, serial.SerialException) as exc:
                raise BackendUnavailable(f"cannot open serial port {port}: {exc}") from None
        self._port = serial_port
        self._buffer = b""

    def begin(self) -> None:
        # The board cannot be reset from here; INFO makes it repeat its BOOT line.
        self._port.reset_input_buffer()
        self._buffer = b""
        self.write(b"INFO\n")

    def write(self, data: bytes) -> None:
        self._port.write(data)
        self._port.flush()

    def feed(self, samples_g: np.ndarray) -> None:
        raise BackendUnsupported(NO_SENSOR_INJECTION)

    def leds(self) -> dict[str, bool]:
        raise BackendUnsupported("LED states of a real board cannot be read over serial")

    def _read_lines(self) -> tuple[list[str], bool]:
        """Complete lines read now, and whether any byte arrived."""
        try:
            chunk = self._port.read(256)
        except OSError as exc:  # pyserial's SerialException is an OSError: the adapter was unplugged
            raise BackendUnavailable(f"serial port {getattr(self._port, 'port', '?')} failed while reading: {exc}; "
                                     f"check the USB-serial adapter and open the port again") from None
        if not chunk:
            return [], False
        self._buffer += chunk
        *complete, self._buffer = self._buffer.split(b"\n")
        return [raw.rstrip(b"\r").decode("ascii", errors="replace") for raw in complete], True

    def poll_lines(self) -> list[str]:
        """Complete lines that arrived (waits at most the port's read timeout, 20 ms). Bytes that are not ASCII
        (line noise, a reset mid-line) are replaced; a line is whatever ends with \\n, so the next one is clean."""
        return self._read_lines()[0]

    def run_until_idle(self, until: re.Pattern[str] | None = None) -> list[str]:
        lines: list[str] = []
        if until is not None:
            deadline = time.monotonic() + self.line_timeout_s
            while not any(until.search(line) for line in lines) and time.monotonic() < deadline:
                lines += self._read_lines()[0]
            if not any(until.search(line) for line in lines):
                return lines
        quiet_until = time.monotonic() + self.quiet_s
        while time.monotonic() < quiet_until:
            new, got_bytes = self._read_lines()
            lines += new
            if got_bytes:
                quiet_until = time.monotonic() + self.quiet_s
        return lines

    def close(self) -> None:
        self._port.close()
