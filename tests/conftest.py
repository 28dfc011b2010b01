"""Shared fixtures: one small trained model per test session (TensorFlow runs once)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from training.artifacts import ModelPaths


@pytest.fixture(scope="session")
def trained_mlp(tmp_path_factory: pytest.TempPathFactory) -> ModelPaths:
    from training import pipeline

    paths = ModelPaths(tmp_path_factory.mktemp("build") / "mlp")
    pipeline.train(paths, seed=99, per_class=200, epochs=20, log=lambda _m: None)
    return paths


@pytest.fixture(scope="session")
def mlp_elf(trained_mlp: ModelPaths) -> Path:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc missing: run scripts/bootstrap.sh")
    from training import pipeline

    return pipeline.build_firmware(trained_mlp, log=lambda _m: None)
