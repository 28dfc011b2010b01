"""MUTATION SMOKE TEST: a deliberately broken model.c must turn the device bit-exactness check red.

The fixture MLP's generated model.c is copied, one constant of the requantization is changed (a right shift of the
last fully connected layer's packed channel constants, or one multiplier of the first by 3%), the firmware is
rebuilt and run on the emulated board through INFER with the inputs tests/test_builtin_models_device.py uses.
The unmutated copy must match TFLM on every row and the mutated one must not: if a mutant passes, the
bit-exactness inputs no longer exercise the model.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests import informative
from tests.conftest import build_elf
from tinyml_disco.training.artifacts import ModelPaths

pytestmark = pytest.mark.mutation  # select with `pytest -m mutation`, leave out with `-m "not mutation"`

MUTATIONS = {
    "none": None,
    # The mlp's layers use the packed FC: per channel {.bias, .mult} and a byte array of right shifts r.
    "last layer: first requantization shift one step smaller": (r"(op1_shifts\[\d+\] = \{\s*)(\d+)", 1),
    "first layer: first multiplier + 2^26 (3%)": (r"(op0_channels\[\d+\] = \{\s*\{\.bias = -?\d+, \.mult = )(-?\d+)",
                                                   1 << 26),
}


def _mutated_device_outputs(paths: ModelPaths, tmp_path: Path, mutation: tuple[str, int] | None,
                            x: np.ndarray) -> np.ndarray:
    from tinyml_disco.sim.session import embedded_session

    copy = ModelPaths(tmp_path / paths.name)
    shutil.copytree(paths.root, copy.root, ignore=shutil.ignore_patterns("firmware", "host", "data"))
    if mutation is not None:
        pattern, delta = mutation
        text, n = re.subn(pattern, lambda m: m.group(1) + str(int(m.group(2)) + delta), copy.model_c.read_text(),
                          count=1)
        assert n == 1, f"mutation site {pattern!r} not found in model.c"
        copy.model_c.write_text(text)
    s = embedded_session(build_elf(copy), sensor="none")
    s.start()
    return np.stack([np.frombuffer(s.infer(row).output, np.int8) for row in x])


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_device_bit_exactness_catches_a_mutated_model_c(trained_mlp: ModelPaths, tmp_path: Path, name: str) -> None:
    from tinyml_disco.app import pipeline
    from tinyml_disco.app.tflm_oracle import TflmOracle
    from tinyml_disco.training.artifacts import load_meta_json

    w = pipeline.device_windows(trained_mlp, 5)
    real = pipeline.model_inputs(trained_mlp, w.raw).reshape(len(w.raw), -1)
    zp = int(load_meta_json(trained_mlp)["input"]["zero_point"])
    x = np.concatenate([real, informative.blended(real, zp, 40, seed=3)])  # as in test_builtin_models_device.py
    ref = TflmOracle(trained_mlp.tflite.read_bytes()).invoke(x)
    got = _mutated_device_outputs(trained_mlp, tmp_path, MUTATIONS[name], x)
    differing = int((got != ref).any(axis=1).sum())
    if MUTATIONS[name] is None:
        assert differing == 0, f"the unmutated copy differs from TFLM on {differing} rows"
    else:
        assert differing > 0, f"mutant '{name}' survived: all {len(x)} INFER outputs still equal TFLM's"
