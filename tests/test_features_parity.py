"""Firmware feature code (host-compiled) and training/features.py give identical int8 inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyml_disco import compiler
from tinyml_disco.app import hostlib
from tinyml_disco.compiler import tflite_reader as tflite_model
from tinyml_disco.training import features, synth
from tinyml_disco.training.artifacts import ModelPaths


def _extreme_windows(n: int = 128) -> np.ndarray:
    rng = np.random.default_rng(3)
    alternating = np.where(np.arange(n) % 2, 32767, -32768)[:, None].repeat(3, axis=1)
    return np.stack([
        np.full((n, 3), 32767), np.full((n, 3), -32768), rng.integers(-32768, 32768, size=(n, 3)), alternating,
    ]).astype(np.int16)


def _host_for_pipeline(pipe_id: str, tfl: bytes, out_dir: Path, input_scale: float, zp: int) -> hostlib.HostModel:
    """Compile any model with the given pipeline; only the features part is exercised."""
    g = tflite_model.parse(tfl)
    meta = compiler.ModelMeta("p", tuple(f"c{i}" for i in range(g.tensors[g.outputs[0]].size)), 128, 128, 100, 8,
                              240, features=features.feature_input_for_graph(pipe_id, 128, 240, g))
    compiled = compiler.compile_model(g, meta)
    compiler.write(compiled, out_dir)
    return hostlib.build_host_model(out_dir, out_dir, g.tensors[g.inputs[0]].size, g.tensors[g.outputs[0]].size)


def test_mean_std_parity_on_synthetic_and_extreme_windows(trained_mlp: ModelPaths) -> None:
    from tinyml_disco.app import pipeline

    host = pipeline.host_model(trained_mlp)
    raw = np.concatenate([synth.generate(100, seed=4242).raw, _extreme_windows()])
    assert np.array_equal(host.features(raw), pipeline.model_inputs(trained_mlp, raw))


@pytest.mark.parametrize("pipe_id", sorted(features.PIPELINES))
def test_every_pipeline_has_a_firmware_twin(pipe_id: str, tmp_path: Path) -> None:
    """Build a throwaway model whose input matches the pipeline; compare features_compute with numpy."""
    import tensorflow as tf

    from tinyml_disco.training.train import convert_int8

    pipe = features.get(pipe_id)
    shape = pipe.input_shape(128)
    raw = np.concatenate([synth.generate(10, seed=99).raw, _extreme_windows()])
    x = pipe.float_features(raw, 240e-6).astype(np.float32)
    tf.keras.utils.set_random_seed(1)
    model = tf.keras.Sequential([tf.keras.Input(shape=shape), tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(4, activation="softmax")])
    tfl = convert_int8(model, x.reshape(-1, *shape))
    g = tflite_model.parse(tfl)
    if any(op.op not in compiler.SUPPORTED_OPS for op in g.operators):
        pytest.skip(f"compiler cannot build a {shape} test model yet ({[op.op for op in g.operators]})")
    t = g.tensors[g.inputs[0]]
    host = _host_for_pipeline(pipe_id, tfl, tmp_path, float(t.scale[0]), int(t.zero_point[0]))
    fq = pipe.feature_quant(240e-6, 128, float(t.scale[0]), int(t.zero_point[0]))
    assert np.array_equal(host.features(raw), pipe.quantized(raw, fq).reshape(len(raw), -1))


def test_integer_std_matches_float_std() -> None:
    raw = synth.generate(20, seed=5).raw
    _, r = features.integer_stats(raw)
    expected = raw.astype(np.float64).std(axis=1) * raw.shape[1]
    assert np.all(np.abs(r - expected) <= 1.0)


def test_synthetic_data_is_deterministic() -> None:
    a = synth.generate(10, seed=7)
    b = synth.generate(10, seed=7)
    c = synth.generate(10, seed=8)
    assert np.array_equal(a.raw, b.raw) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.raw, c.raw)


def test_mag_res_parity_across_generator_settings(tmp_path: Path) -> None:
    """The orientation-robust pipeline on every kind of window the generator makes (unknown class, 2 g and
    16 g full scale, 14-bit LIS2DW12 counts), plus the extremes: firmware and numpy give the same bytes."""
    import tensorflow as tf

    from tinyml_disco.training.train import convert_int8

    configs = [["unknown.enabled=true"], ["sensor.full_scale_g=2"], ["sensor.full_scale_g=16"],
               ["sensor.name=LIS2DW12", "sensor.full_scale_g=4"]]
    raw = np.concatenate([synth.generate(6, seed=i, config=synth.load_config(overrides=c)).raw
                          for i, c in enumerate(configs)] + [_extreme_windows()])
    pipe = features.get("mag_res")
    x = pipe.float_features(raw, 240e-6).astype(np.float32)
    tf.keras.utils.set_random_seed(2)
    model = tf.keras.Sequential([tf.keras.Input(shape=(6,)), tf.keras.layers.Dense(4, activation="softmax")])
    tfl = convert_int8(model, x)
    t = tflite_model.parse(tfl).tensors[tflite_model.parse(tfl).inputs[0]]
    host = _host_for_pipeline("mag_res", tfl, tmp_path, float(t.scale[0]), int(t.zero_point[0]))
    fq = pipe.feature_quant(240e-6, 128, float(t.scale[0]), int(t.zero_point[0]))
    assert np.array_equal(host.features(raw), pipe.quantized(raw, fq))
    assert len(np.unique(pipe.quantized(raw, fq), axis=0)) > len(raw) // 2  # not all clipped to one value


def test_isqrt_is_exact(tmp_path: Path) -> None:
    """feature_isqrt_u64 (firmware/include/feature_math.h, every isqrt the feature pipelines take) equals the
    digit-by-digit form it replaced and floor(sqrt(v)) by definition (tests/c/isqrt_check.c: every v < 2^24,
    r^2 and its neighbours up to r = 2^32 - 1, a sample of 64-bit values)."""
    import shutil
    import subprocess

    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no host C compiler")
    repo = Path(__file__).resolve().parents[1]
    exe = tmp_path / "isqrt_check"
    subprocess.run([cc, "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function",
                    f"-I{repo / 'firmware/include'}", f"-I{repo / 'firmware/nn/include'}", "-o", str(exe),
                    str(repo / "tests/c/isqrt_check.c")], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.startswith("ok "), out.stdout
