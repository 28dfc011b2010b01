"""Host-compiled kernels + generated model code against the TFLite Micro interpreter: identical bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import compiler
from app import hostlib
from app.tflm_oracle import TflmOracle
from compiler import tflite_reader as tflite_model
from training.artifacts import ModelPaths


def _random_mlp_tflite(seed: int, n_in: int | tuple[int, ...], hidden: int, n_out: int, act: str) -> bytes:
    """A Dense->Dense->softmax model with random weights and a random input range, converted to int8."""
    import tensorflow as tf

    from training.train import convert_int8

    tf.keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    shape = n_in if isinstance(n_in, tuple) else (n_in,)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=shape),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(hidden, activation=act),
        tf.keras.layers.Dense(n_out, activation="softmax"),
    ])
    for layer in model.layers:
        if not layer.get_weights():
            continue
        w, b = layer.get_weights()
        layer.set_weights([rng.normal(0, rng.uniform(0.05, 2.0), w.shape), rng.normal(0, 0.5, b.shape)])
    span = rng.uniform(0.1, 20.0)
    rep = rng.uniform(-span, span * rng.uniform(0.2, 1.0), size=(200, *shape)).astype(np.float32)
    return convert_int8(model, rep)


def _compare(tfl: bytes, out_dir: Path, n: int, seed: int) -> float:
    g = tflite_model.parse(tfl)
    n_in = g.tensors[g.inputs[0]].size
    n_out = g.tensors[g.outputs[0]].size
    meta = compiler.ModelMeta("rand", tuple(f"c{i}" for i in range(n_out)), 128, 128, 100, 8, 240)
    compiler.write(compiler.compile_model(g, meta), out_dir)
    host = hostlib.build_host_model(out_dir, out_dir, n_in, n_out)
    x = np.random.default_rng(seed).integers(-128, 128, size=(n, n_in), dtype=np.int64).astype(np.int8)
    ours = host.invoke(x)
    ref = TflmOracle(tfl).invoke(x)
    mismatch = np.where((ours != ref).any(axis=1))[0]
    assert mismatch.size == 0, f"{mismatch.size} of {n} rows differ; first input {x[mismatch[0]].tolist()}: " \
        f"ours {ours[mismatch[0]].tolist()} vs TFLM {ref[mismatch[0]].tolist()}"
    return 1.0


def test_trained_mlp_bit_exact_on_random_inputs(trained_mlp: ModelPaths, tmp_path: Path) -> None:
    _compare(trained_mlp.tflite.read_bytes(), tmp_path, 2000, seed=1)


@pytest.mark.parametrize("seed,n_in,hidden,n_out,act", [
    (11, 6, 16, 4, "relu"),
    (12, 9, 7, 3, "linear"),
    (13, 17, 32, 10, "relu6"),
    (14, 3, 5, 2, "relu"),
])
def test_random_models_bit_exact(seed: int, n_in: int, hidden: int, n_out: int, act: str, tmp_path: Path) -> None:
    _compare(_random_mlp_tflite(seed, n_in, hidden, n_out, act), tmp_path, 1000, seed=seed)


def test_softmax_params_match_tflite_formula() -> None:
    from compiler.ops.softmax import softmax_params

    # beta=1, scale 0.1875: multiplier 0.1875 * 2^26 -> Q31 mantissa 0.75 with shift 24.
    mult, shift, diff_min = softmax_params(1.0, 0.1875)
    assert (mult, shift) == (1610612736, 24)
    assert diff_min == -((31 << 26) >> 24)
