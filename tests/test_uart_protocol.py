"""The UART command channel's line handling on the real firmware (embedded board): separators, line ends,
over-long lines (issue 10)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.app.tflm_oracle import TflmOracle
from tinyml_disco.sim import protocol
from tinyml_disco.sim.session import DeviceSession, embedded_session
from tinyml_disco.training.artifacts import ModelPaths

X = np.array([1, 2, 3, -4, -5, 127], np.int8)


@pytest.fixture()
def session(mlp_elf: Path) -> DeviceSession:
    s = embedded_session(mlp_elf, sensor="none")
    s.start()
    s._pump()
    return s


def _send(s: DeviceSession, data: bytes) -> list[str]:
    s.backend.write(data)
    return [ln for ln in s._pump() if not ln.startswith("ERR code=no_sensor")]


def _expected_out(trained_mlp: ModelPaths) -> str:
    ref = TflmOracle(trained_mlp.tflite.read_bytes()).invoke(X[None])[0]
    return ref.astype(np.int8).tobytes().hex()


@pytest.mark.parametrize("sep", [b"\t", b"  ", b" \t ", b"\t\t"])
def test_infer_accepts_any_run_of_blanks_as_separator(session: DeviceSession, trained_mlp: ModelPaths,
                                                      sep: bytes) -> None:
    got = _send(session, b"INFER" + sep + X.tobytes().hex().encode() + b"\n")
    assert len(got) == 1 and protocol.parse_out(got[0]).output.hex() == _expected_out(trained_mlp), got


@pytest.mark.parametrize("end", [b"\n", b"\r", b"\r\n", b"\n\r"])
def test_each_line_end_gives_exactly_one_answer(session: DeviceSession, trained_mlp: ModelPaths,
                                                end: bytes) -> None:
    """CR or LF ends a line; CRLF (terminals) and LF+CR (Renode's WriteLineToUart) are one command, the empty
    line after it is ignored (no ERR)."""
    got = _send(session, b"INFER " + X.tobytes().hex().encode() + end + b"INFO" + end)
    assert len(got) == 2, got
    assert protocol.parse_out(got[0]).output.hex() == _expected_out(trained_mlp)
    assert protocol.BOOT_RE.match(got[1]), got


def test_too_long_line_is_answered_at_the_limit_once_then_the_next_line_serves(
        session: DeviceSession, trained_mlp: ModelPaths) -> None:
    # No line end yet: the ERR comes as soon as the line outgrows the buffer, not when the line ends.
    assert _send(session, b"X" * 300) == ["ERR code=line_too_long"]
    # The rest of that line is discarded, without a second ERR, up to its end.
    assert _send(session, b"Y" * 500) == []
    assert _send(session, b"INFER 00\r\n") == []
    # The next line is a command again.
    got = _send(session, b"INFER " + X.tobytes().hex().encode() + b"\n")
    assert len(got) == 1 and protocol.parse_out(got[0]).output.hex() == _expected_out(trained_mlp), got


def test_too_long_line_then_infer_in_one_write(session: DeviceSession, trained_mlp: ModelPaths) -> None:
    got = _send(session, b"Z" * 1000 + b"\nINFER\t" + X.tobytes().hex().encode() + b"\n")
    assert got[0] == "ERR code=line_too_long" and len(got) == 2, got
    assert protocol.parse_out(got[1]).output.hex() == _expected_out(trained_mlp)


def test_blank_and_bad_separators(session: DeviceSession) -> None:
    assert _send(session, b" \t \n") == []                       # blank line: nothing
    assert _send(session, b"INFER\n") == ["ERR code=bad_length expected=12"]
    assert _send(session, b"INFERX 000000000000\n") == ["ERR code=bad_command"]
    assert _send(session, b"INFER\v000000000000\n") == ["ERR code=bad_command"]
