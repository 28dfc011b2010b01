"""The human-editable sensor format: CSV with columns `timestamp_s,ax_g,ay_g,az_g[,label]`, one row per sample.

Errors name the file and the 1-based line and say how to fix the file, because people edit these by hand.
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REQUIRED_COLUMNS = ("timestamp_s", "ax_g", "ay_g", "az_g")
LABEL_COLUMN = "label"
EXPECTED_HEADER = ",".join(REQUIRED_COLUMNS) + f"[,{LABEL_COLUMN}]"
STANDARD_GRAVITY = 9.80665  # m/s^2 per g

# Units of the acceleration columns: the factor that takes a value to g. `auto` decides per file (detect_units).
UNITS: dict[str, float] = {"g": 1.0, "m/s2": 1.0 / STANDARD_GRAVITY, "mg": 1e-3}
UNIT_NAMES = {"g": "g", "m/s2": "m/s^2", "mg": "milli-g"}
# Gravity in each unit: the mean acceleration vector of a stretch of GRAVITY_CHUNK samples (motion averages out,
# being a change of velocity; gravity does not, the board turns slowly) has a size in one of these ranges, and
# about that of the median |a| (GRAVITY_RATIO, measured: 0.55-1.04 on 600 synthetic windows with gravity; below
# 0.25 for most gravity-free gestures, up to 2.1 for a flick, whose |a| is ~0 most of the time).
GRAVITY_CHUNK = 128
GRAVITY_RANGE = {"g": (0.3, 3.0), "m/s2": (3.0, 30.0), "mg": (300.0, 3000.0)}
GRAVITY_RATIO = (0.45, 1.15)
# Without gravity (a gravity-removed / linear-acceleration recording), the largest value decides: no supported
# sensor measures beyond +/-16 g, so larger values are m/s^2 (up to 16 g = 157 m/s^2) or milli-g (up to 16000).
MAX_FULL_SCALE_G = 16.0
G_ONLY_BELOW = 2.0  # below this the values are g: 2 m/s^2 peaks (0.2 g) would be a board lying still
MAX_PLAUSIBLE = MAX_FULL_SCALE_G * 1000.0 * 1.05  # beyond this no unit we know makes it an acceleration
HUGE_G = 1000.0  # with the unit given: beyond this (in g) a value is garbage; below, full scale clips it

PathLike = str | os.PathLike[str]


class SensorCsvError(ValueError):
    """A sensor CSV file is malformed; the message names the file, the 1-based line and the fix."""

    def __init__(self, path: PathLike, line: int, problem: str, fix: str) -> None:
        super().__init__(f"{os.fspath(path)}, line {line}: {problem}. Fix: {fix}")
        self.path = Path(path)
        self.line = line


class AmbiguousUnitsError(SensorCsvError):
    """The values fit two units (a gravity-free file with values between 2 and 16: g or m/s^2)."""


class SensorUnitWarning(UserWarning):
    """The values in a sensor CSV look like m/s^2 or milli-g instead of g."""


@dataclass
class CsvRecording:
    path: Path
    timestamps_s: np.ndarray  # (N,) float64, strictly increasing
    samples_g: np.ndarray  # (N, 3) float64
    labels: list[str] | None = None
    line_numbers: list[int] | None = None  # 1-based file line of each sample, for error messages
    units: str = "g"  # the unit the file was written in (samples_g are converted to g)
    units_basis: str = "given"  # how units was decided: given, gravity, range or small (see detect_units)

    def line_of(self, index: int) -> int:
        # Without recorded lines assume the plain layout: header on line 1, no blank lines.
        return self.line_numbers[index] if self.line_numbers is not None else index + 2


# -- writing ------------------------------------------------------------------------------------------------


def _format_value(value: float) -> str:
    # '%.6f' is readable and exact for whole micro-g (every multiple of 0.00024 g written as k * 240 / 1e6).
    # A value computed as k * 0.00024 may sit one ulp off that decimal; then fall back to repr, the shortest
    # text that parses back to the same float, so every finite float round-trips exactly.
    text = f"{value:.6f}"
    return text if float(text) == value else repr(value)


def write_csv(
    path: PathLike,
    samples_g: np.ndarray,
    sample_rate_hz: float,
    labels: Sequence[str] | None = None,
    start_s: float = 0.0,
) -> None:
    """Write samples (N, 3) in g with timestamps start_s + i / sample_rate_hz ('%.6f' seconds)."""
    samples = np.asarray(samples_g, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 3:
        raise ValueError(f"samples_g must have shape (N, 3), got {samples.shape}")
    bad = ~np.isfinite(samples)
    if bad.any():
        index, axis = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"sample index {index} axis {'xyz'[axis]} is {samples[index, axis]}; CSV values must be finite"
        )
    if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
        raise ValueError(f"sample_rate_hz must be a positive finite number, got {sample_rate_hz}")
    if not math.isfinite(start_s):
        raise ValueError(f"start_s must be finite, got {start_s}")
    if labels is not None:
        labels = list(labels)
        if len(labels) != len(samples):
            raise ValueError(f"got {len(labels)} labels for {len(samples)} samples")
        for index, label in enumerate(labels):
            if not isinstance(label, str) or any(c in label for c in "\r\n"):
                raise ValueError(f"label at sample index {index} must be a single-line string, got {label!r}")
    times = [f"{start_s + i / sample_rate_hz:.6f}" for i in range(len(samples))]
    # Readers require strictly increasing timestamps; microsecond text cannot separate samples above ~1 MHz.
    for index in range(1, len(times)):
        if float(times[index]) <= float(times[index - 1]):
            raise ValueError(f"sample rate {sample_rate_hz} Hz is too high for microsecond timestamps")

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*REQUIRED_COLUMNS, LABEL_COLUMN] if labels is not None else REQUIRED_COLUMNS)
    for index, (time, row) in enumerate(zip(times, samples, strict=True)):
        values = [time, *(_format_value(float(v)) for v in row)]
        writer.writerow(values + [labels[index]] if labels is not None else values)
    Path(path).write_text(buffer.getvalue(), encoding="utf-8")


# -- reading ------------------------------------------------------------------------------------------------


def _parse_header(path: PathLike, header: list[str], line: int, require_label: bool) -> dict[str, int]:
    names = [name.strip() for name in header]
    required = [*REQUIRED_COLUMNS, LABEL_COLUMN] if require_label else list(REQUIRED_COLUMNS)
    missing = [name for name in required if name not in names]
    if missing:
        raise SensorCsvError(
            path,
            line,
            f"missing column(s) {', '.join(missing)} (header is {','.join(names)!r})",
            f"make the first line the header {EXPECTED_HEADER}"
            + (" including the label column" if require_label else ""),
        )
    known = {*REQUIRED_COLUMNS, LABEL_COLUMN}
    for name in names:
        if name not in known:
            raise SensorCsvError(
                path, line, f"unknown column {name!r}", f"use only the columns {EXPECTED_HEADER}; accelerations in g"
            )
        if names.count(name) > 1:
            raise SensorCsvError(path, line, f"column {name!r} appears twice", "keep one column of each name")
    return {name: names.index(name) for name in names}


def _parse_number(path: PathLike, text: str, line: int, column: str) -> float:
    what = "seconds" if column == "timestamp_s" else "g"
    try:
        value = float(text)
    except ValueError:
        raise SensorCsvError(
            path, line, f"column {column} value {text!r} is not a number", f"write a decimal number in {what}"
        ) from None
    if not math.isfinite(value):
        raise SensorCsvError(
            path,
            line,
            f"column {column} value {text!r} is not finite",
            f"replace it with a measured value in {what} or drop the row",
        )
    return value


def _line_of_largest(samples: np.ndarray, lines: Sequence[int]) -> tuple[int, float]:
    index = int(np.abs(samples).max(axis=1).argmax())
    return lines[index], float(np.abs(samples[index]).max())


def detect_units(path: PathLike, samples: np.ndarray, lines: Sequence[int]) -> tuple[str, str]:
    """g, m/s2 or mg for a whole file, from gravity (mean vectors of short stretches) or, without gravity, the
    largest value; and the basis: "gravity", "range", or "small" (no gravity, all values under 2: taken as g, weakly).

    Raises SensorCsvError (naming the line of the largest value) when the values fit none, or fit two
    (a gravity-removed recording whose values could be g or m/s^2): the fix is to say --units."""
    line, largest = _line_of_largest(samples, lines)
    mag = np.linalg.norm(samples, axis=1)
    median = float(np.median(mag))
    chunks = max(len(samples) // GRAVITY_CHUNK, 1)
    means = samples[: chunks * GRAVITY_CHUNK].reshape(chunks, -1, 3).mean(axis=1) if len(samples) >= GRAVITY_CHUNK \
        else samples.mean(axis=0, keepdims=True)
    gravity = float(np.median(np.linalg.norm(means, axis=1)))
    ask = "say which with --units g|m/s2|mg (or convert the file to g)"
    if largest > MAX_PLAUSIBLE:
        raise SensorCsvError(path, line, f"value {largest:.4g} is beyond +/-{MAX_FULL_SCALE_G:g} g in g, m/s^2 "
                             "and milli-g alike", "fix or drop the row; accelerations are in g")
    lowest = GRAVITY_RANGE["g"][0]  # below 0.3 of any unit a steady mean is no gravity (an offset, noise)
    if gravity >= lowest and GRAVITY_RATIO[0] * median <= gravity <= GRAVITY_RATIO[1] * median:  # gravity: its size
        for unit, (lo, hi) in GRAVITY_RANGE.items():
            if lo <= gravity < hi:
                return unit, "gravity"
        raise SensorCsvError(path, line, f"the mean acceleration (gravity) is {gravity:.4g}, which is not 1 g in "
                             "g, m/s^2 or milli-g", ask)
    if largest < G_ONLY_BELOW:
        return "g", "small"
    if largest <= MAX_FULL_SCALE_G:
        raise AmbiguousUnitsError(path, line, f"no gravity in the data (mean vector {gravity:.3g} per "
                                  f"{GRAVITY_CHUNK} samples, median |a| {median:.3g}) and values up to "
                                  f"{largest:.3g}: that is g or m/s^2, the file cannot tell", ask)
    if largest <= MAX_FULL_SCALE_G * STANDARD_GRAVITY * 1.05:
        return "m/s2", "range"
    return "mg", "range"


def _convert_units(path: PathLike, samples: np.ndarray, lines: Sequence[int], units: str
                   ) -> tuple[np.ndarray, str, str]:
    if units not in (*UNITS, "auto"):
        raise ValueError(f"units {units!r}: choose one of {', '.join(UNITS)} or auto")
    unit, basis = detect_units(path, samples, lines) if units == "auto" else (units, "given")
    line, largest = _line_of_largest(samples, lines)
    if largest * UNITS[unit] > HUGE_G:
        raise SensorCsvError(path, line, f"value {largest:.4g} {UNIT_NAMES[unit]} is no acceleration a sensor "
                             f"measures (beyond {HUGE_G:g} g)", "fix or drop the row")
    if unit != "g":
        warnings.warn(
            f"{os.fspath(path)}: the values look like {UNIT_NAMES[unit]} rather than g"
            + (" (detected)" if units == "auto" else "")
            + f"; converted to g (x {UNITS[unit]:.6g}). Pass --units to override",
            SensorUnitWarning,
            stacklevel=3,
        )
    return samples * UNITS[unit], unit, basis


def _read_text(path: Path) -> str:
    """The file as text; a folder, a missing file or bytes that are not UTF-8 are SensorCsvErrors."""
    if path.is_dir():
        raise SensorCsvError(path, 1, "is a folder, not a CSV file", "give one .csv file (or a .resd file)")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SensorCsvError(path, 1, "no such file", "check the path") from None
    try:
        # utf-8-sig drops the byte-order mark spreadsheet programs put in front of the header.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SensorCsvError(
            path,
            line,
            f"byte 0x{data[exc.start]:02x} at column {column} is not UTF-8 text",
            "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`) or remove the character",
        ) from None


def _records(path: Path, reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """csv.reader's rows; its own errors (a field over the size limit...) become SensorCsvErrors."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = getattr(reader, "line_num", 0)
            raise SensorCsvError(path, line, f"not readable as CSV ({exc})", "one sample per line, values "
                                 "separated by commas") from None
        yield record


