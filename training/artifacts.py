"""Where a model's files live (build/<name>/) and the model.json contract."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tinyml_disco.compiler.fileio import sha256_file

REPO = Path(__file__).resolve().parent.parent  # the checkout (or <site-packages>/tinyml_disco when installed)
DEFAULT_BUILD = Path("build")  # relative to the working directory, resolved when used: ./build


def default_build_dir() -> Path:
    """./build of the current working directory (absolute: make -C firmware needs absolute paths)."""
    return DEFAULT_BUILD.resolve()


@dataclass(frozen=True)
class ModelPaths:
    root: Path

    @classmethod
    def for_model(cls, name: str, build_dir: Path | None = None) -> ModelPaths:
        return cls((build_dir or default_build_dir()).resolve() / name)

    @property
    def name(self) -> str:
        return self.root.name

    tflite = property(lambda self: self.root / "model.tflite")
    meta_json = property(lambda self: self.root / "model.json")
    model_c = property(lambda self: self.root / "model.c")
    elf = property(lambda self: self.root / "firmware" / "firmware.elf")
    firmware_dir = property(lambda self: self.root / "firmware")
    data_dir = property(lambda self: self.root / "data")
    bench_json = property(lambda self: self.root / "bench.json")
    host_dir = property(lambda self: self.root / "host")

    def require(self, path: Path, how: str) -> Path:
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist; run `{how}` first")
        return path


META_FORMAT = 2  # bump when model.json changes incompatibly


class ArtifactMismatchError(ValueError):
    """Two artifacts that must belong together do not (e.g. model.json describes another model.tflite)."""


def load_meta_json(paths: ModelPaths, check_tflite: bool = True) -> dict:
    """model.json, checked against the model.tflite beside it (its "tflite_sha256"): a mixed pair is refused.
    check_tflite=False only for readers of its figures once the pair was checked (the Robot library)."""
    how = f"tinyml-disco train --model {paths.name}"
    try:
        meta = json.loads(paths.require(paths.meta_json, how).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{paths.meta_json} is not valid JSON ({exc}); run `{how}` again") from exc
    if not isinstance(meta, dict) or meta.get("format") != META_FORMAT:
        fmt = meta.get("format", 1) if isinstance(meta, dict) else "?"
        raise ValueError(f"{paths.meta_json} has format {fmt}, this version reads format {META_FORMAT}; "
                         f"run `{how}` again")
    if not check_tflite:
        return meta
    recorded = meta.get("tflite_sha256")
    if not recorded:
        raise ArtifactMismatchError(f"{paths.meta_json} does not record which model.tflite it describes (written by "
                                    f"an older version); run `{how}` again")
    actual = sha256_file(paths.require(paths.tflite, how))
    if actual != recorded:
        raise ArtifactMismatchError(f"{paths.meta_json} describes a different model.tflite (sha256 {recorded[:12]}..., "
                                    f"{paths.tflite} has {actual[:12]}...): the two are from different trainings; "
                                    f"run `{how}` again")
    return meta


@dataclass(frozen=True)
class Quant:
    scale: float
    zero_point: int


@dataclass(frozen=True)
class SensorCard:
    name: str
    full_scale_g: int
    lsb_ug: int


@dataclass(frozen=True)
class ModelCard:
    """model.json, typed: what every later step (compiler, firmware build, board, suites) reads of a model."""

    name: str
    labels: tuple[str, ...]
    sample_rate_hz: int
    window: int
    hop: int
    features_id: str
    features_shape: tuple[int, ...]
    sensor: SensorCard
    input: Quant
    output: Quant
    accuracy: dict = field(default_factory=dict)  # float / int8_host / test_windows (report figures)
    data: dict = field(default_factory=dict)  # source, generator settings, seeds or files per split
    training: dict = field(default_factory=dict)  # seed, epochs, batch size, ...
    raw: dict = field(default_factory=dict, repr=False)  # the whole file, for fields only reports read
    tflite_sha256: str = ""  # the model.tflite this card describes (checked by load_meta_json)

    @classmethod
    def from_dict(cls, d: dict) -> ModelCard:
        s, i, o = d["sensor"], d["input"], d["output"]
        return cls(str(d["name"]), tuple(d["labels"]), int(d["sample_rate_hz"]), int(d["window"]), int(d["hop"]),
                   str(d["features"]["id"]), tuple(int(x) for x in d["features"]["shape"]),
                   SensorCard(str(s["name"]), int(s["full_scale_g"]), int(s["lsb_ug"])),
                   Quant(float(i["scale"]), int(i["zero_point"])), Quant(float(o["scale"]), int(o["zero_point"])),
                   dict(d.get("accuracy", {})), dict(d.get("data", {})), dict(d.get("training", {})), d,
                   str(d.get("tflite_sha256", "")))

    @property
    def n_inputs(self) -> int:
        n = 1
        for x in self.features_shape:
            n *= x
        return n

    @property
    def data_source(self) -> str:
        return str(self.data.get("source", "synthetic"))

    @property
    def generator(self) -> dict | None:
        return self.data.get("generator")


def load_card(paths: ModelPaths, check_tflite: bool = True) -> ModelCard:
    """The typed model.json; check_tflite=False only for readers of its figures once the pair was checked."""
    return ModelCard.from_dict(load_meta_json(paths, check_tflite))
