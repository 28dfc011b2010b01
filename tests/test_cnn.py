"""The built-in CNN end to end: train (small), compile, host build and emulated board vs TFLite Micro,
plus the memory and flash figures the issue sets as targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import build_elf, train_small
from training.artifacts import ModelPaths


@pytest.fixture(scope="module")
def trained_cnn(tmp_path_factory: pytest.TempPathFactory) -> ModelPaths:
    return train_small(tmp_path_factory, "cnn", seed=7, per_class=150, epochs=4)


@pytest.fixture(scope="module")
def cnn_elf(trained_cnn: ModelPaths) -> Path:
    return build_elf(trained_cnn)


def _inputs(paths: ModelPaths, n_random: int) -> np.ndarray:
    from app import pipeline

    w = pipeline.device_windows(paths, 10)
    real = pipeline.model_inputs(paths, w.raw).reshape(len(w.raw), -1)
    rand = np.random.default_rng(11).integers(-128, 128, size=(n_random, real.shape[1])).astype(np.int8)
    return np.concatenate([real, rand])


def test_cnn_compiles_to_conv_kernels(trained_cnn: ModelPaths) -> None:
    text = trained_cnn.model_c.read_text()
    # The max pool is fused into the first convolution, the global average pooling into the second.
    # Each call names its compile-time variant, so unused conv variants are not linked.
    assert text.count("tdnn_convolve_s8_k1_pool_") == 1 and text.count("tdnn_convolve_s8_k1_") == 2
    assert "tdnn_convolve_s8(" not in text and "tdnn_convolve_s8_general" not in text
    assert "tdnn_max_pool_s8(" not in text and "tdnn_mean_s8(" not in text
    from compiler import read_manifest

    records = read_manifest(trained_cnn.root)  # the manifest says which .tflite ops each call absorbed
    assert [r.op for r in records] == ["CONV_2D", "CONV_2D", "FULLY_CONNECTED", "SOFTMAX"]
    assert [len(r.fused) for r in records] == [1, 1, 0, 0] and all(r.scratch_bytes for r in records[:2])


def test_cnn_host_bit_exact_on_10000_inputs(trained_cnn: ModelPaths) -> None:
    from app import pipeline
    from app.tflm_oracle import TflmOracle

    x = _inputs(trained_cnn, 10_000)
    ours = pipeline.host_model(trained_cnn).invoke(x)
    ref = TflmOracle(trained_cnn.tflite.read_bytes()).invoke(x)
    bad = np.where((ours != ref).any(axis=1))[0]
    assert len(x) >= 10_000 and bad.size == 0, f"{bad.size} of {len(x)} differ, first row {bad[:1]}"


def test_cnn_device_infer_bit_exact(trained_cnn: ModelPaths, cnn_elf: Path) -> None:
    """The M4 DSP path (SXTB16/SMLAD) on the emulated board, through the INFER command."""
    from app.tflm_oracle import TflmOracle
    from sim.session import embedded_session

    x = _inputs(trained_cnn, 20)[::2]
    session = embedded_session(cnn_elf)
    session.start()
    results = [session.infer(row) for row in x]
    dev = np.stack([np.frombuffer(r.output, np.int8) for r in results])
    ref = TflmOracle(trained_cnn.tflite.read_bytes()).invoke(x)
    assert (dev == ref).all(), f"{int((dev != ref).any(axis=1).sum())} of {len(x)} INFER outputs differ from TFLM"
    assert all(r.cycles > 0 for r in results)


def test_cnn_memory_and_flash_targets(trained_cnn: ModelPaths) -> None:
    from app.bench import memory_figures

    m = memory_figures(trained_cnn)
    assert m["activation_bytes"] <= m["tflm_arena_bytes"], m
    assert m["arena_bytes"] < m["arena_first_fit_bytes"], m  # in-place + overlap beat plain first fit
    assert m["model_flash_ratio"] <= 1.3, m
    assert 50_000 <= m["macs"] <= 54_000, m


def test_every_conv_variant_name_is_declared() -> None:
    """The compiler names the conv variant it calls; every name it can produce must exist in tdnn.h."""
    import itertools
    import re

    from compiler.ops.conv_2d import ConvGeometry, conv_variant

    header = (Path(__file__).resolve().parents[1] / "firmware/nn/include/tdnn.h").read_text()
    declared = set(re.findall(r"X\((k1_\w+),", header)) | set(re.findall(r"TDNN_CONV_DECL\((\w+)\)", header))
    names = set()
    for k_h, pool, in_c, k_w, stride, full, mean, fast, zp in itertools.product(
            (1, 3), (1, 2), (3, 4, 8, 16), (2, 3, 5), (1, 2), (True, False), (True, False), (True, False), (-128, 0)):
        geo = ConvGeometry(1 if k_h == 1 else 8, 64, in_c, 1 if k_h == 1 else 6, 16, 6, k_h, k_w, 1, stride, 0, 0,
                           pool)
        names.add(conv_variant(geo, fast, -128 if full else -20, 127, mean, zp).removeprefix("tdnn_convolve_s8_"))
    # k1: 32 flag combinations; in_c 16 x k_w 5 (20 groups) exceeds the unrolled MAC and takes the k_h > 1 names
    assert len(names) == 37 and names <= declared, sorted(names - declared)


def test_planner_scratch_is_the_kernels_for_every_conv(trained_cnn: ModelPaths, tmp_path: Path) -> None:
    """The scratch the planner reserves for each conv is what tdnn_convolve_s8_scratch_size says (host build)."""
    import dataclasses

    from app.hostlib import KernelLib
    from compiler import passes, tflite_reader
    from compiler.ops import conv_2d

    kernels = KernelLib(tmp_path)
    g = tflite_reader.load(trained_cnn.tflite)
    g = passes.fuse_conv_mean(passes.fuse_conv_pool(passes.fold_views(g)))
    convs = [op for op in g.operators if op.op == "CONV_2D"]
    assert len(convs) == 2
    for op in convs:
        geo = dataclasses.asdict(conv_2d.conv_geometry(g, op))
        assert conv_2d.memory(g, op).scratch_bytes == 2 * kernels.conv_scratch_elems(**geo), geo
