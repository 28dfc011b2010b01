"""Every built-in model's firmware on the emulated board (the M4 DSP path): INFER bit-exact with TFLite Micro on
inputs that do not saturate the model, PRED lines equal to TFLM's class and score with the matching LED, and
pinned cycle counts.

Cycle pins: virtual cycles are deterministic (same ELF, same inputs, same counts), so each model's cycles are pinned
exactly, and a change that moves them fails here with the new values. When the change is deliberate (a faster kernel,
another conv variant, a compiler pass), paste the printed pin into PINS in the same commit and give the reason and
the old -> new figures in the commit message. The counts belong to the small trainings of tests/conftest.py
(SMALL_TRAINING) and depend on the trained bytes (max pool, ReLU and softmax have data-dependent paths), so a pin
also holds the .tflite's sha256: training is deterministic here (same seed and TensorFlow, same bytes, checked run
to run), and a new TensorFlow or a training change shows up as a sha mismatch, re-pinned deliberately as well.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests import informative
from tests.conftest import build_elf, trained_builtin
from tinyml_disco.training.artifacts import ModelPaths

MODELS = ("mlp", "mlp_robust", "cnn", "cnn_deep")


@dataclass(frozen=True)
class CyclePin:
    tflite_sha256: str  # first 16 hex digits of the small training's model.tflite
    infer: tuple[int, ...]  # INFER cycles= on the 8 held-out windows of device_windows(paths, 2)
    pred: tuple[int, ...]  # PRED cycles= on the 4 windows of device_windows(paths, 1), fed through the sensor
    conv_variants: tuple[str, ...]  # the conv kernels model.c calls (the M4 code these cycles measure)


PINS: dict[str, CyclePin] = {
    "mlp": CyclePin("a516574ce053266d", (854, 854, 854, 854, 854, 854, 854, 854), (854, 838, 854, 854), ()),
    "mlp_robust": CyclePin("9a4984dda0a6fc30", (854, 854, 838, 854, 854, 854, 822, 854), (838, 838, 854, 854), ()),
    "cnn": CyclePin("2bbaea06af3a6bda", (54103, 54091, 54091, 54091, 54091, 54103, 54091, 54085),
                    (54091, 54133, 54097, 54097), ("tdnn_convolve_s8_quad",)),
    "cnn_deep": CyclePin("0f88b255d3823745", (69357, 69369, 69351, 69339, 69345, 69363, 69345, 69241),
                         (69345, 69399, 69345, 69357), ("tdnn_convolve_s8_quad_flash",)),
}

_elves: dict[str, Path] = {}


@pytest.fixture(scope="module", params=MODELS)
def model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelPaths, Path]:
    paths = trained_builtin(tmp_path_factory, request.param)
    if request.param not in _elves:
        _elves[request.param] = build_elf(paths)
    return paths, _elves[request.param]


def _real_inputs(paths: ModelPaths, per_class: int) -> np.ndarray:
    from tinyml_disco.app import pipeline

    w = pipeline.device_windows(paths, per_class)
    return pipeline.model_inputs(paths, w.raw).reshape(len(w.raw), -1)


def _zero_point(paths: ModelPaths) -> int:
    from tinyml_disco.training.artifacts import load_meta_json

    return int(load_meta_json(paths)["input"]["zero_point"])


def test_infer_bit_exact_with_tflm(model: tuple[ModelPaths, Path]) -> None:
    """60 inputs: 20 held-out windows and 40 blends of them (near the decision boundaries)."""
    from tinyml_disco.app.tflm_oracle import TflmOracle
    from tinyml_disco.sim.session import embedded_session

    paths, elf = model
    real = _real_inputs(paths, 5)
    x = np.concatenate([real, informative.blended(real, _zero_point(paths), 40, seed=3)])
    ref = TflmOracle(paths.tflite.read_bytes()).invoke(x)
    informative.assert_informative(ref, 50, 4, f"{paths.name} on the device")
    s = embedded_session(elf, sensor="none")
    s.start()
    got = np.stack([np.frombuffer(s.infer(row).output, np.int8) for row in x])
    bad = np.where((got != ref).any(axis=1))[0]
    assert bad.size == 0, f"{paths.name}: {bad.size} of {len(x)} INFER outputs differ from TFLM; first row " \
        f"{bad[0]}: device {got[bad[0]].tolist()} vs TFLM {ref[bad[0]].tolist()}"


def _measure(paths: ModelPaths, elf: Path) -> CyclePin:
    """The model's pin as measured now; also checks every PRED against TFLM and the LED it lights."""
    from tinyml_disco.app import pipeline
    from tinyml_disco.app.tflm_oracle import TflmOracle
    from tinyml_disco.sim.session import embedded_session

    oracle = TflmOracle(paths.tflite.read_bytes())
    s = embedded_session(elf)
    s.start()
    infer = tuple(s.infer(row).cycles for row in _real_inputs(paths, 2))
    w = pipeline.device_windows(paths, 1)
    ref = oracle.invoke(pipeline.model_inputs(paths, w.raw))
    pred = []
    for i, win in enumerate(w.g):
        (p,) = s.classify(win[None])
        assert (p.seq, p.cls, p.score) == (i, int(ref[i].argmax()), int(ref[i].max()) + 128), (paths.name, i)
        assert s.backend.board.predicted_led_class == p.cls, (paths.name, i)
        pred.append(p.cycles)
    variants = tuple(sorted(set(re.findall(r"\btdnn_convolve_s8_\w+(?=\()", paths.model_c.read_text()))))
    return CyclePin(hashlib.sha256(paths.tflite.read_bytes()).hexdigest()[:16], infer, tuple(pred), variants)


