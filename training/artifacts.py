"""Where a model's files live (build/<name>/) and the model.json contract."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from training.compiler import ModelMeta

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BUILD = REPO / "build"


@dataclass(frozen=True)
class ModelPaths:
    root: Path

    @classmethod
    def for_model(cls, name: str, build_dir: Path | None = None) -> ModelPaths:
        return cls((build_dir or DEFAULT_BUILD) / name)

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


def load_meta_json(paths: ModelPaths) -> dict:
    how = f"tinyml-disco train --model {paths.name}"
    meta = json.loads(paths.require(paths.meta_json, how).read_text())
    if meta.get("format") != META_FORMAT:
        raise ValueError(f"{paths.meta_json} has format {meta.get('format', 1)}, this version reads format "
                         f"{META_FORMAT}; run `{how}` again")
    return meta


def model_meta(meta: dict) -> ModelMeta:
    return ModelMeta(name=meta["name"], labels=tuple(meta["labels"]), window=int(meta["window"]),
                     hop=int(meta["hop"]), sample_rate_hz=int(meta["sample_rate_hz"]),
                     sensor_full_scale_g=int(meta["sensor"]["full_scale_g"]),
                     sensor_lsb_ug=int(meta["sensor"]["lsb_ug"]),
                     feature_pipeline=str(meta["features"]["id"]))
