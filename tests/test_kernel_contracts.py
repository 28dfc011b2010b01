"""Facts the compiler and the C kernels both compute, tied together: conv scratch size, row-context size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyml_disco.app.hostlib import KernelLib
from tinyml_disco.compiler.ops import conv_2d

REPO = Path(__file__).resolve().parents[1]
_GEOMETRY = ("in_h", "in_w", "in_c", "out_h", "out_w", "out_c", "k_h", "k_w", "stride_h", "stride_w", "pad_top",
             "pad_left", "pool_w")


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> KernelLib:
    return KernelLib(tmp_path_factory.mktemp("kernels"))


def _c_scratch(kernels: KernelLib, geo: conv_2d.ConvGeometry) -> int:
    return kernels.conv_scratch_elems(**{k: getattr(geo, k) for k in _GEOMETRY})


def test_row_context_size_is_the_kernels() -> None:
    src = (REPO / "firmware/nn/convolve/geometry.inc").read_text()
    assert int(re.search(r"#define CTX_ELEMS (\d+)", src).group(1)) == conv_2d.CTX_ELEMS  # type: ignore[union-attr]


def test_k1_limits_are_the_kernels() -> None:
    src = (REPO / "firmware/nn/include/tdnn.h").read_text()
    assert int(re.search(r"#define TDNN_CONV_K1_MAX_GROUPS (\d+)", src).group(1)) == conv_2d.K1_MAX_GROUPS  # type: ignore[union-attr]
    assert int(re.search(r"#define TDNN_CONV_PACK_MAX (\d+)", src).group(1)) == conv_2d.K1_PACK_MAX  # type: ignore[union-attr]
    assert int(re.search(r"#define TDNN_CONV_QUAD_MAX_CHUNKS (\d+)", src).group(1)) == conv_2d.QUAD_MAX_CHUNKS  # type: ignore[union-attr]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 4), st.integers(1, 40), st.integers(1, 16), st.integers(1, 5), st.integers(1, 7),
       st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(1, 8))
def test_planner_scratch_equals_tdnn_convolve_s8_scratch_size(kernels: KernelLib, out_h: int, out_w: int, in_c: int,
                                                              k_h: int, k_w: int, sh: int, sw: int, pool_w: int,
                                                              out_c: int) -> None:
    in_h, in_w = (out_h - 1) * sh + k_h, (out_w * pool_w - 1) * sw + k_w
    geo = conv_2d.ConvGeometry(in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, sh, sw, 0, 0, pool_w)
    assert geo.scratch_elems == _c_scratch(kernels, geo)
    flash = kernels.conv_flash_scratch_elems(**{k: getattr(geo, k) for k in _GEOMETRY})
    assert geo.flash_scratch_elems == flash  # the quad variant with flash streams: the padded input alone
    assert flash < geo.scratch_elems

