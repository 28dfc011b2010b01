"""Synthetic 3-axis accelerometer gestures (generator v2), deterministic from a seed.

Each window is what an accelerometer (LIS3DSH or LIS2DW12, any full scale and output data rate) reports
while a person, holding the board at some orientation that drifts slowly, performs one gesture:

    world-frame motion (gesture kinematics, person style, repetition jitter, hand tremor)
    + gravity reaction (+1 g up: an accelerometer at rest reads +1 g along the upward axis)
    -> rotated into the sensor frame (random orientation, slow drift during the window)
    -> per-device gain error and zero-g offset
    -> white noise from the datasheet noise density over the sensor bandwidth
    -> rounded to the sensor LSB and clipped at full scale  = raw int16 counts

Every parameter lives in a frozen dataclass below (documented field by field) and can be overridden from a
JSON/TOML file (`load_config`) or from `key=value` strings with dotted names (`apply_overrides`), e.g.
`sensor.full_scale_g=4`, `gestures.shake.freq_hz=[3,8]`, `unknown.enabled=true`.

Optional "unknown" class (like the negative class of TFLM's magic_wand): random hand motion, slow tilts and
bumps (the board knocked or set down), none of which is a gesture.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

LABELS: tuple[str, ...] = ("idle", "shake", "circle", "flick")
UNKNOWN = "unknown"

# Datasheet sensitivities in micro-g per output count (LIS3DSH DocID022405 Table 3; LIS2DW12 DS11193 Table 2,
# high-performance 14-bit mode, counts = the 16-bit register value >> 2).
SENSITIVITY_UG: dict[str, dict[int, int]] = {
    "LIS3DSH": {2: 60, 4: 120, 6: 180, 8: 240, 16: 730},
    "LIS2DW12": {2: 244, 4: 488, 8: 976, 16: 1952},
}
OUTPUT_BITS = {"LIS3DSH": 16, "LIS2DW12": 14}
# Typical noise density, micro-g / sqrt(Hz) (LIS3DSH: 150; LIS2DW12 high-performance mode: 90).
NOISE_DENSITY_UG = {"LIS3DSH": 150.0, "LIS2DW12": 90.0}
ODR_HZ = {"LIS3DSH": (3.125, 6.25, 12.5, 25, 50, 100, 400, 800, 1600),
          "LIS2DW12": (1.6, 12.5, 25, 50, 100, 200, 400, 800, 1600)}

Range = tuple[float, float]


@dataclass(frozen=True)
class SensorSpec:
    """Output format and noise of the emulated accelerometer.

    name: LIS3DSH or LIS2DW12. full_scale_g: +/- range (LIS3DSH 2/4/6/8/16, LIS2DW12 2/4/8/16).
    lsb_ug: micro-g per count; 0 = the datasheet value for name and full scale (LIS3DSH at 8 g: 240).
    bits: output word width (clipping range); 0 = the sensor's (LIS3DSH 16, LIS2DW12 14).
    noise_density_ug: white noise, micro-g/sqrt(Hz); < 0 = the datasheet typical value.
    bandwidth_hz: noise bandwidth; 0 = half the output data rate.
    """

    name: str = "LIS3DSH"
    full_scale_g: int = 8
    lsb_ug: int = 240
    bits: int = 0
    noise_density_ug: float = -1.0
    bandwidth_hz: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in SENSITIVITY_UG:
            raise ValueError(f"unknown sensor {self.name!r}; choose {' or '.join(SENSITIVITY_UG)}")
        scales = SENSITIVITY_UG[self.name]
        if self.full_scale_g not in scales:
            raise ValueError(f"{self.name} has no +/-{self.full_scale_g} g range; choose one of "
                             f"{', '.join(map(str, scales))} g")
        if self.lsb_ug < 0:
            raise ValueError(f"sensor lsb_ug must be positive (or 0 for the datasheet value), got {self.lsb_ug}")

    @property
    def lsb(self) -> int:
        """Micro-g per count actually used (datasheet value unless lsb_ug overrides it)."""
        return self.lsb_ug or SENSITIVITY_UG[self.name][self.full_scale_g]

    @property
    def lsb_g(self) -> float:
        return self.lsb * 1e-6

    @property
    def count_range(self) -> tuple[int, int]:
        """Clipping range in counts: the full scale, or the output word if that is narrower."""
        bits = self.bits or OUTPUT_BITS[self.name]
        top = min(2 ** (bits - 1) - 1, int(np.floor(self.full_scale_g / self.lsb_g)))
        return -top - 1, top

    def noise_rms_g(self, odr_hz: float) -> float:
        density = NOISE_DENSITY_UG[self.name] if self.noise_density_ug < 0 else self.noise_density_ug
        bandwidth = self.bandwidth_hz or odr_hz / 2.0
        return density * 1e-6 * float(np.sqrt(bandwidth))


def sensor_preset(name: str, full_scale_g: int) -> SensorSpec:
    """The datasheet configuration of a sensor at a full scale (lsb from the sensitivity table)."""
    return SensorSpec(name=name, full_scale_g=full_scale_g, lsb_ug=SENSITIVITY_UG.get(name, {}).get(full_scale_g, 0))


@dataclass(frozen=True)
class DeviceSpec:
    """Per-device calibration errors, drawn once per window (each window = another board).

    offset_sigma_g: zero-g offset per axis (datasheet typical: LIS3DSH +/-40 mg, LIS2DW12 +/-20 mg).
    gain_sigma: relative sensitivity error per axis (datasheet: about +/-1..2 %).
    """

    offset_sigma_g: float = 0.03
    gain_sigma: float = 0.015


@dataclass(frozen=True)
class OrientationSpec:
    """How the board is held.

    random: uniformly random orientation (True) or face-up tilted by tilt_sigma_deg (False).
    drift_deg_per_s: standard deviation of a slow rotation during the window (the wrist turning).
    """

    random: bool = True
    tilt_sigma_deg: float = 20.0
    drift_deg_per_s: float = 15.0


@dataclass(frozen=True)
class PeopleSpec:
    """Variability between people: each window is performed by one of `count` people drawn per data set.

    speed_sigma / amplitude_sigma: log-normal spread of a person's tempo and strength (multiplies the
    gesture's frequency and amplitude). repetition_sigma: extra log-normal jitter of each repetition.
    tremor_g: standard deviation of hand tremor (white, world frame).
    """

    count: int = 16
    speed_sigma: float = 0.15
    amplitude_sigma: float = 0.2
    repetition_sigma: float = 0.1
    tremor_g: float = 0.01


@dataclass(frozen=True)
class ShakeSpec:
    """Back-and-forth along a mostly horizontal axis. freq_hz, amp_g: ranges before person scaling.
    harmonic: relative amplitude range of the 2nd harmonic (a jerky hand). elevation_sigma_deg: axis tilt."""

    freq_hz: Range = (4.0, 7.0)
    amp_g: Range = (0.8, 2.0)
    harmonic: Range = (0.0, 0.3)
    elevation_sigma_deg: float = 15.0


@dataclass(frozen=True)
class CircleSpec:
    """The board moved around a circle/ellipse in a random plane. ellipticity: minor/major axis ratio."""

    freq_hz: Range = (1.0, 2.0)
    amp_g: Range = (0.3, 0.8)
    ellipticity: Range = (0.6, 1.0)


@dataclass(frozen=True)
class FlickSpec:
    """One quick push and stop (derivative of a Gaussian). width_s: pulse width; margin_s: distance of the
    pulse centre from the window edges."""

    amp_g: Range = (1.5, 3.0)
    width_s: Range = (0.03, 0.07)
    margin_s: float = 0.25


@dataclass(frozen=True)
class GestureSpecs:
    shake: ShakeSpec = field(default_factory=ShakeSpec)
    circle: CircleSpec = field(default_factory=CircleSpec)
    flick: FlickSpec = field(default_factory=FlickSpec)


@dataclass(frozen=True)
class UnknownSpec:
    """The optional negative class (label "unknown"), off by default.

    enabled: add the class. kinds: which non-gestures to draw from (random_motion, slow_tilt, bump).
    motion_g / motion_cutoff_hz: amplitude and low-pass cutoff of random hand motion.
    tilt_deg: total rotation of a slow tilt over the window. bump_g / bump_hz: a knock or the board being
    set down: a damped ring of this amplitude and frequency.
    """

    enabled: bool = False
    kinds: tuple[str, ...] = ("random_motion", "slow_tilt", "bump")
    motion_g: Range = (0.05, 0.4)
    motion_cutoff_hz: Range = (0.5, 3.0)
    tilt_deg: Range = (30.0, 120.0)
    bump_g: Range = (0.5, 4.0)
    bump_hz: Range = (15.0, 40.0)


@dataclass(frozen=True)
class SynthConfig:
    """Everything the generator uses. sample_rate_hz is the sensor's output data rate = the model rate."""

    sample_rate_hz: int = 100
    window: int = 128
    labels: tuple[str, ...] = LABELS
    sensor: SensorSpec = field(default_factory=SensorSpec)
    device: DeviceSpec = field(default_factory=DeviceSpec)
    orientation: OrientationSpec = field(default_factory=OrientationSpec)
    people: PeopleSpec = field(default_factory=PeopleSpec)
    gestures: GestureSpecs = field(default_factory=GestureSpecs)
    unknown: UnknownSpec = field(default_factory=UnknownSpec)

    def __post_init__(self) -> None:
        if self.sample_rate_hz not in ODR_HZ[self.sensor.name]:
            raise ValueError(f"{self.sensor.name} has no {self.sample_rate_hz} Hz output data rate; choose one of "
                             f"{', '.join(map(str, ODR_HZ[self.sensor.name]))}")
        if self.window < 8:
            raise ValueError(f"window must be at least 8 samples, got {self.window}")
        known = (*LABELS, UNKNOWN)
        bad = [lab for lab in self.labels if lab not in known]
        if bad:
            raise ValueError(f"the generator cannot make {', '.join(bad)}; it knows {', '.join(known)}")
        kinds = [k for k in self.unknown.kinds if k not in _UNKNOWN_KINDS]
        if kinds:
            raise ValueError(f"unknown.kinds: no generator for {', '.join(kinds)}; known: {', '.join(_UNKNOWN_KINDS)}")

    @property
    def class_labels(self) -> tuple[str, ...]:
        """The labels generated: `labels`, plus "unknown" when the unknown class is enabled."""
        if self.unknown.enabled and UNKNOWN not in self.labels:
            return (*self.labels, UNKNOWN)
        return self.labels


