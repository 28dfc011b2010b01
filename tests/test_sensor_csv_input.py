"""Malformed sensor CSVs are one clear error (file, line, fix); units are detected from gravity or the value range
of the whole file, converted, or refused when the file cannot tell (issue 10)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.sim.sensor_csv import STANDARD_GRAVITY, SensorCsvError, SensorUnitWarning, read_csv, write_csv

HEADER = "timestamp_s,ax_g,ay_g,az_g,label\n"


def _write(tmp_path: Path, data: bytes, name: str = "rec.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("body", "line", "message"), [
    (HEADER.encode() + b"0,0,0,1,idle\n0.01,0,0,1,gr\xe4t\n", 3, r"byte 0xe4 at column 14 is not UTF-8.*iconv"),
    (HEADER.encode() + b"0," + b"1" * 200_000 + b",0,1,idle\n", 2, r"not readable as CSV \(field larger"),
    (HEADER.encode() + b'0,0,0,1,"idle\n0.01,0,0,1,idle\n', 3, r"runs over a line break.*close the quote"),
    (HEADER.encode() + b"0,1e300,0,1,idle\n0.01,0,0,1,idle\n", 2, r"value 1e\+300 is beyond"),
])
def test_malformed_input_names_file_and_line(tmp_path: Path, body: bytes, line: int, message: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(SensorCsvError, match=message) as err:
        read_csv(path, require_label=True)
    assert str(err.value).startswith(f"{path}, line {line}: ") and "Fix:" in str(err.value)


def test_a_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SensorCsvError, match="is a folder"):
        read_csv(tmp_path)


def _linear_ms2(peak_ms2: float, seconds: float = 6.0, rate: float = 100.0) -> np.ndarray:
    """A gravity-removed recording (linear acceleration): still, then a shake of `peak_ms2`, then still."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(1)
    shake = np.where((t > 2) & (t < 4), peak_ms2 * np.sin(2 * np.pi * 5 * t), 0.0)
    return np.stack([shake, 0.3 * shake, np.zeros_like(t)], axis=1) + rng.normal(0, 0.05, (len(t), 3))


def test_gravity_removed_m_per_s2_is_detected_by_its_range(tmp_path: Path) -> None:
    """No gravity to find (median |a| < 5), but values to 25 exceed any +/-16 g sensor: m/s^2, converted."""
    samples = _linear_ms2(25.0)
    assert np.median(np.linalg.norm(samples, axis=1)) < 5.0
    path = tmp_path / "lin.csv"
    write_csv(path, samples, 100.0)
    with pytest.warns(SensorUnitWarning, match=r"lin\.csv: the values look like m/s\^2 .*converted"):
        rec = read_csv(path)
    assert rec.units == "m/s2"
    np.testing.assert_allclose(rec.samples_g, samples / STANDARD_GRAVITY, rtol=1e-6, atol=1e-6)


def test_gravity_removed_data_that_could_be_g_or_m_per_s2_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gentle.csv"
    write_csv(path, _linear_ms2(6.0), 100.0)
    with pytest.raises(SensorCsvError, match=r"gentle\.csv, line \d+: no gravity .* g or m/s\^2.*--units"):
        read_csv(path)
    rec = read_csv(path, units="m/s2")  # told: converted
    assert rec.units == "m/s2" and np.abs(rec.samples_g).max() < 1.0


def test_explicit_g_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    samples = _linear_ms2(6.0)
    write_csv(path, samples, 100.0)
    np.testing.assert_array_equal(read_csv(path, units="g").samples_g, samples)


def test_gravity_in_g_needs_no_units(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    samples = _linear_ms2(6.0) / STANDARD_GRAVITY + [0.0, 0.0, 1.0]  # the same motion in g, gravity included
    write_csv(path, samples, 100.0)
    rec = read_csv(path)
    assert rec.units == "g"


def test_gravity_in_ever_changing_orientations_is_g(tmp_path: Path) -> None:
    """Held-out windows at random orientations: gravity averages out over the file (mean vector ~0.1 g), but not
    over one window, so the file is g (a whole-file mean refused exactly the files `train` exports)."""
    from tinyml_disco.training import synth

    w = synth.generate(10, 3, synth.SynthConfig())
    samples = w.g.reshape(-1, 3)
    assert np.linalg.norm(samples.mean(axis=0)) < 0.3
    path = tmp_path / "windows.csv"
    write_csv(path, samples, 100.0)
    assert read_csv(path).units == "g"
