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
