"""The compiler's own structure: registry-derived op list, planner overlap checker, emitter escaping, manifest."""

from __future__ import annotations

import ctypes
import importlib
import pkgutil
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyml_disco import compiler
from tinyml_disco.compiler import emit, ops, planner
from tinyml_disco.compiler.planner import Buffer

REPO = Path(__file__).resolve().parents[1]
HELPERS = {"base", "pool"}  # shared code, not ops


def test_supported_ops_are_the_registry() -> None:
    assert compiler.SUPPORTED_OPS == tuple(ops.REGISTRY)
    assert set(ops.VIEW_OPS) == {"RESHAPE", "EXPAND_DIMS", "SQUEEZE"}
    for name, spec in ops.REGISTRY.items():
        assert spec.name == name
        if not spec.is_view:
            assert (REPO / "firmware" / "nn" / spec.kernel_file).is_file(), spec.kernel_file


def test_every_op_module_is_registered() -> None:
    registered = {s.name for s in ops.REGISTRY.values()}
    for info in pkgutil.iter_modules(ops.__path__):
        if info.name in HELPERS:
            continue
        mod = importlib.import_module(f"tinyml_disco.compiler.ops.{info.name}")
        specs = getattr(mod, "SPECS", None) or (mod.SPEC,)
        assert {s.name for s in specs} <= registered, info.name


def test_overlap_checker_names_the_clash() -> None:
    bufs = [Buffer("a", 16, 0, 1), Buffer("b", 16, 1, 2), Buffer("c", 16, 3, 3)]
    assert planner.overlapping_pairs(bufs, {"a": 0, "b": 8, "c": 0}) == [("a", "b")]
    assert planner.overlapping_pairs(bufs, {"a": 0, "b": 8, "c": 0}, {frozenset(("a", "b"))}) == []
    assert planner.overlapping_pairs(bufs, {"a": 0, "b": 16, "c": 0}) == []  # adjacent is fine


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 200), st.integers(0, 8), st.integers(0, 4)), min_size=1, max_size=9))
def test_planned_arenas_never_overlap_live_buffers(spec: list[tuple[int, int, int]]) -> None:
    bufs = [Buffer(i, size, first, first + span) for i, (size, first, span) in enumerate(spec)]
    offsets, total = planner.plan(bufs)
    assert planner.overlapping_pairs(bufs, offsets) == []
    assert all(offsets[b.key] + b.size <= total for b in bufs)
    text = planner.format_plan(bufs, offsets, total)
    assert text.splitlines()[0] == f"arena {total} bytes" and len(text.splitlines()) == len(bufs) + 1


def test_c_string_escapes_quotes_backslashes_and_control_bytes() -> None:
    assert emit.c_string('say "hi"') == '"say \\"hi\\""'
    assert emit.c_string("a\\b\nc") == '"a\\\\b\\nc"'
    assert emit.c_string("µ1") == '"\\302\\2651"'  # octal escapes cannot swallow the following digit
    assert emit.c_struct("t", "x", [("a", 1), ("b", "p")]) == "static const t x = {.a = 1, .b = p};\n"


def test_labels_with_quotes_compile_and_read_back(tmp_path: Path) -> None:
    """A label with `"` used to end the C string early and break model.c."""
    from tests.test_kernels_tflm import _random_mlp_tflite
    from tinyml_disco.app import hostlib
    from tinyml_disco.compiler import tflite_reader

    g = tflite_reader.parse(_random_mlp_tflite(seed=3, n_in=6, hidden=5, n_out=3, act="relu"))
    labels = ('wave "hello"', "back\\slash", "tab\there")
    compiled = compiler.compile_model(g, compiler.ModelMeta('odd "name"', labels, 128, 128, 100, 8, 240))
    compiler.write(compiled, tmp_path)
    hostlib.build_host_model(tmp_path, tmp_path, 6, 3)  # -Wall -Wextra -Werror
    lib = ctypes.CDLL(str(tmp_path / "libmodel_host.so"))
    table = (ctypes.c_char_p * 3).in_dll(lib, "model_labels")
    assert tuple(s.decode() for s in table) == labels


def test_manifest_lists_every_kernel_call(tmp_path: Path) -> None:
    from tests.test_kernels_tflm import _random_mlp_tflite
    from tinyml_disco.compiler import tflite_reader

    g = tflite_reader.parse(_random_mlp_tflite(seed=4, n_in=6, hidden=5, n_out=3, act="relu"))
    compiled = compiler.compile_model(g, compiler.ModelMeta("m", ("a", "b", "c"), 128, 128, 100, 8, 240))
    compiler.write(compiled, tmp_path)
    records = compiler.read_manifest(tmp_path)
    assert [r.op for r in records] == compiled.ops == ["FULLY_CONNECTED", "FULLY_CONNECTED", "SOFTMAX"]
    body = compiled.model_c.split("void model_invoke", 1)[1]
    positions = [body.index(f"{r.kernel}(") for r in records]
    assert positions == sorted(positions)
    assert all(r.scratch_offset is None and r.scratch_bytes == 0 for r in records)
    assert np.all([r.kernel.startswith("tdnn_") for r in records])
    assert compiled.plan_text.splitlines()[0] == f"arena {compiled.arena_bytes} bytes"  # `build --plan` prints it


def test_readme_op_table_lists_every_registered_op() -> None:
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("| op (TFLite) |"):]
    table = table[: table.index("\n\n")]
    for name, spec in ops.REGISTRY.items():
        assert name in table, f"README op table misses {name}"
        if not spec.is_view:
            assert f"`{spec.kernel_file}`" in table, f"README op table misses {spec.kernel_file}"
