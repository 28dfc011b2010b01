"""`simulate --data FILE`: a CSV or RESD file -> windows at the model's rate -> PRED lines as they come.

Sample rates: a file within 2 % of the model's rate is replayed as it is. From half to 16 times the model's
rate it is resampled to the model's rate by linear interpolation per axis on the file's timestamps (the method
`train --data` uses for recordings; no low-pass filter, so content above the model's Nyquist frequency
aliases). Outside that range the replay is refused: upsampling a file recorded far below the model's rate
cannot restore the gesture, and a rate far above any sensor's output data rate is a broken file (a RESD period
in the wrong unit...). What happened is said on stderr.

Budget: the emulated board stops after BOOT_BUDGET instructions plus WINDOW_BUDGET per window fed, so a
firmware hang is caught within one window however long the file is (a window takes ~60 k instructions with
mlp, ~130 k with cnn).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyml_disco.sim import protocol, resd, sensor_csv
from tinyml_disco.sim.session import DeviceSession, EmbeddedBackend
from tinyml_disco.training.recordings import resample

MIN_RATE_RATIO = 0.5  # of the model's rate: below, refuse
MAX_RATE_RATIO = 16.0  # above, refuse (1.6 kHz for a 100 Hz model: the sensors' highest ODR)
SAME_RATE_TOLERANCE = 0.02  # within this, replay as recorded
BOOT_BUDGET = 10_000_000
WINDOW_BUDGET = 10_000_000


class ReplayError(ValueError):
    """The data file cannot be replayed on this model; the message names the file and the fix."""


@dataclass
class ReplayData:
    path: Path
    windows_g: np.ndarray  # (W, window, 3) at the model's rate
    truth: list[str] | None  # label of each window's last sample, when the file has labels
    file_rate_hz: float
    notes: list[str] = field(default_factory=list)  # what was done to the data, for stderr


def _resd_samples(path: Path) -> tuple[np.ndarray, np.ndarray, None, float]:
    """Channel 0 of a RESD file: constant-frequency blocks as one series, or timestamped blocks on their times."""
    blocks = [b for b in resd.read_blocks(path) if b.channel == 0]
    if all(b.period_ns is not None for b in blocks):
        samples, rate = resd.read_acceleration(path)  # checks one period and contiguous blocks
        return np.arange(len(samples)) / rate, samples, None, rate
    times = np.concatenate([b.timestamps_ns.astype(np.float64) if b.timestamps_ns is not None
                            else b.start_time_ns + np.arange(len(b.samples_ug)) * float(b.period_ns or 0)
                            for b in blocks]) * 1e-9
    bad = np.flatnonzero(np.diff(times) <= 0)
    if bad.size:
        raise ReplayError(f"{path}: sample {int(bad[0]) + 1} of channel 0 is not later than the one before "
                          f"({times[bad[0] + 1]:.9f} s <= {times[bad[0]]:.9f} s). Fix: timestamps must increase")
    samples = np.concatenate([b.samples_ug for b in blocks]).astype(np.float64) / 1e6
    if len(times) < 2:
        raise ReplayError(f"{path}: one sample only; a replay needs at least one window. Fix: record longer")
    return times - times[0], samples, None, (len(times) - 1) / float(times[-1] - times[0])


def _file_samples(path: Path, units: str) -> tuple[np.ndarray, np.ndarray, list[str] | None, float]:
    """Timestamps (s), samples (N, 3) in g, labels or None, the file's mean sample rate."""
    if path.is_dir():
        raise ReplayError(f"{path} is a folder; simulate --data replays one .csv or .resd file "
                          "(train --data takes a folder of recordings)")
    if not path.exists():
        raise ReplayError(f"{path}: no such file; give a .csv or .resd file")
    if path.suffix.lower() == ".resd":
        return _resd_samples(path)
    rec = sensor_csv.read_csv(path, units=units)
    t = rec.timestamps_s
    if len(t) < 2:
        raise ReplayError(f"{path}: one sample only; a replay needs at least one window. Fix: record longer")
    return t, rec.samples_g, rec.labels, (len(t) - 1) / float(t[-1] - t[0])


def load_replay(path: Path, sample_rate_hz: int, window: int, units: str = "auto") -> ReplayData:
    """The file's windows at `sample_rate_hz` (resampled or refused, see the module doc)."""
    path = Path(path)
    t, g, labels, rate = _file_samples(path, units)
    notes: list[str] = []
    ratio = rate / sample_rate_hz
    if abs(ratio - 1.0) <= SAME_RATE_TOLERANCE:
        notes.append(f"{path}: {rate:.4g} Hz, the model's rate ({sample_rate_hz} Hz): replayed as recorded")
    elif MIN_RATE_RATIO <= ratio <= MAX_RATE_RATIO:
        g, resampled = resample(t, g, labels or [""] * len(t), sample_rate_hz)
        labels = resampled if labels is not None else None
        notes.append(f"{path}: {rate:.4g} Hz resampled to the model's {sample_rate_hz} Hz (linear interpolation, "
                     f"{len(t)} -> {len(g)} samples)")
    else:
        raise ReplayError(
            f"{path}: sample rate {rate:.4g} Hz is outside {MIN_RATE_RATIO * sample_rate_hz:g}-"
            f"{MAX_RATE_RATIO * sample_rate_hz:g} Hz, the range this model ({sample_rate_hz} Hz) can be resampled "
            f"from. Fix: record at {sample_rate_hz} Hz" + (" (or check the block's period: it is in ns)"
                                                          if path.suffix.lower() == ".resd" else ""))
    count = len(g) // window
    if count == 0:
        raise ReplayError(f"{path}: {len(g)} samples at {sample_rate_hz} Hz ({len(g) / sample_rate_hz:.2f} s"
                          + (f", resampled from {rate:.4g} Hz" if len(g) != len(t) else "") + ") are "
                          f"shorter than one window of {window} samples ({window / sample_rate_hz:.2f} s). "
                          "Fix: record a longer sequence")
    rest = len(g) - count * window
    if rest:
        notes.append(f"{path}: the last {rest} samples (less than a window) are not replayed")
    truth = list(labels[window - 1:count * window:window]) if labels else None
    return ReplayData(path, np.asarray(g[:count * window]).reshape(count, window, 3), truth, rate, notes)


def stream_predictions(session: DeviceSession, windows_g: np.ndarray,
                       window_budget: int = WINDOW_BUDGET) -> Iterator[protocol.Prediction]:
    """One PRED per window, yielded as soon as the firmware prints it. On the embedded board every window
    may use `window_budget` more instructions, so a hang stops the replay within one window."""
    backend = session.backend
    for win in np.asarray(windows_g, dtype=np.float64):
        if isinstance(backend, EmbeddedBackend):
            backend.extend_budget(window_budget)
        yield from session.classify(win[None])
