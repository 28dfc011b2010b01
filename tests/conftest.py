"""Shared fixtures: one small trained model per built-in model and test session (TensorFlow runs once each),
and the CI skip policy.

Skip policy: a test that skips because a tool is missing reports the reason (`-rs` in pyproject's addopts). With
CI=true (GitHub Actions, GitLab and most CI services set it), a skip caused by a tool that scripts/bootstrap.sh
installs (arm-none-eabi-gcc and binutils, the host C compiler of the native emulator hook) is a failure: in CI it
means the setup is broken, and a green run would hide that every firmware test was skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Generator
from pathlib import Path

import pytest

from tinyml_disco.training import tf_quiet
from tinyml_disco.training.artifacts import ModelPaths

# Before any test imports TensorFlow (some do so directly): oneDNN off as in the CLI, or every later training in
# the session differs in the last bits and the cycle pins' .tflite sha256 (test_builtin_models_device) depend on
# which test ran first (measured: test_compiler_errors before it changed the cnn and cnn_deep bytes).
tf_quiet.quiet_env()

# Skip reasons that name something scripts/bootstrap.sh installs (Debian packages, the native hook's compiler).
BOOTSTRAP_SKIP = re.compile(r"arm-none-eabi|run scripts/bootstrap\.sh|^no C compiler for the native library")

# Small, fast trainings of every built-in model (seed, windows per class, epochs): fixtures for bit-exactness,
# cycle pins (tests/test_builtin_models_device.py) and the CNN tests.
SMALL_TRAINING: dict[str, dict[str, int]] = {
    "mlp": {"seed": 99, "per_class": 200, "epochs": 20},
    "mlp_robust": {"seed": 99, "per_class": 200, "epochs": 20},
    "cnn": {"seed": 7, "per_class": 150, "epochs": 4},
    "cnn_deep": {"seed": 7, "per_class": 150, "epochs": 4},
}


def default_sigint() -> None:
    """preexec_fn for a child a test sends SIGINT: the default disposition, so its Python installs the
    KeyboardInterrupt handler. A test run started in the background by a non-interactive shell (`cmd &`, nohup)
    inherits SIGINT ignored, and so would the child: it would never see the Ctrl-C the test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Generator[None, None, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.skipped and in_ci() and BOOTSTRAP_SKIP.search(skip_reason(report)):
        report.outcome = "failed"
        report.longrepr = (f"CI=true: skipped for a tool scripts/bootstrap.sh installs, so the CI setup is broken "
                           f"(skip reason: {skip_reason(report)})")


def train_small(tmp_path_factory: pytest.TempPathFactory, model: str, **kwargs: int) -> ModelPaths:
    """Train a built-in model quickly into a temporary build folder (kwargs go to pipeline.train)."""
    from tinyml_disco.app import pipeline

    paths = ModelPaths(tmp_path_factory.mktemp("build") / model)
    pipeline.train(paths, log=lambda _m: None, **kwargs)
    return paths


def build_elf(paths: ModelPaths) -> Path:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc missing: run scripts/bootstrap.sh")
    from tinyml_disco.app import pipeline

    return pipeline.build_firmware(paths, log=lambda _m: None)


_trained: dict[str, ModelPaths] = {}


def trained_builtin(tmp_path_factory: pytest.TempPathFactory, model: str) -> ModelPaths:
    """The small training of a built-in model, once per session."""
    if model not in _trained:
        _trained[model] = train_small(tmp_path_factory, model, **SMALL_TRAINING[model])
    return _trained[model]


@pytest.fixture(scope="session")
def trained_mlp(tmp_path_factory: pytest.TempPathFactory) -> ModelPaths:
    return trained_builtin(tmp_path_factory, "mlp")


@pytest.fixture(scope="session")
def mlp_elf(trained_mlp: ModelPaths) -> Path:
    return build_elf(trained_mlp)


@pytest.fixture(scope="session")
def trained_cnn(tmp_path_factory: pytest.TempPathFactory) -> ModelPaths:
    return trained_builtin(tmp_path_factory, "cnn")


@pytest.fixture(scope="session")
def cnn_elf(trained_cnn: ModelPaths) -> Path:
    return build_elf(trained_cnn)
