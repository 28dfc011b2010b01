"""The convolution's M4 path (SXTB16/SMLAD/LDRD assembly, SMMULR requantization, fused pool and mean) on the
emulated board through INFER, against TFLM, on shapes the built-in CNN does not have: odd channel counts,
SAME padding, stride 2, 2-D filters (k_h > 1), odd output widths (a position paired with itself)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.opmodels import converted

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc missing")


def _conv2d_model():  # noqa: ANN202 - Keras model
    import tensorflow as tf

    return tf.keras.Sequential([
        tf.keras.Input((128, 3)), tf.keras.layers.Reshape((16, 8, 3)),
        tf.keras.layers.Conv2D(5, 3, strides=2, padding="same", activation="relu"),
        tf.keras.layers.Conv2D(3, (3, 2), padding="valid"),
        tf.keras.layers.Flatten(), tf.keras.layers.Dense(3)])


def _conv1d_model():  # noqa: ANN202
    import tensorflow as tf

    return tf.keras.Sequential([
        tf.keras.Input((128, 3)),
        tf.keras.layers.Conv1D(7, 3, padding="same", activation="relu"), tf.keras.layers.MaxPool1D(2),
        tf.keras.layers.Conv1D(5, 4, strides=2, activation="relu6"),
        tf.keras.layers.GlobalAveragePooling1D(), tf.keras.layers.Dense(3)])


@pytest.mark.parametrize("name,build,seed", [("conv2d_same_stride2", _conv2d_model, 5),
                                             ("conv1d_pool_stride2_mean", _conv1d_model, 6)])
def test_conv_dsp_path_bit_exact_on_device(tmp_path: Path, name: str, build: Callable[[], object], seed: int) -> None:
    from sim.session import embedded_session
    from training import compiler, pipeline, tflite_model
    from training.artifacts import ModelPaths
    from training.tflm_oracle import TflmOracle

    tfl = converted({"op": "device_" + name, "seed": seed}, build, (128, 3))
    paths = ModelPaths(tmp_path / name)
    paths.root.mkdir(parents=True)
    paths.tflite.write_bytes(tfl)
    meta = compiler.ModelMeta(name, ("a", "b", "c"), 128, 128, 100, 8, 240, feature_pipeline="raw")
    compiler.write(compiler.compile_model(tflite_model.parse(tfl), meta), paths.root)
    assert paths.model_c.read_text().count("tdnn_convolve_s8(") == 2
    (paths.root / "model.json").write_text("{}")
    elf = pipeline.build_firmware(paths, log=lambda _m: None)
    s = embedded_session(elf, sensor="none")
    s.start()
    x = np.random.default_rng(seed).integers(-128, 128, size=(40, 384)).astype(np.int8)
    got = np.stack([np.frombuffer(s.infer(row).output, np.int8) for row in x])
    ref = TflmOracle(tfl).invoke(x)
    assert np.array_equal(got, ref), f"{int((got != ref).any(axis=1).sum())} of {len(x)} INFER outputs differ"
