"""Single-op int8 models built with the TF converter, cached on disk, and the host-vs-TFLM check.

Conversions cost ~1 s each, so converted bytes are cached under build/.tflite_cache (hypothesis runs
derandomized, so CI reruns hit the cache). The key covers everything the bytes depend on: the model description,
the source of the model builder, of the weight initialisation here and of training.train.convert_int8, and the
versions of TensorFlow, Keras and NumPy; editing any of them converts again instead of testing a stale file.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests import informative
from tinyml_disco import compiler
from tinyml_disco.app import hostlib
from tinyml_disco.app.tflm_oracle import TflmOracle
from tinyml_disco.compiler import tflite_reader as tflite_model

CACHE = Path(__file__).resolve().parent.parent / "build" / ".tflite_cache"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def _source(obj: object) -> str:
    try:
        return inspect.getsource(obj)  # type: ignore[arg-type]
    except (OSError, TypeError):  # no source file (e.g. defined in a REPL): the bytecode still identifies it
        code = getattr(obj, "__code__", None)
        return repr((code.co_code, code.co_consts)) if code is not None else repr(obj)


def cache_key(spec: dict, build: Callable[[], object]) -> str:
    """What the converted bytes depend on (see the module docstring)."""
    from tinyml_disco.training.train import convert_int8

    parts = [json.dumps(spec, sort_keys=True), _source(build), _source(converted), _source(convert_int8),
             *(f"{d}=={_version(d)}" for d in ("tensorflow", "keras", "numpy"))]
    return hashlib.sha256("\n\0".join(parts).encode()).hexdigest()[:20]


def converted(spec: dict, build: Callable[[], object], input_shape: tuple[int, ...]) -> bytes:
    """int8 .tflite for the Keras model `build()` returns (random weights from spec['seed'])."""
    path = CACHE / f"{cache_key(spec, build)}.tflite"
    if path.exists():
        return path.read_bytes()
    import tensorflow as tf

    from tinyml_disco.training.train import convert_int8

    tf.keras.utils.set_random_seed(int(spec["seed"]))
    rng = np.random.default_rng(int(spec["seed"]))
    model = build()
    for layer in model.layers:  # type: ignore[attr-defined]
        weights = layer.get_weights()
        if weights:
            layer.set_weights([rng.normal(0, rng.uniform(0.1, 1.0), w.shape).astype(np.float32) for w in weights])
    span = float(rng.uniform(0.5, 8.0))
    rep = rng.uniform(-span, span * rng.uniform(0.3, 1.0), size=(64, *input_shape)).astype(np.float32)
    data = convert_int8(model, rep)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def assert_bit_exact(tfl: bytes, out_dir: Path, n: int = 200, seed: int = 0, expect_ops: tuple[str, ...] = (),
                     min_distinct: int = 0, min_column_values: int = 0, what: str = "") -> None:
    """Host build vs TFLM on n random int8 rows; floors on the reference's distinct rows and per-element values
    (tests/informative.py)."""
    g = tflite_model.parse(tfl)
    n_in = g.tensors[g.inputs[0]].size
    n_out = g.tensors[g.outputs[0]].size
    meta = compiler.ModelMeta("op", tuple(f"c{i}" for i in range(n_out)), 128, 128, 100, 8, 240)
    compiled = compiler.compile_model(g, meta)
    for op in expect_ops:
        assert op in compiled.ops, f"expected {op} in the compiled ops, got {compiled.ops}"
    compiler.write(compiled, out_dir)
    host = hostlib.build_host_model(out_dir, out_dir, n_in, n_out)
    x = np.random.default_rng(seed).integers(-128, 128, size=(n, n_in)).astype(np.int8)
    ours, ref = host.invoke(x), TflmOracle(tfl).invoke(x)
    informative.assert_informative(ref, min_distinct, 1, f"ops {compiled.ops} {what}", min_column_values)
    bad = np.where((ours != ref).any(axis=1))[0]
    assert bad.size == 0, f"{bad.size}/{n} rows differ from TFLM; first: ours {ours[bad[0]].tolist()} " \
                          f"vs TFLM {ref[bad[0]].tolist()} (ops {compiled.ops})"
