"""Bad models fail at compile time with a message naming the problem and where it is."""

from __future__ import annotations

import numpy as np
import pytest

from tinyml_disco import compiler
from tinyml_disco.compiler import tflite_reader as tflite_model
from tinyml_disco.compiler.tflite_reader import ModelFormatError

META = compiler.ModelMeta("m", ("a", "b", "c", "d"), 128, 128, 100, 8, 240)


def _convert(model, rep: np.ndarray, int8: bool = True) -> bytes:
    import tensorflow as tf

    if int8:
        from tinyml_disco.training.train import convert_int8

        return convert_int8(model, rep)
    return bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())


def _model(hidden_act: str):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    return tf.keras.Sequential([tf.keras.Input(shape=(6,)), tf.keras.layers.Dense(8, activation=hidden_act),
                                tf.keras.layers.Dense(4, activation="softmax")])


def test_unsupported_op_names_op_index_and_supported_set() -> None:
    rep = np.random.default_rng(0).normal(size=(50, 6)).astype(np.float32)
    g = tflite_model.parse(_convert(_model("tanh"), rep))
    with pytest.raises(compiler.UnsupportedModelError) as err:
        compiler.compile_model(g, META)
    msg = str(err.value)
    assert "operator 1 is TANH" in msg and "FULLY_CONNECTED" in msg and "SOFTMAX" in msg


def test_float_model_is_rejected_with_the_fix() -> None:
    g = tflite_model.parse(_convert(_model("relu"), np.zeros((1, 6), np.float32), int8=False))
    with pytest.raises(compiler.UnsupportedModelError) as err:
        compiler.compile_model(g, META)
    assert "float32" in str(err.value) and "int8" in str(err.value)


def test_not_a_tflite_file() -> None:
    with pytest.raises(ModelFormatError, match="expected identifier 'TFL3' at byte 4"):
        tflite_model.parse(b"\x00" * 64, "x.tflite")


def test_truncated_flatbuffer_says_where(trained_mlp) -> None:
    data = trained_mlp.tflite.read_bytes()
    with pytest.raises(ModelFormatError, match=r"cut\.tflite: damaged \.tflite: "):
        tflite_model.parse(data[: len(data) // 3], "cut.tflite")


def test_label_count_must_match_outputs(trained_mlp) -> None:
    g = tflite_model.load(trained_mlp.tflite)
    meta = compiler.ModelMeta("m", ("a", "b"), 128, 128, 100, 8, 240)
    with pytest.raises(compiler.UnsupportedModelError, match="4 outputs but model.json lists 2 labels"):
        compiler.compile_model(g, meta)


def test_arena_planner_reuses_memory() -> None:
    from tinyml_disco.compiler.graph import Graph, Operator, Tensor
    from tinyml_disco.compiler.memory import plan_arena

    def t(i: int, size: int) -> Tensor:
        return Tensor(i, f"t{i}", (1, size), "int8", np.ones(1, np.float32), np.zeros(1, np.int64), 0, None)

    # chain 0 -> 1 -> 2 -> 3 -> 4: tensors 1 and 3 never live at the same time, 2 overlaps both.
    tensors = [t(0, 8), t(1, 32), t(2, 16), t(3, 32), t(4, 4)]
    ops = [Operator(i, "FULLY_CONNECTED", [i], [i + 1]) for i in range(4)]
    offsets, total = plan_arena(Graph(tensors, ops, [0], [4]))
    assert total == 48  # 32 + 16, tensor 3 reuses tensor 1's bytes
    assert offsets[1] == offsets[3]


def test_float_io_model_names_quantize_edges_and_fix() -> None:
    import tensorflow as tf

    rep = np.random.default_rng(0).normal(size=(20, 6)).astype(np.float32)
    conv = tf.lite.TFLiteConverter.from_keras_model(_model("relu"))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([r[None]] for r in rep)
    g = tflite_model.parse(bytes(conv.convert()))
    with pytest.raises(compiler.UnsupportedModelError) as err:
        compiler.compile_model(g, META)
    msg = str(err.value)
    assert "QUANTIZE" in msg and "inference_input_type = tf.int8" in msg and "CONV_2D" in msg
