"""softmax_s8.c's branch-free fixed-point forms (tdnn_srdhm_nosat, tdnn_rdbpot_nonneg) are exact where it uses
them: the reciprocal of the sum of exps, for every sum up to 8 classes, equals the saturating gemmlowp form
(tests/c/softmax_reciprocal_check.c, host-compiled portable C, the same C the M4 build compiles)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_reciprocal_nosat_equals_saturating_form_for_every_sum(tmp_path: Path) -> None:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no host C compiler")
    exe = tmp_path / "check"
    src = REPO / "tests/c/softmax_reciprocal_check.c"
    subprocess.run([cc, "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function",
                    f"-I{REPO / 'firmware/nn/include'}", "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout
    assert out.stdout.startswith("ok ")


def test_trimmed_exp_table_gives_the_same_outputs(tmp_path: Path) -> None:
    """compiler/ops/softmax.py ships the exp table without its tail of exps below 2^11 (diff_min moved up):
    softmax_s8.c gives the same int8 outputs with the trimmed table as with the full one, for input scales
    across the range and rows of 1..8 classes (every pair of values for 2 classes, random rows for more)."""
    import ctypes

    import numpy as np

    from tinyml_disco.compiler.ops.softmax import softmax_params, trim_exp_table
    from tinyml_disco.compiler.quant import softmax_exp_table

    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no host C compiler")
    lib_path = tmp_path / "libsoftmax.so"
    subprocess.run([cc, "-O2", "-std=c11", "-shared", "-fPIC", f"-I{REPO / 'firmware/nn/include'}", "-o",
                    str(lib_path), str(REPO / "firmware/nn/softmax_s8.c")], check=True)
    fn = ctypes.CDLL(str(lib_path)).tdnn_softmax_s8
    fn.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p]

    def run(x: np.ndarray, table: list[int]) -> np.ndarray:
        t = np.array(table, np.int32)
        out = np.empty_like(x)
        fn(x.ctypes.data, x.shape[0], x.shape[1], t.ctypes.data, -(len(table) - 1), out.ctypes.data)
        return out

    rng = np.random.default_rng(3)
    pairs = np.stack(np.meshgrid(np.arange(-128, 128), np.arange(-128, 128)), -1).reshape(-1, 2).astype(np.int8)
    trimmed_any = False
    for scale in (0.01, 0.0390625, 0.0625, 0.1, 0.1875, 0.25, 0.5, 1.0):
        mult, shift, diff_min = softmax_params(1.0, scale)
        full = softmax_exp_table(mult, shift, max(diff_min, -255))
        short = trim_exp_table(full)
        trimmed_any |= len(short) < len(full)
        assert short == full[:len(short)] and all(e < 2**11 for e in full[len(short):])
        assert np.array_equal(run(pairs, full), run(pairs, short)), scale
        for classes in (1, 3, 4, 8):
            x = rng.integers(-128, 128, (4000, classes), dtype=np.int8)
            assert np.array_equal(run(x, full), run(x, short)), (scale, classes)
    assert trimmed_any