def read_csv(path: PathLike, require_label: bool = False, units: str = "auto") -> CsvRecording:
    """Read and validate a sensor CSV. Blank lines are skipped. `units`: g, m/s2, mg or auto (detect_units);
    values in another unit than g are converted to g with a SensorUnitWarning."""
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise SensorCsvError(path, 1, "the file is empty", f"start the file with the header line {EXPECTED_HEADER}")
    reader = csv.reader(io.StringIO(text, newline=""))
    columns: dict[str, int] | None = None
    times: list[float] = []
    rows: list[list[float]] = []
    labels: list[str] = []
    lines: list[int] = []
    for record in _records(path, reader):
        line = reader.line_num
        if not record or all(not cell.strip() for cell in record):
            continue
        if columns is None:
            columns = _parse_header(path, record, line, require_label)
            continue
        if len(record) != len(columns):
            raise SensorCsvError(
                path,
                line,
                f"expected {len(columns)} columns ({','.join(columns)}) but found {len(record)}",
                "give every row one value per header column, separated by commas",
            )
        time = _parse_number(path, record[columns["timestamp_s"]].strip(), line, "timestamp_s")
        if times and time <= times[-1]:
            raise SensorCsvError(
                path,
                line,
                f"timestamp {time} s is not after the previous one ({times[-1]} s on line {lines[-1]})",
                "timestamps must be strictly increasing; sort the rows or remove the duplicate",
            )
        values = [_parse_number(path, record[columns[name]].strip(), line, name) for name in REQUIRED_COLUMNS[1:]]
        if LABEL_COLUMN in columns:
            label = record[columns[LABEL_COLUMN]].strip()
            if "\n" in label or "\r" in label:
                raise SensorCsvError(path, line, f"the label {label[:20]!r}... runs over a line break (a quote "
                                     "that is never closed?)", "close the quote or remove it")
            if require_label and not label:
                raise SensorCsvError(path, line, "the label is empty", "write the gesture label in the label column")
            labels.append(label)
        times.append(time)
        rows.append(values)
        lines.append(line)
    if columns is None:  # unreachable: a non-blank file has a first non-blank record
        raise SensorCsvError(path, 1, "no header found", f"start the file with {EXPECTED_HEADER}")
    if not rows:
        raise SensorCsvError(
            path, reader.line_num, "the file has a header but no samples", "add one row per sample below the header"
        )
    samples, unit, basis = _convert_units(path, np.array(rows, dtype=np.float64).reshape(-1, 3), lines, units)
    return CsvRecording(
        path=path,
        timestamps_s=np.array(times, dtype=np.float64),
        samples_g=samples,
        labels=labels if LABEL_COLUMN in columns else None,
        line_numbers=lines,
        units=unit,
        units_basis=basis,
    )