@dataclass
class Windows:
    """A batch of windows: raw sensor counts (N, window, 3) int16, integer labels (N,)."""

    raw: np.ndarray
    labels: np.ndarray
    label_names: tuple[str, ...]
    sensor: SensorSpec
    sample_rate_hz: int
    groups: np.ndarray | None = None  # who/what each window came from (person or recording id), for splits

    @property
    def g(self) -> np.ndarray:
        return self.raw.astype(np.float64) * self.sensor.lsb_g

    def __len__(self) -> int:
        return int(self.raw.shape[0])


# -- config files and overrides -------------------------------------------------------------------------------


def _coerce(tp: object, value: object, key: str) -> object:
    """Convert a JSON/TOML/CLI value to the dataclass field type `tp` (a string annotation resolved)."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):  # nested tables are handled by _replace
        raise ValueError(f"{key}: expected a table of settings (e.g. {key}.<name>=...), got {value!r}")
    if tp is bool:
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        if isinstance(value, bool):
            return value
        raise ValueError(f"{key}: expected true or false, got {value!r}")
    if tp in (int, float):
        try:
            v = tp(value)  # type: ignore[operator]
        except (TypeError, ValueError):
            raise ValueError(f"{key}: expected a number, got {value!r}") from None
        if tp is int and float(value) != v:  # type: ignore[arg-type]
            raise ValueError(f"{key}: expected a whole number, got {value!r}")
        return v
    if tp is str:
        return str(value)
    if origin is tuple:
        if isinstance(value, str):
            value = json.loads(value) if value.strip().startswith("[") else [s for s in value.split(",") if s]
        if not isinstance(value, list | tuple):
            raise ValueError(f"{key}: expected a list, got {value!r}")
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, key) for v in value)
        if len(value) != len(args):
            raise ValueError(f"{key}: expected {len(args)} values (e.g. [low, high]), got {value!r}")
        out = tuple(_coerce(a, v, key) for a, v in zip(args, value, strict=True))
        if len(out) == 2 and all(isinstance(v, float) for v in out) and out[0] > out[1]:
            raise ValueError(f"{key}: range [{out[0]}, {out[1]}] has low > high")
        return out
    raise ValueError(f"{key}: unsupported setting type {tp!r}")


def _replace(obj: object, values: Mapping[str, object], prefix: str, hints: dict) -> object:
    changes: dict[str, object] = {}
    for k, v in values.items():
        tp = hints[k]
        if dataclasses.is_dataclass(tp) and isinstance(v, Mapping):
            sub_hints = typing.get_type_hints(tp, globalns={**globals(), "Range": Range})
            _check_names(tp, v, prefix + k + ".")
            changes[k] = _replace(getattr(obj, k), v, prefix + k + ".", sub_hints)
        else:
            changes[k] = _coerce(tp, v, prefix + k)
    return dataclasses.replace(obj, **changes)  # type: ignore[type-var]


def _check_names(cls: type, values: Mapping[str, object], prefix: str) -> None:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = [k for k in values if k not in names]
    if unknown:
        raise ValueError(f"unknown generator setting(s) {', '.join(prefix + k for k in unknown)}; "
                         f"known under {prefix or 'the top level'}: {', '.join(sorted(names))}")


def config_from_dict(values: Mapping[str, object], base: SynthConfig | None = None) -> SynthConfig:
    """A SynthConfig from nested settings (as in a JSON/TOML file), on top of `base` (default: the defaults)."""
    values = dict(values)
    sensor = values.get("sensor")
    # A new sensor or full scale without an explicit lsb_ug takes the datasheet sensitivity.
    if isinstance(sensor, Mapping) and "lsb_ug" not in sensor and ({"name", "full_scale_g"} & set(sensor)):
        values["sensor"] = {**sensor, "lsb_ug": 0}
    base = base or SynthConfig()
    _check_names(SynthConfig, values, "")
    hints = typing.get_type_hints(SynthConfig, globalns={**globals(), "Range": Range})
    cfg = _replace(base, values, "", hints)
    assert isinstance(cfg, SynthConfig)
    if cfg.sensor.lsb_ug == 0:  # resolve, so model.json records the number the firmware uses
        cfg = dataclasses.replace(cfg, sensor=dataclasses.replace(cfg.sensor, lsb_ug=cfg.sensor.lsb))
    return cfg


def parse_overrides(items: list[str]) -> dict[str, object]:
    """`["sensor.full_scale_g=4", "unknown.enabled=true"]` -> nested dict (values stay strings)."""
    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"generator override {item!r} is not key=value (e.g. sensor.full_scale_g=4)")
        node = out
        parts = key.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})  # type: ignore[assignment]
            if not isinstance(node, dict):
                raise ValueError(f"generator override {item!r} conflicts with another override of {p}")
        node[parts[-1]] = value.strip()
    return out


def load_config(path: Path | str | None = None, overrides: list[str] | None = None) -> SynthConfig:
    """Defaults, then a JSON or TOML file, then `key=value` overrides."""
    cfg = SynthConfig()
    if path is not None:
        p = Path(path)
        text = p.read_text(encoding="utf-8")
        if p.suffix.lower() == ".toml":
            import tomllib

            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"{p}: not valid TOML: {exc}") from None
        elif p.suffix.lower() == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{p}, line {exc.lineno}: not valid JSON: {exc.msg}") from None
        else:
            raise ValueError(f"{p}: generator config must be .json or .toml")
        try:
            cfg = config_from_dict(data, cfg)
        except ValueError as exc:
            raise ValueError(f"{p}: {exc}") from None
    if overrides:
        cfg = config_from_dict(parse_overrides(overrides), cfg)
    return cfg


def config_to_dict(cfg: SynthConfig) -> dict:
    """JSON-ready settings (recorded in model.json so a run can be repeated)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


