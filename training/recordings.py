"""Users' own recordings: a folder of CSV files (timestamp_s,ax_g,ay_g,az_g,label) -> labelled windows.

Each file is one recording (one person / session). Steps, each with errors or warnings that name the file
and the line (sim/sensor_csv.py does the parsing):
1. read and validate (missing columns, non-numbers, timestamps not increasing, unit mix-ups: m/s^2, milli-g);
2. find gaps (an interval over `gap_factor` times the median): the recording is cut there, windows never
   span a gap; smaller irregularities are warned about and absorbed by resampling;
3. resample each gap-free segment to the model rate (linear interpolation; a label holds until the next row);
4. cut windows (hop `hop`) inside runs of one label, convert g to the sensor's raw counts (round, clip);
5. split train/validation/test by recording, so no recording leaks across splits.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim import sensor_csv
from training.synth import LABELS, SensorSpec, Windows, to_raw


class RecordingWarning(UserWarning):
    """Something in a recording is suspicious but usable (the message names file and line)."""


@dataclass
class Recording:
    path: Path
    raw: np.ndarray  # (W, window, 3) int16 counts
    labels: list[str]  # one per window


def _segments(rec: sensor_csv.CsvRecording, gap_factor: float) -> list[tuple[int, int]]:
    """Index ranges [start, stop) of gap-free stretches; warns about irregular intervals."""
    dt = np.diff(rec.timestamps_s)
    median = float(np.median(dt))
    off = np.flatnonzero((np.abs(dt - median) > 0.25 * median) & (dt <= gap_factor * median))
    if off.size:
        i = int(off[0])
        warnings.warn(f"{rec.path}, line {rec.line_of(i + 1)}: interval {dt[i]:.6f} s since line {rec.line_of(i)} "
                      f"deviates {abs(dt[i] - median) / median:.0%} from the median {median:.6f} s "
                      f"({off.size} such interval(s)); resampling absorbs it, but check the recording "
                      "(a late or duplicated sample?)", RecordingWarning, stacklevel=3)
    cuts = np.flatnonzero(dt > gap_factor * median) + 1
    for c in cuts:
        warnings.warn(f"{rec.path}, line {rec.line_of(int(c))}: gap of {dt[c - 1]:.3f} s since line "
                      f"{rec.line_of(int(c) - 1)} (median interval {median:.4f} s); no window spans it",
                      RecordingWarning, stacklevel=3)
    bounds = [0, *cuts.tolist(), len(dt) + 1]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b - a >= 2]


def resample(t: np.ndarray, g: np.ndarray, labels: Sequence[str], rate: float) -> tuple[np.ndarray, list[str]]:
    """Samples at times t -> samples every 1/rate s from t[0] (linear interpolation per axis, no low-pass);
    each new sample takes the label of the row in force at its time."""
    grid = np.arange(t[0], t[-1] + 1e-9, 1.0 / rate)
    out = np.stack([np.interp(grid, t, g[:, k]) for k in range(3)], axis=1)
    idx = np.searchsorted(t, grid + 1e-9, side="right") - 1  # the row in force at each grid time
    return out, [labels[i] for i in idx]


def _runs(labels: Sequence[str]) -> list[tuple[int, int, str]]:
    runs: list[tuple[int, int, str]] = []
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            runs.append((start, i, labels[start]))
            start = i
    return runs


def load_recording(path: Path, sample_rate_hz: int, window: int, hop: int, sensor: SensorSpec,
                   gap_factor: float = 2.5, units: str = "auto") -> Recording:
    """One CSV file -> its windows (raw counts) and their labels. units: g, m/s2, mg or auto (per file)."""
    rec = sensor_csv.read_csv(path, require_label=True, units=units)
    assert rec.labels is not None
    if len(rec.timestamps_s) < 2:
        raise sensor_csv.SensorCsvError(path, rec.line_of(0), "only one sample", "record a longer sequence")
    median_rate = 1.0 / float(np.median(np.diff(rec.timestamps_s)))
    if median_rate < 0.9 * sample_rate_hz:
        warnings.warn(f"{path}: recorded at {median_rate:.1f} Hz, below the model rate {sample_rate_hz} Hz; "
                      "upsampling cannot restore what was not recorded", RecordingWarning, stacklevel=2)
    windows: list[np.ndarray] = []
    labels: list[str] = []
    for a, b in _segments(rec, gap_factor):
        g, labs = resample(rec.timestamps_s[a:b], rec.samples_g[a:b], rec.labels[a:b], sample_rate_hz)
        for start, stop, lab in _runs(labs):
            for s in range(start, stop - window + 1, hop):
                windows.append(to_raw(g[s:s + window], sensor))
                labels.append(lab)
    raw = np.stack(windows) if windows else np.empty((0, window, 3), np.int16)
    if not windows:
        warnings.warn(f"{path}: no label run is {window} samples ({window / sample_rate_hz:.2f} s) long at "
                      f"{sample_rate_hz} Hz, so it gives no window", RecordingWarning, stacklevel=2)
    return Recording(path, raw, labels)


def label_order(found: set[str]) -> tuple[str, ...]:
    """Built-in gesture names keep their usual order (idle first); others follow alphabetically."""
    known = [lab for lab in (*LABELS, "unknown") if lab in found]
    return (*known, *sorted(found - set(known)))


@dataclass
class RecordingSplits:
    train: Windows
    val: Windows
    test: Windows
    files: dict[str, list[str]]  # split -> file names


def split_by_recording(recs: list[Recording], seed: int, fractions: tuple[float, float] = (0.15, 0.15)
                       ) -> dict[str, list[Recording]]:
    """Whole recordings to test / validation / train: shuffled by seed; the first two go to test and
    validation, the rest to test or validation while they are below their share of windows, else to train."""
    if len(recs) < 3:
        raise ValueError(f"{len(recs)} recording(s) with windows found; at least 3 CSV files are needed to split "
                         "train, validation and test by recording (record more sessions, or split one into files)")
    order = [recs[int(i)] for i in np.random.default_rng(seed).permutation(len(recs))]
    total = sum(len(r.labels) for r in recs)
    out: dict[str, list[Recording]] = {"train": [], "val": [order[1]], "test": [order[0]]}
    rest = order[2:]
    for j, r in enumerate(rest):
        size = {k: sum(len(x.labels) for x in out[k]) for k in ("test", "val")}
        if j == len(rest) - 1 and not out["train"]:
            out["train"].append(r)
        elif size["test"] < fractions[1] * total:
            out["test"].append(r)
        elif size["val"] < fractions[0] * total:
            out["val"].append(r)
        else:
            out["train"].append(r)
    return out


def load_dir(data_dir: Path, sample_rate_hz: int, window: int, sensor: SensorSpec, seed: int,
             hop: int | None = None) -> RecordingSplits:
    """Every *.csv under data_dir -> train/val/test Windows split by recording."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"--data {data_dir}: no such folder (give a folder of CSV recordings)")
    files = sorted(data_dir.rglob("*.csv"))
    if not files:
        raise FileNotFoundError(f"--data {data_dir}: no .csv files (expected columns "
                                f"{','.join(sensor_csv.REQUIRED_COLUMNS)},label)")
    hop = hop or max(window // 2, 1)
    recs = [load_recording(f, sample_rate_hz, window, hop, sensor) for f in files]
    recs = [r for r in recs if r.labels]
    names = label_order({lab for r in recs for lab in r.labels})
    if len(names) < 2:
        raise ValueError(f"--data {data_dir}: found label(s) {list(names)}; a classifier needs at least two")
    parts = split_by_recording(recs, seed)
    for split, rs in parts.items():
        missing = set(names) - {lab for r in rs for lab in r.labels}
        if missing:
            warnings.warn(f"--data {data_dir}: the {split} split ({', '.join(r.path.name for r in rs)}) has no "
                          f"window of {', '.join(sorted(missing))}", RecordingWarning, stacklevel=2)

    def windows(rs: list[Recording]) -> Windows:
        ids = [files.index(r.path) for r in rs for _ in r.labels]
        raw = np.concatenate([r.raw for r in rs]) if rs else np.empty((0, window, 3), np.int16)
        labels = np.array([names.index(lab) for r in rs for lab in r.labels], dtype=np.int64)
        return Windows(raw, labels, names, sensor, sample_rate_hz, groups=np.array(ids, dtype=np.int64))

    return RecordingSplits(windows(parts["train"]), windows(parts["val"]), windows(parts["test"]),
                           {k: [r.path.name for r in rs] for k, rs in parts.items()})
