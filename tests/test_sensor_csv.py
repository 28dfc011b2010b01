"""Sensor CSV: exact round trips, one error per malformation (file + line + fix), unit warnings."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.sim.sensor_csv import (
    EXPECTED_HEADER,
    CsvRecording,
    SensorCsvError,
    SensorUnitWarning,
    check_regular,
    read_csv,
    write_csv,
)

HEADER = "timestamp_s,ax_g,ay_g,az_g"


def _csv(tmp_path: Path, text: str, name: str = "rec.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path, line: int, **kwargs: bool) -> str:
    with pytest.raises(SensorCsvError) as err:
        read_csv(path, **kwargs)
    message = str(err.value)
    assert f"{path}, line {line}:" in message
    assert err.value.line == line
    assert "Fix:" in message
    return message


# -- round trips --------------------------------------------------------------------------------------------


def test_round_trip_multiples_of_0_00024_g_exact(tmp_path: Path) -> None:
    raw = np.arange(-8192, 8191).reshape(-1, 3)  # every count of a 14-bit sensor range
    for samples in (raw * 240 / 1e6, raw * 0.00024):  # both ways code computes g from counts
        path = tmp_path / "r.csv"
        write_csv(path, samples, 100.0)
        rec = read_csv(path)
        np.testing.assert_array_equal(rec.samples_g, samples)
        assert rec.labels is None
        np.testing.assert_allclose(rec.timestamps_s, np.arange(len(samples)) / 100.0, atol=5e-7)


def test_written_text_uses_six_decimals(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    write_csv(path, np.array([[0.00024, -0.98304, 1.0], [0.0, 0.5, -1.99992]]), 50.0, start_s=1.5)
    assert path.read_text().splitlines() == [
        HEADER,
        "1.500000,0.000240,-0.983040,1.000000",
        "1.520000,0.000000,0.500000,-1.999920",
    ]


def test_any_finite_float_round_trips(tmp_path: Path) -> None:
    samples = np.random.default_rng(3).normal(size=(300, 3))
    path = tmp_path / "f.csv"
    write_csv(path, samples, 25.0)
    # units="g": gravity-free values up to 3.3 could be g or m/s^2, which auto-detection refuses to guess.
    np.testing.assert_array_equal(read_csv(path, units="g").samples_g, samples)


def test_round_trip_with_labels(tmp_path: Path) -> None:
    labels = ["idle", "wave, fast", 'say "hi"', "tap"]
    path = tmp_path / "l.csv"
    write_csv(path, np.zeros((4, 3)) + [0.0, 0.0, 1.0], 10.0, labels=labels)
    rec = read_csv(path, require_label=True)
    assert rec.labels == labels
    assert rec.line_numbers == [2, 3, 4, 5]


def test_reader_accepts_bom_spaces_blank_lines_and_column_order(tmp_path: Path) -> None:
    text = "\ufefflabel, az_g ,ay_g,ax_g,timestamp_s\n\nup, 1.0, 0.5, 0.25, 0.0\n\ndown,-1,0,0,0.01\n"
    rec = read_csv(_csv(tmp_path, text))
    assert rec.samples_g.tolist() == [[0.25, 0.5, 1.0], [0.0, 0.0, -1.0]]
    assert rec.timestamps_s.tolist() == [0.0, 0.01]
    assert rec.labels == ["up", "down"]
    assert rec.line_numbers == [3, 5]


def test_write_rejects_bad_input(tmp_path: Path) -> None:
    samples = np.zeros((3, 3))
    samples[1, 2] = np.nan
    with pytest.raises(ValueError, match="sample index 1 axis z"):
        write_csv(tmp_path / "x.csv", samples, 10.0)
    with pytest.raises(ValueError, match="3 labels for 2 samples"):
        write_csv(tmp_path / "x.csv", np.zeros((2, 3)), 10.0, labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="single-line"):
        write_csv(tmp_path / "x.csv", np.zeros((1, 3)), 10.0, labels=["a\nb"])
    with pytest.raises(ValueError, match="too high"):
        write_csv(tmp_path / "x.csv", np.zeros((3, 3)), 4e6)
    with pytest.raises(ValueError, match="sample_rate_hz"):
        write_csv(tmp_path / "x.csv", np.zeros((3, 3)), 0.0)
    assert not (tmp_path / "x.csv").exists()


# -- errors: file + line + how to fix ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    message = _error(_csv(tmp_path, text), 1)
    assert "empty" in message and EXPECTED_HEADER in message


def test_header_only(tmp_path: Path) -> None:
    assert "no samples" in _error(_csv(tmp_path, HEADER + "\n"), 1)


def test_missing_columns_listed_with_expected_header(tmp_path: Path) -> None:
    message = _error(_csv(tmp_path, "timestamp_s,ax_g,az\n0,0,1\n"), 1)
    assert "missing column(s) ay_g, az_g" in message and EXPECTED_HEADER in message


def test_header_row_missing_entirely(tmp_path: Path) -> None:
    message = _error(_csv(tmp_path, "0.0,0.0,0.0,1.0\n0.01,0.0,0.0,1.0\n"), 1)
    assert "missing column(s) timestamp_s, ax_g, ay_g, az_g" in message


def test_missing_label_when_required(tmp_path: Path) -> None:
    message = _error(_csv(tmp_path, f"{HEADER}\n0,0,0,1\n"), 1, require_label=True)
    assert "missing column(s) label" in message


def test_empty_label_when_required(tmp_path: Path) -> None:
    path = _csv(tmp_path, f"{HEADER},label\n0,0,0,1,up\n0.01,0,0,1,\n")
    assert "label is empty" in _error(path, 3, require_label=True)
    assert read_csv(path).labels == ["up", ""]


def test_unknown_and_duplicate_columns(tmp_path: Path) -> None:
    assert "unknown column 'gx'" in _error(_csv(tmp_path, f"{HEADER},gx\n0,0,0,1,2\n"), 1)
    assert "appears twice" in _error(_csv(tmp_path, f"{HEADER},ax_g\n0,0,0,1,2\n"), 1)


@pytest.mark.parametrize(
    ("row", "column", "kind"),
    [
        ("0.02,abc,0,1", "ax_g", "not a number"),
        ("0.02,0,,1", "ay_g", "not a number"),
        ("0.02,0,0,nan", "az_g", "not finite"),
        ("0.02,inf,0,1", "ax_g", "not finite"),
        ("0.02,0,-Infinity,1", "ay_g", "not finite"),
        ("x,0,0,1", "timestamp_s", "not a number"),
        ("NaN,0,0,1", "timestamp_s", "not finite"),
    ],
)
def test_bad_value_names_file_line_and_column(tmp_path: Path, row: str, column: str, kind: str) -> None:
    message = _error(_csv(tmp_path, f"{HEADER}\n0.0,0,0,1\n0.01,0,0,1\n{row}\n"), 4)
    assert f"column {column}" in message and kind in message


@pytest.mark.parametrize("row", ["0.02,0,0", "0.02,0,0,1,extra"])
def test_wrong_column_count(tmp_path: Path, row: str) -> None:
    message = _error(_csv(tmp_path, f"{HEADER}\n0.0,0,0,1\n{row}\n"), 3)
    assert "expected 4 columns" in message


@pytest.mark.parametrize("second", ["0.01", "0.005"])
def test_timestamps_not_strictly_increasing(tmp_path: Path, second: str) -> None:
    message = _error(_csv(tmp_path, f"{HEADER}\n0.0,0,0,1\n0.01,0,0,1\n{second},0,0,1\n"), 4)
    assert "not after the previous one" in message and "line 3" in message


# -- check_regular ---------------------------------------------------------------------------------------------


def test_check_regular_measures_rate(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_csv(path, np.zeros((101, 3)) + [0, 0, 1], 52.0)
    rec = read_csv(path)
    assert check_regular(rec) == pytest.approx(52.0, rel=1e-6)
    assert check_regular(rec, expected_rate_hz=52.0) == pytest.approx(52.0, rel=1e-6)


def test_check_regular_names_first_deviating_line(tmp_path: Path) -> None:
    rows = [f"{t:.6f},0,0,1" for t in [0.0, 0.01, 0.02, 0.04, 0.05, 0.07]]  # a sample dropped before 0.04
    path = _csv(tmp_path, HEADER + "\n\n" + "\n".join(rows) + "\n")  # blank line 2: samples on lines 3..8
    rec = read_csv(path)
    with pytest.raises(SensorCsvError) as err:
        check_regular(rec)
    assert f"{path}, line 6:" in str(err.value) and "since line 5" in str(err.value)


def test_check_regular_against_expected_rate(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_csv(path, np.zeros((10, 3)), 100.0)
    rec = read_csv(path)
    assert check_regular(rec, expected_rate_hz=102.0) == pytest.approx(100.0)  # 2% off: within 5%
    with pytest.raises(SensorCsvError, match=r"line 3: interval 0.010000 s since line 2 deviates") as err:
        check_regular(rec, expected_rate_hz=50.0)
    assert str(path) in str(err.value)


def test_check_regular_needs_two_samples(tmp_path: Path) -> None:
    rec = read_csv(_csv(tmp_path, f"{HEADER}\n0,0,0,1\n"))
    with pytest.raises(SensorCsvError, match="line 2: at least two samples"):
        check_regular(rec)


def test_check_regular_without_line_numbers_assumes_plain_layout() -> None:
    rec = CsvRecording(Path("mem.csv"), np.array([0.0, 0.1, 0.2, 0.5]), np.zeros((4, 3)))
    with pytest.raises(SensorCsvError, match=r"mem.csv, line 5:"):
        check_regular(rec)


# -- unit warnings ------------------------------------------------------------------------------------------


def _gravity_samples(scale: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (np.array([0.0, 0.0, 1.0]) + rng.normal(scale=0.05, size=(200, 3))) * scale


def test_warns_for_m_per_s2(tmp_path: Path) -> None:
    path = tmp_path / "ms2.csv"
    write_csv(path, _gravity_samples(9.80665), 100.0)
    with pytest.warns(SensorUnitWarning, match="m/s\\^2") as record:
        read_csv(path)
    assert str(path) in str(record[0].message)


def test_warns_for_milli_g(tmp_path: Path) -> None:
    path = tmp_path / "mg.csv"
    write_csv(path, _gravity_samples(1000.0), 100.0)
    with pytest.warns(SensorUnitWarning, match="milli-g") as record:
        read_csv(path)
    assert str(path) in str(record[0].message)


@pytest.mark.parametrize("scale", [1.0, 2.5])
def test_no_warning_for_g(tmp_path: Path, scale: float) -> None:
    path = tmp_path / "g.csv"
    write_csv(path, _gravity_samples(scale), 100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_csv(path)