# -- kinematics -----------------------------------------------------------------------------------------------


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


def axis_angle(axis: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotation matrices (len(angles), 3, 3) about one unit axis (Rodrigues)."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    s = np.sin(angles)[:, None, None]
    c = np.cos(angles)[:, None, None]
    return np.eye(3)[None] + s * k[None] + (1 - c) * (k @ k)[None]


def _unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return v / np.linalg.norm(v)


def _uniform(rng: np.random.Generator, r: Range) -> float:
    return float(rng.uniform(r[0], r[1]))


def _horizontal_unit(rng: np.random.Generator, elevation_sigma_deg: float) -> np.ndarray:
    a = rng.uniform(0, 2 * np.pi)
    e = np.deg2rad(rng.normal(0.0, elevation_sigma_deg))
    return np.array([np.cos(a) * np.cos(e), np.sin(a) * np.cos(e), np.sin(e)])


@dataclass(frozen=True)
class Person:
    speed: float
    amplitude: float


def draw_people(rng: np.random.Generator, spec: PeopleSpec) -> list[Person]:
    return [Person(float(np.exp(rng.normal(0, spec.speed_sigma))), float(np.exp(rng.normal(0, spec.amplitude_sigma))))
            for _ in range(max(spec.count, 1))]


def _lowpass_noise(rng: np.random.Generator, n: int, rate: float, cutoff: float) -> np.ndarray:
    """Gaussian noise (n, 3) through a one-pole low-pass, normalised to unit RMS per axis."""
    alpha = 1.0 - np.exp(-2 * np.pi * cutoff / rate)
    x = rng.normal(size=(n + 64, 3))
    y = np.empty_like(x)
    acc = np.zeros(3)
    for i in range(x.shape[0]):  # short loop (n + 64 samples); the warm-up removes the start transient
        acc = acc + alpha * (x[i] - acc)
        y[i] = acc
    y = y[64:]
    return y / np.maximum(y.std(axis=0), 1e-9)


def gesture_motion(label: str, t: np.ndarray, rng: np.random.Generator, cfg: SynthConfig | None = None,
                   person: Person | None = None) -> np.ndarray:
    """World-frame linear acceleration (len(t), 3) in g for one gesture repetition (unknown: see unknown_motion)."""
    cfg = cfg or SynthConfig()
    person = person or Person(1.0, 1.0)
    g = cfg.gestures
    rep = cfg.people.repetition_sigma
    speed = person.speed * float(np.exp(rng.normal(0, rep)))
    strength = person.amplitude * float(np.exp(rng.normal(0, rep)))
    n = t.size
    tremor = rng.normal(0.0, cfg.people.tremor_g, size=(n, 3))
    if label == "idle":
        return tremor
    if label == "shake":
        freq = _uniform(rng, g.shake.freq_hz) * speed
        amp = _uniform(rng, g.shake.amp_g) * strength
        h2 = _uniform(rng, g.shake.harmonic)
        axis = _horizontal_unit(rng, g.shake.elevation_sigma_deg)
        ph = 2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)
        wave = np.sin(ph) + h2 * np.sin(2 * ph + rng.uniform(0, 2 * np.pi))
        return tremor + np.outer(amp * wave, axis)
    if label == "circle":
        freq = _uniform(rng, g.circle.freq_hz) * speed
        amp = _uniform(rng, g.circle.amp_g) * strength
        ecc = _uniform(rng, g.circle.ellipticity)
        u = _unit(rng)
        v = np.cross(u, _unit(rng))
        v /= np.linalg.norm(v)
        ph = 2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi)
        return tremor + amp * (np.outer(np.cos(ph), u) + ecc * np.outer(np.sin(ph), v))
    if label == "flick":
        amp = _uniform(rng, g.flick.amp_g) * strength
        width = _uniform(rng, g.flick.width_s) / speed
        margin = min(g.flick.margin_s, t[-1] / 2)
        t0 = rng.uniform(margin, t[-1] - margin)
        axis = _unit(rng)
        s = (t - t0) / width
        pulse = -s * np.exp(0.5 - 0.5 * s * s)  # derivative of a Gaussian: a quick push and its stop
        return tremor + np.outer(amp * pulse, axis)
    raise ValueError(f"unknown gesture {label!r}; known: {', '.join(LABELS)}")


