"""The built-in CNN: train (small), compile, host build vs TFLite Micro, plus the memory and flash figures the
issue sets as targets (the emulated board: tests/test_builtin_models_device.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests import informative
from tinyml_disco.training.artifacts import ModelPaths


def _inputs(paths: ModelPaths, n_blended: int) -> np.ndarray:
    """The 40 held-out windows (10 per class), then n_blended blends of them (tests/informative.py)."""
    from tinyml_disco.app import pipeline
    from tinyml_disco.training.artifacts import load_meta_json

    w = pipeline.device_windows(paths, 10)
    real = pipeline.model_inputs(paths, w.raw).reshape(len(w.raw), -1)
    zp = int(load_meta_json(paths)["input"]["zero_point"])
    return np.concatenate([real, informative.blended(real, zp, n_blended, seed=11)])


def test_cnn_compiles_to_conv_kernels(trained_cnn: ModelPaths) -> None:
    text = trained_cnn.model_c.read_text()
    # The max pool is fused into the first convolution, the global average pooling into the second.
    # Each call names its compile-time variant, so unused conv variants are not linked.
    # Both take the quad variant (the first, 3 input channels x k 5, its 15 taps as 16 with the pool; the second
    # 8 channels with the MEAN), so no k1 row assembly is named (nor linked).
    assert "tdnn_convolve_s8_k1_" not in text
    assert text.count("tdnn_convolve_s8_quad(") == 2
    assert "tdnn_convolve_s8(" not in text and "tdnn_convolve_s8_general" not in text
    assert "tdnn_max_pool_s8(" not in text and "tdnn_mean_s8(" not in text
    from tinyml_disco.compiler import read_manifest

    records = read_manifest(trained_cnn.root)  # the manifest says which .tflite ops each call absorbed
    assert [r.op for r in records] == ["CONV_2D", "CONV_2D", "FULLY_CONNECTED", "SOFTMAX"]
    assert [len(r.fused) for r in records] == [1, 1, 0, 0] and all(r.scratch_bytes for r in records[:2])


def test_cnn_host_bit_exact_on_10000_inputs(trained_cnn: ModelPaths) -> None:
    from tinyml_disco.app import pipeline
    from tinyml_disco.app.tflm_oracle import TflmOracle

    x = _inputs(trained_cnn, 10_000)
    ours = pipeline.host_model(trained_cnn).invoke(x)
    ref = TflmOracle(trained_cnn.tflite.read_bytes()).invoke(x)
    informative.assert_informative(ref, 5000, 4, "built-in cnn, host")
    bad = np.where((ours != ref).any(axis=1))[0]
    assert len(x) >= 10_000 and bad.size == 0, f"{bad.size} of {len(x)} differ, first row {bad[:1]}"


def test_cnn_memory_and_flash_targets(trained_cnn: ModelPaths) -> None:
    from tinyml_disco.app.bench import memory_figures

    m = memory_figures(trained_cnn)
    assert m["activation_bytes"] <= m["tflm_arena_bytes"], m
    assert m["arena_bytes"] < m["arena_first_fit_bytes"], m  # in-place + overlap beat plain first fit
    assert m["model_flash_ratio"] <= 1.3, m
    assert 50_000 <= m["macs"] <= 54_000, m


def test_every_conv_variant_name_is_declared() -> None:
    """The compiler names the conv variant it calls; every name it can produce must exist in tdnn.h."""
    import itertools
    import re

    from tinyml_disco.compiler.ops.conv_2d import ConvGeometry, conv_variant

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
    # out_c 6 above never takes the quad variant (channel quads); a conv like the cnn's second does
    quad = ConvGeometry(1, 61, 8, 1, 58, 16, 1, 4, 1, 1, 0, 0)
    assert conv_variant(quad, True, -128, 127, True, -128) == "tdnn_convolve_s8_quad" and "quad" in declared
    assert conv_variant(quad, True, -128, 127, True, -20) == "tdnn_convolve_s8_k1_full_mean_x1al"  # not RELU
    # the cnn's first conv (3 channels x k 5 = 15 taps, run as 16; the odd positions with a second weight stream
    # one tap later), but not with 12 taps (no spare zero tap for the shift)
    first = ConvGeometry(1, 128, 3, 1, 62, 8, 1, 5, 1, 1, 0, 0, 2)
    assert conv_variant(first, True, -128, 127, False, -128) == "tdnn_convolve_s8_quad"
    assert first.scratch_elems == 128 * 3 + 4 + 2 * 2 * (4 + 2 * 16 + 15)
    assert not ConvGeometry(1, 128, 3, 1, 62, 8, 1, 4, 1, 1, 0, 0, 2).quad_geometry


def test_planner_scratch_is_the_kernels_for_every_conv(trained_cnn: ModelPaths, tmp_path: Path) -> None:
    """The scratch the planner reserves for each conv is what tdnn_convolve_s8_scratch_size says (host build)."""
    import dataclasses

    from tinyml_disco.app.hostlib import KernelLib
    from tinyml_disco.compiler import passes, tflite_reader
    from tinyml_disco.compiler.ops import conv_2d

    kernels = KernelLib(tmp_path)
    g = tflite_reader.load(trained_cnn.tflite)
    g = passes.fuse_conv_mean(passes.fuse_conv_pool(passes.fold_views(g)))
    convs = [op for op in g.operators if op.op == "CONV_2D"]
    assert len(convs) == 2
    for op in convs:
        geo = dataclasses.asdict(conv_2d.conv_geometry(g, op))
        assert conv_2d.memory(g, op).scratch_bytes == 2 * kernels.conv_scratch_elems(**geo), geo