def check_regular(rec: CsvRecording, expected_rate_hz: float | None = None, tolerance: float = 0.05) -> float:
    """Return the measured sample rate; raise SensorCsvError at the first interval off by more than `tolerance`.

    Intervals are compared with 1 / expected_rate_hz if given, else with the median interval.
    """
    count = len(rec.timestamps_s)
    if count < 2:
        raise SensorCsvError(
            rec.path,
            rec.line_of(0) if count else 1,
            "at least two samples are needed to measure a sample rate",
            "record a longer sequence",
        )
    intervals = np.diff(rec.timestamps_s)
    reference = 1.0 / expected_rate_hz if expected_rate_hz is not None else float(np.median(intervals))
    deviation = np.abs(intervals - reference) / reference
    off = np.flatnonzero(deviation > tolerance)
    if off.size:
        i = int(off[0])
        raise SensorCsvError(
            rec.path,
            rec.line_of(i + 1),
            f"interval {intervals[i]:.6f} s since line {rec.line_of(i)} deviates {deviation[i]:.1%} from the "
            f"{'expected' if expected_rate_hz is not None else 'median'} {reference:.6f} s "
            f"(tolerance {tolerance:.0%})",
            "resample the recording to a constant rate or fix the timestamps (a dropped or duplicated sample?)",
        )
    return (count - 1) / float(rec.timestamps_s[-1] - rec.timestamps_s[0])
