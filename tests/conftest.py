"""Shared fixtures: one small trained model per test session (TensorFlow runs once)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from training.artifacts import ModelPaths


def train_small(tmp_path_factory: pytest.TempPathFactory, model: str, **kwargs: int) -> ModelPaths:
    """Train a built-in model quickly into a temporary build folder (kwargs go to pipeline.train)."""
    from app import pipeline

    paths = ModelPaths(tmp_path_factory.mktemp("build") / model)
    pipeline.train(paths, log=lambda _m: None, **kwargs)
    return paths


def build_elf(paths: ModelPaths) -> Path:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc missing: run scripts/bootstrap.sh")
    from app import pipeline

    return pipeline.build_firmware(paths, log=lambda _m: None)


@pytest.fixture(scope="session")
def trained_mlp(tmp_path_factory: pytest.TempPathFactory) -> ModelPaths:
    return train_small(tmp_path_factory, "mlp", seed=99, per_class=200, epochs=20)


@pytest.fixture(scope="session")
def mlp_elf(trained_mlp: ModelPaths) -> Path:
    return build_elf(trained_mlp)
