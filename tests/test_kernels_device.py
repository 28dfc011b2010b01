"""The convolution's M4 path (SXTB16/SMLAD/LDRD assembly, SMMULR requantization, fused pool and mean) on the
emulated board through INFER, against TFLM, on shapes the built-in CNN does not have: odd channel counts,
SAME padding, stride 2, 2-D filters (k_h > 1), odd output widths (a position paired with itself), Conv1D
without pool or mean (stores from the row assembly)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests import informative
from tests.opmodels import converted
from tinyml_disco.sim.session import DeviceSession
from tinyml_disco.training.artifacts import ModelPaths

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc missing")


def compile_raw_window(tfl: bytes, root: Path) -> ModelPaths:
    """A .tflite over the raw 128 x 3 window compiled into root (model.tflite, model.c/.h): the C to edit or build."""
    from tinyml_disco import compiler
    from tinyml_disco.compiler import tflite_reader
    from tinyml_disco.training import features

    paths = ModelPaths(root)
    paths.root.mkdir(parents=True)
    paths.tflite.write_bytes(tfl)
    g = tflite_reader.parse(tfl)
    meta = compiler.ModelMeta(root.name, ("a", "b", "c"), 128, 128, 100, 8, 240,
                              features=features.feature_input_for_graph("raw", 128, 240, g))
    compiler.write(compiler.compile_model(g, meta), paths.root)
    return paths


def boot_model(paths: ModelPaths) -> DeviceSession:
    """The firmware of paths' model.c on the emulated board without a sensor, booted: ready for INFER."""
    from tinyml_disco.app import pipeline
    from tinyml_disco.sim.session import embedded_session

    (paths.root / "model.json").write_text("{}")
    s = embedded_session(pipeline.build_firmware(paths, log=lambda _m: None), sensor="none")
    s.start()
    return s


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


def _conv1d_store_model():  # noqa: ANN202
    import tensorflow as tf

    # Row assembly without pool or mean: stores of both positions, an odd step (unaligned second position)
    # with an even group count, then an aligned one with odd groups, an odd last position and odd channels.
    return tf.keras.Sequential([
        tf.keras.Input((128, 3)),
        tf.keras.layers.Conv1D(6, 5, activation="relu"), tf.keras.layers.Conv1D(5, 2),
        tf.keras.layers.Flatten(), tf.keras.layers.Dense(3)])


@pytest.mark.parametrize("name,build,seed", [("conv2d_same_stride2", _conv2d_model, 5),
                                             ("conv1d_pool_stride2_mean", _conv1d_model, 6),
                                             ("conv1d_store", _conv1d_store_model, 7)])
def test_conv_dsp_path_bit_exact_on_device(tmp_path: Path, name: str, build: Callable[[], object], seed: int) -> None:
    from tinyml_disco.app.tflm_oracle import TflmOracle

    tfl = converted({"op": "device_" + name, "seed": seed}, build, (128, 3))
    paths = compile_raw_window(tfl, tmp_path / name)
    assert paths.model_c.read_text().count("tdnn_convolve_s8_") == 2
    s = boot_model(paths)
    x = np.random.default_rng(seed).integers(-128, 128, size=(40, 384)).astype(np.int8)
    ref = TflmOracle(tfl).invoke(x)
    informative.assert_informative(ref, 36, 1, name, 16)  # a linear head: per-element floor
    got = np.stack([np.frombuffer(s.infer(row).output, np.int8) for row in x])
    assert np.array_equal(got, ref), f"{int((got != ref).any(axis=1).sum())} of {len(x)} INFER outputs differ"


def test_conv_clamp_variants_on_device_match_host(tmp_path: Path) -> None:
    """Converted models rarely give a conv a clamp narrower than [-128, 127] (the *_clamp variants), so narrow
    it in the generated C and compare the emulated M4 path with the host build of the same model.c (the portable
    path, which the host tests check against TFLM for any clamp)."""
    import re

    from tinyml_disco.app.hostlib import build_host_model

    tfl = converted({"op": "device_conv1d_store", "seed": 7}, _conv1d_store_model, (128, 3))
    paths = compile_raw_window(tfl, tmp_path / "clamp")
    text = paths.model_c.read_text()
    # Narrow act_min/act_max of each conv (designated initializers name them), then call the matching variant.
    text, n_params = re.subn(r"\.act_min = -?\d+, \.act_max = -?\d+", ".act_min = -40, .act_max = 50", text)
    text, n_calls = re.subn(r"tdnn_convolve_s8_k1_full_", "tdnn_convolve_s8_k1_clamp_", text)
    assert n_params == 2 and n_calls == 2
    paths.model_c.write_text(text)
    s = boot_model(paths)
    x = np.random.default_rng(8).integers(-128, 128, size=(30, 384)).astype(np.int8)
    ref = build_host_model(paths.root, tmp_path / "host", 384, 3).invoke(x)
    informative.assert_informative(ref, 27, 1, "narrow clamp", 10)
    got = np.stack([np.frombuffer(s.infer(row).output, np.int8) for row in x])
    assert np.array_equal(got, ref), f"{int((got != ref).any(axis=1).sum())} of {len(x)} INFER outputs differ"


def _fc_stack_model():  # noqa: ANN202 - Keras model
    import tensorflow as tf

    # The packed FC (layers of <= 32 inputs and >= 5% of the MACs) with every input tail (3: no group + 3,
    # 24: 6 groups, 6: 1 + 2, 13: 3 + 1, 7: 1 + 3) and a clamp narrower than int8 (RELU6), then 34 -> 3 on the
    # generic kernel (too wide for the packed one).
    return tf.keras.Sequential([
        tf.keras.Input((128, 3)), tf.keras.layers.GlobalAveragePooling1D(),
        tf.keras.layers.Dense(24, activation="relu"), tf.keras.layers.Dense(6),
        tf.keras.layers.Dense(13, activation="relu6"), tf.keras.layers.Dense(7), tf.keras.layers.Dense(34),
        tf.keras.layers.Dense(3)])


def test_fully_connected_paths_bit_exact_on_device(tmp_path: Path) -> None:
    """tdnn_fully_connected_s8 and the packed small-layer FC (tdnn_fc_packed.h, instantiated per layer) on the
    emulated M4 against TFLM, and their portable paths (host build of the same model.c)."""
    from tinyml_disco.app.hostlib import build_host_model
    from tinyml_disco.app.tflm_oracle import TflmOracle

    tfl = converted({"op": "device_fc_stack_gap", "seed": 11}, _fc_stack_model, (128, 3))
    paths = compile_raw_window(tfl, tmp_path / "fc")
    text = paths.model_c.read_text()
    assert text.count("tdnn_fully_connected_s8(") == 1 and text.count("tdnn_fc_packed_body(") == 5, text
    s = boot_model(paths)
    x = np.random.default_rng(12).integers(-128, 128, size=(60, 384)).astype(np.int8)
    ref = TflmOracle(tfl).invoke(x)
    informative.assert_informative(ref, 20, 1, "fc stack", 4)
    got = np.stack([np.frombuffer(s.infer(row).output, np.int8) for row in x])
    assert np.array_equal(got, ref), f"{int((got != ref).any(axis=1).sum())} of {len(x)} INFER outputs differ"
    host = build_host_model(paths.root, tmp_path / "host", 384, 3)  # the portable paths, same model.c
    assert np.array_equal(host.invoke(x), ref)
