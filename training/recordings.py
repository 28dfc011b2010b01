"""Users' own recordings: a folder of CSV files (timestamp_s,ax_g,ay_g,az_g,label) -> labelled windows.

Each file is one recording (one person / session). Steps, each with errors or warnings that name the file
and the line (sim/sensor_csv.py does the parsing):
1. read and validate (missing columns, non-numbers, timestamps not increasing, unit mix-ups: m/s^2, milli-g);
2. find gaps (an interval over `gap_factor` times the median): the recording is cut there, windows never
   span a gap; smaller irregularities are warned about and absorbed by resampling;
3. resample each gap-free segment to the model rate (linear interpolation; a label holds until the next row);
4. cut windows (hop `hop`) inside runs of one label, convert g to the sensor's raw counts (round, clip);
5. split train/validation/test: the user's train/ val/ test/ folders, else by recording with every class in
   every split (training/splits.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyml_disco.sim import sensor_csv
from tinyml_disco.training import splits
from tinyml_disco.training.synth import LABELS, SensorSpec, Windows, to_raw


class RecordingWarning(UserWarning):
    """Something in a recording is suspicious but usable (the message names file and line)."""


@dataclass
class Recording:
    path: Path
    raw: np.ndarray  # (W, window, 3) int16 counts
    labels: list[str]  # one per window
    units: str = "g"  # the unit the file was written in (converted to g, then counts)
    units_basis: str = "given"  # tinyml_disco.sim.sensor_csv.detect_units: given, gravity, range or small
    rate_hz: float = 0.0  # the file's median sample rate (resampled to the model's)


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
    return Recording(path, raw, labels, units=rec.units, units_basis=rec.units_basis, rate_hz=median_rate)


def label_order(found: set[str]) -> tuple[str, ...]:
    """Built-in gesture names keep their usual order (idle first); others follow alphabetically."""
    known = [lab for lab in (*LABELS, "unknown") if lab in found]
    return (*known, *sorted(found - set(known)))


@dataclass
class RecordingSplits:
    train: Windows
    val: Windows
    test: Windows
    files: dict[str, list[str]]  # split -> files (relative to the data folder) that gave it windows
    layout: str = "seeded"  # split by the seed (training/splits.py), or "given" (train/ val/ test/ folders)
    time_split: dict[str, list[str]] = field(default_factory=dict)  # class -> files split by time for it
    file_info: dict[str, dict] = field(default_factory=dict)  # file -> units, rate_hz, windows


def _load_all(files: list[Path], sample_rate_hz: int, window: int, hop: int, sensor: SensorSpec,
              units: str) -> list[Recording]:
    """Every file, units detected per file (units="auto"); files that cannot tell their unit alone (gravity-free:
    values all under 2, or between 2 and 16, which could be g or m/s^2) take the unit every other file was
    detected in, if they all agree (a gravity-removed data set's idle sessions); else the ambiguity is an error."""
    recs: list[Recording | None] = []
    unsure: dict[int, sensor_csv.AmbiguousUnitsError | None] = {}
    for i, f in enumerate(files):
        try:
            rec = load_recording(f, sample_rate_hz, window, hop, sensor, units=units)
        except sensor_csv.AmbiguousUnitsError as exc:
            recs.append(None)
            unsure[i] = exc
            continue
        recs.append(rec)
        if rec.units_basis == "small":
            unsure[i] = None
    sure = {r.units for r in recs if r is not None and r.units_basis in ("gravity", "range")}
    for i, exc in unsure.items():
        if len(sure) != 1:
            if exc is not None:
                raise exc
            continue
        unit = next(iter(sure))
        if exc is None and unit == "g":
            continue
        warnings.warn(f"{files[i]}: its values alone cannot tell the unit; read as {sensor_csv.UNIT_NAMES[unit]} "
                      "like the other files of the folder (pass --units to override)", RecordingWarning, stacklevel=3)
        recs[i] = load_recording(files[i], sample_rate_hz, window, hop, sensor, units=unit)
    return [r for r in recs if r is not None]


def _given_layout(data_dir: Path) -> bool:
    present = [s for s in splits.SPLITS if (data_dir / s).is_dir()]
    if present and not {"train", "test"} <= set(present):
        missing = " and ".join(f"{s}/" for s in ("train", "test") if s not in present)
        raise ValueError(f"--data {data_dir}: has {', '.join(f'{s}/' for s in present)} but no {missing} folder; "
                         "give train/ and test/ (val/ optional), or no split folders to let train split the files")
    return bool(present)


def load_dir(data_dir: Path, sample_rate_hz: int, window: int, sensor: SensorSpec, seed: int,
             hop: int | None = None, units: str = "auto") -> RecordingSplits:
    """Every *.csv under data_dir -> train/val/test Windows: the folders' split if data_dir has train/ and
    test/ (and optionally val/), else split by file with every class in every split (training/splits.py)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"--data {data_dir}: no such folder (give a folder of CSV recordings)")
    files = sorted(data_dir.rglob("*.csv"))
    if not files:
        raise FileNotFoundError(f"--data {data_dir}: no .csv files (expected columns "
                                f"{','.join(sensor_csv.REQUIRED_COLUMNS)},label)")
    given = _given_layout(data_dir)
    rel = [f.relative_to(data_dir) for f in files]
    if given:
        stray = [str(r) for r in rel if r.parts[0] not in splits.SPLITS]
        if stray:
            raise ValueError(f"--data {data_dir}: has train/ and test/ folders, but {', '.join(stray[:3])} "
                             "lie outside train/, val/ and test/; move them into one of those folders")
    hop = hop or max(window // 2, 1)
    recs = _load_all(files, sample_rate_hz, window, hop, sensor, units)
    names = label_order({lab for r in recs for lab in r.labels})
    if len(names) < 2:
        raise ValueError(f"--data {data_dir}: found label(s) {list(names)}; a classifier needs at least two")
    if given:
        parts = [splits.Part(i, r.parts[0], list(range(len(recs[i].labels)))) for i, r in enumerate(rel)]
        splits.check_given({s: [lab for p in parts if p.split == s for lab in recs[p.file].labels]
                            for s in splits.SPLITS}, list(names))
        time_split: dict[str, list[int]] = {}
    else:
        gap = -(-window // hop) - 1  # windows that overlap the next part's first one
        plan = splits.plan_split([r.labels for r in recs], list(names), seed, gap)
        parts, time_split = plan.parts, plan.time_split

    def windows(split: str) -> Windows:
        ps = [p for p in parts if p.split == split and p.index]
        raw = (np.concatenate([recs[p.file].raw[p.index] for p in ps]) if ps
               else np.empty((0, window, 3), np.int16))
        labels = np.array([names.index(recs[p.file].labels[i]) for p in ps for i in p.index], dtype=np.int64)
        ids = np.array([p.file for p in ps for _ in p.index], dtype=np.int64)
        return Windows(raw, labels, names, sensor, sample_rate_hz, groups=ids)

    listed = {s: list(dict.fromkeys(str(rel[p.file]) for p in parts if p.split == s and p.index))
              for s in splits.SPLITS}
    return RecordingSplits(windows("train"), windows("val"), windows("test"), listed,
                           "given" if given else "seeded",
                           {c: [str(rel[f]) for f in fs] for c, fs in time_split.items()},
                           {str(rel[i]): {"units": r.units, "rate_hz": round(r.rate_hz, 3), "windows": len(r.labels)}
                            for i, r in enumerate(recs)})
