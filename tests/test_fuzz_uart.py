"""Fuzz the UART line protocol of the real firmware on the embedded board (issue 10): random lines, over-long
lines with and without their end, binary bytes, partial hex, blanks, interleavings with valid commands. Every
line gets the documented reply, nothing hangs, and the next valid INFER still matches tflite_micro. Also unit
tests of the harness's classification, so a broken harness cannot pass silently."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fuzz import harness, runner
from tests.fuzz.uart import Reference
from tinyml_disco.compiler.tflite_reader import ModelFormatError
from tinyml_disco.sim.sensor_csv import SensorCsvError


@pytest.mark.parametrize("target", sorted(runner.UART_MODELS))
def test_uart_protocol_fuzz(target: str, tmp_path: Path) -> None:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc missing: run scripts/bootstrap.sh")
    result, report = runner.bounded_run(target, tmp_path)
    print(report)
    assert result.tried > 0
    assert result.counts["ok"] == result.tried, report


def test_classification() -> None:
    def raised(exc: Exception) -> Exception:
        try:
            raise exc
        except Exception as e:  # noqa: BLE001
            return e

    assert harness.classify_exception(raised(ModelFormatError("x.tflite: bad offset"))) == "clean_error"
    assert harness.classify_exception(raised(SensorCsvError("a.csv", 3, "bad", "fix it"))) == "clean_error"
    assert harness.classify_exception(raised(ModelFormatError("two\nlines"))) == "traceback"
    assert harness.classify_exception(raised(IndexError("list index out of range"))) == "traceback"
    assert harness.classify_exception(raised(ValueError("from a test, not our code"))) == "traceback"
    assert harness.classify_exception(harness.FuzzHang("slow")) == "hang"
    with pytest.raises(harness.FuzzHang), harness.time_limit(0.05):
        while True:
            pass


def test_reference_protocol_model() -> None:
    ref = Reference(6, lambda t: bytes(reversed(t)))
    assert ref.line_max == 64
    assert ref.reply(b"INFER\t \t000102030405 \t") == "OUT 050403020100 cycles="
    assert ref.reply(b"INFER 0001020304") == "ERR code=bad_length expected=12"
    assert ref.reply(b"INFER 00010203040g") == "ERR code=bad_hex"
    assert ref.reply(b" INFO") == "ERR code=bad_command"
    assert ref.reply(b"INFO \t") == "BOOT "
    assert ref.reply(b" \t ") is None
    assert ref.reply(b"X" * 64) == "ERR code=bad_command"
    assert ref.reply(b"X" * 65) == "ERR code=line_too_long"
