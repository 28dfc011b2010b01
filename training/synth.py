"""Synthetic 3-axis accelerometer gestures, deterministic from a seed.

Each window is what a LIS3DSH at +/-8 g and 100 Hz would report while the board, held at a random
orientation, performs one gesture: specific force (motion minus gravity) rotated into the sensor
frame, plus per-axis bias and white noise, clipped at full scale and rounded to the sensor's LSB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LABELS: tuple[str, ...] = ("idle", "shake", "circle", "flick")


@dataclass(frozen=True)
class SensorSpec:
    """Output format of the emulated accelerometer (LIS3DSH, CTRL_REG5 FSCALE=011)."""

    name: str = "LIS3DSH"
    full_scale_g: int = 8
    lsb_ug: int = 240  # 0.24 mg/digit at +/-8 g (datasheet), so RESD micro-g values stay exact
    noise_g: float = 0.004  # ~150 ug/sqrt(Hz) over a 50 Hz bandwidth plus quantization, rounded up

    @property
    def lsb_g(self) -> float:
        return self.lsb_ug * 1e-6


@dataclass(frozen=True)
class SynthConfig:
    sample_rate_hz: int = 100
    window: int = 128
    labels: tuple[str, ...] = LABELS
    bias_sigma_g: float = 0.03
    sensor: SensorSpec = field(default_factory=SensorSpec)


@dataclass
class Windows:
    """A batch of windows: raw sensor counts (N, window, 3) int16, integer labels (N,)."""

    raw: np.ndarray
    labels: np.ndarray
    label_names: tuple[str, ...]
    sensor: SensorSpec
    sample_rate_hz: int

    @property
    def g(self) -> np.ndarray:
        return self.raw.astype(np.float64) * self.sensor.lsb_g

    def __len__(self) -> int:
        return int(self.raw.shape[0])


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """Uniformly random 3x3 rotation matrix from a random unit quaternion."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return v / np.linalg.norm(v)


def _horizontal_unit(rng: np.random.Generator) -> np.ndarray:
    a = rng.uniform(0, 2 * np.pi)
    return np.array([np.cos(a), np.sin(a), 0.0])


def gesture_motion(label: str, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """World-frame linear acceleration (len(t), 3) in g for one gesture repetition."""
    n = t.size
    tremor = rng.normal(0.0, 0.01, size=(n, 3))
    if label == "idle":
        return tremor
    if label == "shake":
        freq = rng.uniform(4.0, 7.0)
        amp = rng.uniform(0.8, 2.0)
        axis = _horizontal_unit(rng)
        phase = rng.uniform(0, 2 * np.pi)
        return tremor + np.outer(amp * np.sin(2 * np.pi * freq * t + phase), axis)
    if label == "circle":
        freq = rng.uniform(1.0, 2.0)
        amp = rng.uniform(0.3, 0.8)
        u = _unit(rng)
        v = np.cross(u, _unit(rng))
        v /= np.linalg.norm(v)
        ph = 2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)
        return tremor + amp * (np.outer(np.cos(ph), u) + np.outer(np.sin(ph), v))
    if label == "flick":
        amp = rng.uniform(1.5, 3.0)
        width = rng.uniform(0.03, 0.07)
        t0 = rng.uniform(0.25, t[-1] - 0.25)
        axis = _unit(rng)
        s = (t - t0) / width
        # Derivative of a Gaussian: a quick push and its stop.
        pulse = -s * np.exp(0.5 - 0.5 * s * s)
        return tremor + np.outer(amp * pulse, axis)
    raise ValueError(f"unknown gesture {label!r}; known: {', '.join(LABELS)}")


def to_raw(specific_force_g: np.ndarray, sensor: SensorSpec) -> np.ndarray:
    """Round to the sensor LSB and clip at the int16 output range, as the sensor does."""
    counts = np.rint(specific_force_g / sensor.lsb_g)
    return np.clip(counts, -32768, 32767).astype(np.int16)


def generate(count_per_class: int, seed: int, config: SynthConfig | None = None) -> Windows:
    """Make `count_per_class` windows of every gesture, shuffled, deterministic from `seed`."""
    cfg = config or SynthConfig()
    rng = np.random.default_rng(seed)
    t = np.arange(cfg.window) / cfg.sample_rate_hz
    labels = np.repeat(np.arange(len(cfg.labels)), count_per_class)
    rng.shuffle(labels)
    raw = np.empty((labels.size, cfg.window, 3), dtype=np.int16)
    gravity_up = np.array([0.0, 0.0, 1.0])  # an accelerometer at rest reads +1 g upward
    for i, lab in enumerate(labels):
        motion = gesture_motion(cfg.labels[lab], t, rng)
        rot = random_rotation(rng)  # sensor frame -> world frame
        world = motion + gravity_up
        sensor_frame = world @ rot  # == (rot.T @ world.T).T
        sensor_frame = sensor_frame + rng.normal(0.0, cfg.bias_sigma_g, size=3)
        sensor_frame = sensor_frame + rng.normal(0.0, cfg.sensor.noise_g, size=sensor_frame.shape)
        raw[i] = to_raw(sensor_frame, cfg.sensor)
    return Windows(raw=raw, labels=labels, label_names=cfg.labels, sensor=cfg.sensor,
                   sample_rate_hz=cfg.sample_rate_hz)
