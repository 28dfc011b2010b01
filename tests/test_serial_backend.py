"""SerialBackend over a pseudo-terminal (os.openpty) with a fake board thread that answers like the firmware.

pyserial opens the pty's slave end exactly as it would open /dev/ttyUSB0; the fake board reads the master end.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from tinyml_disco.sim import protocol
from tinyml_disco.sim.backend import SENSOR, BackendUnavailable, BackendUnsupported
from tinyml_disco.sim.serial_backend import SerialBackend, check_serial
from tinyml_disco.sim.session import DeviceSession, check_backend

BOOT = "BOOT fw=0.1.0 model=mlp sensor=LIS3DSH bus=spi1 clock_hz=168000000"
N_IN = 6


class FakeBoard(threading.Thread):
    """Answers INFO / INFER / anything else on the master end of a pty, '\\n'-terminated like the firmware."""

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master = master
        self.received: list[str] = []
        self._stop_event = threading.Event()

    def _reply(self, line: str) -> bytes:
        if line == "INFO":
            return (BOOT + "\n").encode()
        if line.startswith("INFER "):
            payload = line[6:]
            try:
                tensor = bytes.fromhex(payload)
            except ValueError:
                return b"ERR code=bad_hex\n"
            if len(tensor) != N_IN:
                return f"ERR code=bad_length expected={N_IN}\n".encode()
            out = bytes((-b) & 0xFF for b in tensor[:4])
            return f"OUT {out.hex()} cycles=1922\n".encode()
        return b"ERR code=bad_command\n"

    def run(self) -> None:
        buffer = b""
        while not self._stop_event.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                buffer += os.read(self.master, 1024)
            except OSError:
                return
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                line = raw.decode().rstrip("\r")
                self.received.append(line)
                reply = self._reply(line)
                # Split the reply so the reader has to join partial reads.
                os.write(self.master, reply[:5])
                os.write(self.master, reply[5:])

    def stop(self) -> None:
        self._stop_event.set()


@pytest.fixture()
def board() -> Iterator[tuple[FakeBoard, str]]:
    import tty

    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    name = os.ttyname(slave)
    fake = FakeBoard(master)
    fake.start()
    yield fake, name
    fake.stop()
    fake.join(timeout=2)
    os.close(master)
    os.close(slave)


def test_boot_infer_and_errors_over_a_pty(board: tuple[FakeBoard, str]) -> None:
    fake, port = board
    session = DeviceSession(SerialBackend(port, line_timeout_s=2.0, quiet_s=0.1))
    try:
        assert session.start() == protocol.parse_boot(BOOT)
        result = session.infer(np.array([1, 2, 3, -4, 5, 6], np.int8))
        assert result.output == bytes([0xFF, 0xFE, 0xFD, 0x04]) and result.cycles == 1922
        session.backend.write(b"HELLO\n")
        assert session._pump(protocol.ERR_RE) == ["ERR code=bad_command"]
        session.backend.write(b"INFER 0102\n")
        assert session._pump(protocol.ERR_RE) == [f"ERR code=bad_length expected={N_IN}"]
        assert fake.received == ["INFO", "INFER 010203fc0506", "HELLO", "INFER 0102"]
        assert [e["code"] for e in session.errors] == ["bad_command", "bad_length"]
    finally:
        session.close()


def test_serial_cannot_feed_samples_or_read_leds(board: tuple[FakeBoard, str]) -> None:
    _, port = board
    backend = SerialBackend(port)
    try:
        assert SENSOR not in backend.capabilities
        with pytest.raises(BackendUnsupported, match="real board reads its own accelerometer"):
            backend.feed(np.zeros((128, 3)))
        with pytest.raises(BackendUnsupported, match="LED"):
            backend.leds()
    finally:
        backend.close()


def test_silent_board_times_out_with_what_came(board: tuple[FakeBoard, str]) -> None:
    fake, port = board
    fake.stop()
    fake.join(timeout=2)
    session = DeviceSession(SerialBackend(port, line_timeout_s=0.3, quiet_s=0.05))
    try:
        with pytest.raises(protocol.ProtocolError, match=r"no BOOT line after reset; UART said \[\]"):
            session.start()
    finally:
        session.close()


def test_unavailable_serial_says_why(tmp_path) -> None:
    with pytest.raises(BackendUnavailable, match="SERIAL_PORT:/dev/ttyUSB0"):
        check_serial(None)
    with pytest.raises(BackendUnavailable, match="/dev/ttyNOPE0 does not exist"):
        check_backend("serial", "/dev/ttyNOPE0")
    with pytest.raises(BackendUnavailable, match="cannot open serial port"):
        SerialBackend(str(tmp_path / "not-a-tty"))
