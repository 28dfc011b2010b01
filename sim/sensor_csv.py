"""The human-editable sensor format: CSV with columns `timestamp_s,ax_g,ay_g,az_g[,label]`, one row per sample.

Errors name the file and the 1-based line and say how to fix the file, because people edit these by hand.
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REQUIRED_COLUMNS = ("timestamp_s", "ax_g", "ay_g", "az_g")
LABEL_COLUMN = "label"
EXPECTED_HEADER = ",".join(REQUIRED_COLUMNS) + f"[,{LABEL_COLUMN}]"
STANDARD_GRAVITY = 9.80665  # m/s^2 per g

# Median |a| ranges that betray a unit mistake. Gestures recorded in g sit near 1 g (gravity), so a
# median of 5-50 is almost surely m/s^2 and 500-5000 milli-g.
MS2_MEDIAN_RANGE = (5.0, 50.0)
MILLI_G_MEDIAN_RANGE = (500.0, 5000.0)

PathLike = str | os.PathLike[str]


class SensorCsvError(ValueError):
    """A sensor CSV file is malformed; the message names the file, the 1-based line and the fix."""

    def __init__(self, path: PathLike, line: int, problem: str, fix: str) -> None:
        super().__init__(f"{os.fspath(path)}, line {line}: {problem}. Fix: {fix}")
        self.path = Path(path)
        self.line = line


class SensorUnitWarning(UserWarning):
    """The values in a sensor CSV look like m/s^2 or milli-g instead of g."""


@dataclass
class CsvRecording:
    path: Path
    timestamps_s: np.ndarray  # (N,) float64, strictly increasing
    samples_g: np.ndarray  # (N, 3) float64
    labels: list[str] | None = None
    line_numbers: list[int] | None = None  # 1-based file line of each sample, for error messages

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


def _warn_units(path: PathLike, samples: np.ndarray) -> None:
    if len(samples) == 0:
        return
    median = float(np.median(np.linalg.norm(samples, axis=1)))
    if MS2_MEDIAN_RANGE[0] <= median < MS2_MEDIAN_RANGE[1]:
        warnings.warn(
            f"{os.fspath(path)}: median |a| is {median:.3g}, which looks like m/s^2 rather than g; "
            f"divide by {STANDARD_GRAVITY} to convert",
            SensorUnitWarning,
            stacklevel=3,
        )
    elif MILLI_G_MEDIAN_RANGE[0] <= median < MILLI_G_MEDIAN_RANGE[1]:
        warnings.warn(
            f"{os.fspath(path)}: median |a| is {median:.4g}, which looks like milli-g rather than g; "
            "divide by 1000 to convert",
            SensorUnitWarning,
            stacklevel=3,
        )


def read_csv(path: PathLike, require_label: bool = False) -> CsvRecording:
    """Read and validate a sensor CSV. Blank lines are skipped; warns (SensorUnitWarning) on unit mix-ups."""
    path = Path(path)
    # utf-8-sig drops the byte-order mark spreadsheet programs put in front of the header.
    text = path.read_text(encoding="utf-8-sig")
    if not text.strip():
        raise SensorCsvError(path, 1, "the file is empty", f"start the file with the header line {EXPECTED_HEADER}")
    reader = csv.reader(io.StringIO(text, newline=""))
    columns: dict[str, int] | None = None
    times: list[float] = []
    rows: list[list[float]] = []
    labels: list[str] = []
    lines: list[int] = []
    for record in reader:
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
    samples = np.array(rows, dtype=np.float64).reshape(-1, 3)
    _warn_units(path, samples)
    return CsvRecording(
        path=path,
        timestamps_s=np.array(times, dtype=np.float64),
        samples_g=samples,
        labels=labels if LABEL_COLUMN in columns else None,
        line_numbers=lines,
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