def unknown_motion(t: np.ndarray, rng: np.random.Generator, cfg: SynthConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """A non-gesture: (world-frame motion (n, 3) in g, extra rotation (n, 3, 3) or None)."""
    u = cfg.unknown
    n = t.size
    tremor = rng.normal(0.0, cfg.people.tremor_g, size=(n, 3))
    kind = u.kinds[int(rng.integers(len(u.kinds)))]
    if kind == "random_motion":
        rate = cfg.sample_rate_hz
        cutoff = min(_uniform(rng, u.motion_cutoff_hz), 0.45 * rate)
        return tremor + _uniform(rng, u.motion_g) * _lowpass_noise(rng, n, rate, cutoff), None
    if kind == "slow_tilt":
        total = np.deg2rad(_uniform(rng, u.tilt_deg))
        ramp = 0.5 - 0.5 * np.cos(np.pi * t / t[-1])  # smooth start and stop
        return tremor, axis_angle(_unit(rng), total * ramp)
    # bump: one or two knocks, each a damped ring along a random axis
    out = tremor
    for _ in range(int(rng.integers(1, 3))):
        t0 = rng.uniform(0.0, t[-1])
        freq = _uniform(rng, u.bump_hz)
        decay = rng.uniform(0.01, 0.05)
        dt = np.clip(t - t0, 0.0, None)
        ring = np.where(t >= t0, np.exp(-dt / decay) * np.sin(2 * np.pi * freq * dt + np.pi / 2), 0.0)
        out = out + np.outer(_uniform(rng, u.bump_g) * ring, _unit(rng))
    return out, None


_UNKNOWN_KINDS = ("random_motion", "slow_tilt", "bump")


def to_raw(specific_force_g: np.ndarray, sensor: SensorSpec) -> np.ndarray:
    """Round to the sensor LSB and clip at full scale / the output word, as the sensor does."""
    lo, hi = sensor.count_range
    counts = np.rint(np.asarray(specific_force_g, dtype=np.float64) / sensor.lsb_g)
    return np.clip(counts, lo, hi).astype(np.int16)


def _orientation(rng: np.random.Generator, spec: OrientationSpec) -> np.ndarray:
    if spec.random:
        return random_rotation(rng)
    tilt = np.deg2rad(rng.normal(0.0, spec.tilt_sigma_deg))
    return axis_angle(_horizontal_unit(rng, 0.0), np.array([tilt]))[0]


def render(motion_world: np.ndarray, rng: np.random.Generator, cfg: SynthConfig,
           extra_rotation: np.ndarray | None = None) -> np.ndarray:
    """World-frame motion (n, 3) in g -> raw counts (n, 3) of one board held by one hand."""
    n = motion_world.shape[0]
    t = np.arange(n) / cfg.sample_rate_hz
    rot = _orientation(rng, cfg.orientation)  # sensor frame -> world frame at t = 0
    drift_rate = np.deg2rad(rng.normal(0.0, cfg.orientation.drift_deg_per_s))
    rots = rot[None] @ axis_angle(_unit(rng), drift_rate * t)  # slow turn of the wrist, in the sensor frame
    if extra_rotation is not None:
        rots = extra_rotation @ rots
    world = motion_world + np.array([0.0, 0.0, 1.0])  # at rest the sensor reads +1 g upward
    sensor_frame = np.einsum("nij,ni->nj", rots, world)  # R^T w for each sample
    gain = 1.0 + rng.normal(0.0, cfg.device.gain_sigma, size=3)
    offset = rng.normal(0.0, cfg.device.offset_sigma_g, size=3)
    noise = rng.normal(0.0, cfg.sensor.noise_rms_g(cfg.sample_rate_hz), size=sensor_frame.shape)
    return to_raw(sensor_frame * gain + offset + noise, cfg.sensor)


def generate(count_per_class: int, seed: int, config: SynthConfig | None = None) -> Windows:
    """Make `count_per_class` windows of every class, shuffled, deterministic from `seed`."""
    cfg = config or SynthConfig()
    if count_per_class < 0:
        raise ValueError(f"count_per_class must be >= 0, got {count_per_class}")
    names = cfg.class_labels
    rng = np.random.default_rng(seed)
    people = draw_people(rng, cfg.people)
    t = np.arange(cfg.window) / cfg.sample_rate_hz
    labels = np.repeat(np.arange(len(names)), count_per_class)
    rng.shuffle(labels)
    who = rng.integers(len(people), size=labels.size)
    raw = np.empty((labels.size, cfg.window, 3), dtype=np.int16)
    for i, lab in enumerate(labels):
        if names[lab] == UNKNOWN:
            motion, extra = unknown_motion(t, rng, cfg)
        else:
            motion, extra = gesture_motion(names[lab], t, rng, cfg, people[who[i]]), None
        raw[i] = render(motion, rng, cfg, extra)
    return Windows(raw=raw, labels=labels, label_names=names, sensor=cfg.sensor,
                   sample_rate_hz=cfg.sample_rate_hz, groups=who)
