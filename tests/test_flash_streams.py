"""The quad conv's weight streams as const data (compiler/ops/conv_2d.py quad_stream_c, tdnn_convolve_s8_quad_flash)
and the compiler's policy for them (compiler/model.py flash_stream_policy): flash streams only where the arena with
RAM streams exceeds TFLM's arena head, so that cnn_deep's arena fits TFLM's and the cnn keeps its flash.
The M4 kernel against the portable path: tests/test_conv_variants_device.py; the models on the board:
tests/test_builtin_models_device.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from tinyml_disco.training.artifacts import ModelPaths

if TYPE_CHECKING:
    from tinyml_disco.compiler import CompiledModel, Graph
    from tinyml_disco.compiler.ops.base import OpMemory


def _graph(paths: ModelPaths) -> Graph:
    from tinyml_disco.compiler import passes, tflite_reader

    return passes.fuse_conv_mean(passes.fuse_conv_pool(passes.fold_views(tflite_reader.load(paths.tflite))))


def _compile(paths: ModelPaths, budget: int | None) -> CompiledModel:
    from tinyml_disco.app import pipeline
    from tinyml_disco.compiler import compile_model, tflite_reader
    from tinyml_disco.training.artifacts import load_card

    g = tflite_reader.load(paths.tflite)
    return compile_model(g, pipeline.compile_meta(load_card(paths), g), arena_budget=budget)


@pytest.fixture(scope="module")
def trained_cnn_deep(tmp_path_factory: pytest.TempPathFactory) -> ModelPaths:
    from tests.conftest import trained_builtin

    return trained_builtin(tmp_path_factory, "cnn_deep")


def test_cnn_deep_arena_fits_tflm_with_flash_streams(trained_cnn_deep: ModelPaths) -> None:
    """Issue 14: cnn_deep's arena <= TFLM's arena head. With RAM streams it is above (the streams' scratch at the
    peak conv); the policy moves the streams of the convs that need it to flash, and only then."""
    from tinyml_disco.app.bench import memory_figures
    from tinyml_disco.app.tflm_arena import measure

    head = measure(trained_cnn_deep.tflite.read_bytes()).head_bytes
    ram = _compile(trained_cnn_deep, None)
    assert ram.arena_bytes > head and "tdnn_convolve_s8_quad_flash" not in ram.model_c
    flash = _compile(trained_cnn_deep, head)
    assert flash.arena_bytes <= head < ram.arena_bytes
    assert flash.model_c.count("tdnn_convolve_s8_quad_flash(") >= 1
    assert flash.const_bytes > ram.const_bytes  # the price: the streams in flash
    assert [r.kernel for r in flash.manifest if r.op == "CONV_2D"].count("tdnn_convolve_s8_quad_flash") == \
        flash.model_c.count("tdnn_convolve_s8_quad_flash(")
    m = memory_figures(trained_cnn_deep)  # what bench reports: the same policy
    assert m["arena_bytes"] == flash.arena_bytes <= m["tflm_arena_bytes"], m


def test_cnn_keeps_ram_streams(trained_cnn: ModelPaths) -> None:
    """The cnn's arena fits TFLM's with RAM streams: no flash streams (its flash target is 10,240 B)."""
    from tinyml_disco.app.tflm_arena import measure

    head = measure(trained_cnn.tflite.read_bytes()).head_bytes
    c = _compile(trained_cnn, head)
    assert c.arena_bytes <= head
    assert "tdnn_convolve_s8_quad_flash" not in c.model_c and c.model_c == _compile(trained_cnn, None).model_c


def test_policy_only_takes_layers_that_shrink_the_arena(trained_cnn_deep: ModelPaths) -> None:
    from tinyml_disco.compiler import ops
    from tinyml_disco.compiler.memory import plan_memory
    from tinyml_disco.compiler.model import flash_stream_policy

    g = _graph(trained_cnn_deep)

    def mem() -> dict[int, OpMemory]:
        return {op.index: ops.REGISTRY[op.op].memory(g, op) for op in g.operators}

    ram = plan_memory(g, mem()).arena
    assert flash_stream_policy(g, mem(), None) == set() and flash_stream_policy(g, mem(), ram) == set()
    m = mem()
    chosen = flash_stream_policy(g, m, 0)  # an unreachable budget: every layer that shrinks the arena, no other
    assert chosen and plan_memory(g, m).arena < ram
    for i in chosen:  # each one is needed: without it the arena grows
        without = {**m, i: mem()[i]}
        assert plan_memory(g, without).arena > plan_memory(g, m).arena, i


def test_odd_stream_is_the_even_one_a_tap_later() -> None:
    """quad_streams(c, 1) is what quad_shift makes of the even stream: bias and requantization words equal, each
    channel's int16 weights one position later, with a zero first."""
    from dataclasses import dataclass

    from tinyml_disco.compiler.ops import conv_2d

    geo = conv_2d.ConvGeometry(1, 20, 3, 1, 8, 8, 1, 5, 1, 1, 0, 0, 2)  # 15 taps as 16: a spare zero tap
    rng = np.random.default_rng(5)
    w = rng.integers(-127, 128, size=(8, 1, 5, 3)).astype(np.int8)

    @dataclass(frozen=True)
    class Layer:
        geo: conv_2d.ConvGeometry
        weights: np.ndarray
        folded_bias: np.ndarray
        mult: list[int]
        shift: list[int]

    c = Layer(geo, conv_2d.reorder_conv_weights(w), rng.integers(-5000, 5000, 8), [1 << 30] * 8, [-7] * 8)
    even, odd = conv_2d.quad_streams(c), conv_2d.quad_streams(c, 1)
    halves = lambda ws: np.array(ws, np.uint32).view(np.int16)  # noqa: E731  (little endian: low half first)
    for q in range(2):
        e, o = even[q], odd[q]
        assert e[:4] == o[:4] and e[-12:] == o[-12:] and len(e) == 4 + 16 * 2 + 12
        for ch in range(4):
            taps_e = np.concatenate([halves(e[4 + 16 * j + 4 * ch:8 + 16 * j + 4 * ch]) for j in range(2)])
            taps_o = np.concatenate([halves(o[4 + 16 * j + 4 * ch:8 + 16 * j + 4 * ch]) for j in range(2)])
            assert np.array_equal(taps_e[:15], 2 * w[4 * q + ch].reshape(-1).astype(np.int16)) and taps_e[15] == 0
            assert taps_o[0] == 0 and np.array_equal(taps_o[1:], taps_e[:15])