def test_pred_lines_and_pinned_cycles(model: tuple[ModelPaths, Path]) -> None:
    paths, elf = model
    now = _measure(paths, elf)
    pinned = PINS[paths.name]
    moved = [f for f in ("tflite_sha256", "infer", "pred", "conv_variants") if getattr(now, f) != getattr(pinned, f)]
    why = ("the small training gave other model bytes (a TensorFlow, training or converter change, or another CPU: "
           "training is byte-deterministic on one machine, see test_report.py::test_same_seed_same_model_bytes)"
           if "tflite_sha256" in moved else "same model bytes: the firmware or the compiler moved the cycles")
    assert now == pinned, (
        f"{paths.name}: {', '.join(moved)} moved; {why}.\n  pinned: {pinned}\n  now:    {now}\n"
        f"If this change is deliberate, set PINS[{paths.name!r}] in tests/test_builtin_models_device.py to the new "
        f"value and give the reason (and old -> new cycles) in the commit message.")


def test_cnn_deep_runs_the_conv_path_cnn_does_not_have() -> None:
    """cnn_deep's convs take the quad variant with its weight streams in flash (with RAM streams its arena is above
    TFLM's: compiler/model.py flash_stream_policy, tests/test_flash_streams.py), the cnn's with RAM streams: the
    pins cover both; cnn_deep's second conv also takes the fused max pool path with an even position step, which
    no other model runs (the quad variant picks its pool / MEAN path at run time)."""
    from tinyml_disco.compiler.ops.conv_2d import ConvGeometry, conv_variant

    assert PINS["cnn"].conv_variants == ("tdnn_convolve_s8_quad",)
    assert PINS["cnn_deep"].conv_variants == ("tdnn_convolve_s8_quad_flash",)
    deep_conv2 = ConvGeometry(1, 62, 8, 1, 29, 16, 1, 5, 1, 1, 0, 0, pool_w=2)  # 62 x 8 -> 58 x 16, pooled to 29
    assert conv_variant(deep_conv2, True, -128, 127, False, -128) == "tdnn_convolve_s8_quad"
    assert deep_conv2.flash_stream_geometry
