"""The TFLite Micro + CMSIS-NN runtime build (`--runtime tflm`): the same firmware app with MicroInterpreter,
INFER bit-exact with the tflite-micro Python interpreter on the emulated board, a cached library (a rebuild that
changes nothing compiles nothing), the arena measured on the M4, and the fallback for ops our compiler lacks."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import trained_builtin
from tinyml_disco.app import pipeline, tflm_lib, tflm_runtime
from tinyml_disco.app.flash_split import split
from tinyml_disco.app.tflm_oracle import TflmOracle
from tinyml_disco.compiler import tflite_reader
from tinyml_disco.compiler.fileio import sha256_file
from tinyml_disco.sim import footprint
from tinyml_disco.sim.session import embedded_session
from tinyml_disco.training.artifacts import REPO, ModelPaths, load_card


def _require_tflm() -> None:
    if shutil.which("arm-none-eabi-g++") is None:
        pytest.skip("arm-none-eabi-g++ not found: run scripts/bootstrap.sh")
    try:
        tflm_lib.source_dir()
    except RuntimeError as exc:
        pytest.skip(str(exc))


def _infer_inputs(paths: ModelPaths, n_random: int = 24) -> np.ndarray:
    w = pipeline.device_windows(paths, 2)
    q = pipeline.model_inputs(paths, w.raw)
    rng = np.random.default_rng(11)
    rand = rng.integers(-128, 128, size=(n_random, *q.shape[1:])).astype(np.int8)
    return np.concatenate([q, rand])


def _check_bitexact(paths: ModelPaths, elf: Path, inputs: np.ndarray) -> None:
    session = embedded_session(elf)
    boot = session.start()
    assert boot.model == paths.name
    ref = TflmOracle(paths.tflite.read_bytes()).invoke(inputs)
    got = np.stack([np.frombuffer(session.infer(x).output, np.int8) for x in inputs])
    mismatch = np.flatnonzero((got != ref).any(axis=1))
    assert mismatch.size == 0, f"{mismatch.size}/{len(inputs)} INFER outputs differ, first {mismatch[:5]}"


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_tflm_build_infer_bitexact(model: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    _require_tflm()
    paths = trained_builtin(tmp_path_factory, model)
    runtime, elf = pipeline.build_runtime(paths, "tflm", log=lambda _m: None)
    assert runtime == "tflm" and elf == tflm_runtime.tflm_elf(paths)
    _check_bitexact(paths, elf, _infer_inputs(paths))
    # The PRED path: held-out windows through the emulated sensor, classes equal TFLM's argmax.
    w = pipeline.device_windows(paths, 1)
    ref = TflmOracle(paths.tflite.read_bytes()).invoke(pipeline.model_inputs(paths, w.raw))
    session = embedded_session(elf)
    session.start()
    preds = session.classify(w.g)
    assert [p.cls for p in preds] == [int(r[: len(w.label_names)].argmax()) for r in ref]


def test_tflm_rebuild_compiles_nothing(tmp_path_factory: pytest.TempPathFactory) -> None:
    _require_tflm()
    paths = trained_builtin(tmp_path_factory, "mlp")
    meta = pipeline.compile_meta(load_card(paths), tflite_reader.load(paths.tflite))
    first = tflm_runtime.build_firmware_tflm(paths, meta, log=lambda _m: None)
    stamps = {p: p.stat().st_mtime_ns for p in [*first.elf.parent.rglob("*.o"), first.elf]}
    again = tflm_runtime.build_firmware_tflm(paths, meta, log=lambda _m: None)
    assert again.compiled_objects == 0
    assert again.arena_bytes == first.arena_bytes
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps, "a rebuild with no change recompiled or relinked"
    lib = tflm_lib.build_library(log=lambda _m: None)
    assert lib.compiled == 0 and lib.lib.is_file()
    if "TINYML_TFLM_CACHE" not in os.environ:
        assert not lib.lib.is_relative_to(REPO), "the library cache must stay outside the repository"


def test_tflm_arena_is_the_smallest_accepted(tmp_path_factory: pytest.TempPathFactory) -> None:
    _require_tflm()
    paths = trained_builtin(tmp_path_factory, "mlp")
    pipeline.build_runtime(paths, "tflm", log=lambda _m: None)
    probe = tflm_runtime.tflm_dir(paths) / "probe-fw" / "firmware.elf"
    arena = tflm_runtime.probe_arena(probe)
    record = (tflm_runtime.tflm_dir(paths) / "tflm.json").read_text()
    assert f'"arena_bytes": {arena}' in record
    from tinyml_disco.sim.bare_core import BareCore

    core = BareCore(probe)
    ok = []
    for n in (arena - 1, arena):
        core.call("tflm_arena_probe", [n], lambda _a, _n: None)
        ok.append(int.from_bytes(core.read(core.symbols.address_of("tflm_arena_used"), 4), "little") != 0)
    assert ok == [False, True]


def test_flash_split_adds_up(tmp_path_factory: pytest.TempPathFactory) -> None:
    _require_tflm()
    paths = trained_builtin(tmp_path_factory, "mlp")
    _, elf = pipeline.build_runtime(paths, "tflm", log=lambda _m: None)
    fp = footprint.measure_footprint(elf)
    parts = split(elf.with_name("firmware.map"))  # the map alone: all but a few alignment bytes attributed
    assert 0 <= fp.flash_bytes - sum(parts["flash"].values()) < 64
    assert 0 <= fp.ram_bytes - fp.stack_bytes - sum(parts["ram_static"].values()) < 64
    parts = split(elf.with_name("firmware.map"), fp.flash_bytes, fp.ram_bytes - fp.stack_bytes)
    assert sum(parts["flash"].values()) == fp.flash_bytes
    assert parts["flash"]["runtime"] > 0 and parts["flash"]["kernels"] > 0 and parts["flash"]["model"] > 0


def test_resolver_header_registers_int8_only_where_available() -> None:
    text = tflm_runtime.ops_header(["FULLY_CONNECTED", "SOFTMAX", "TANH", "CONCATENATION", "CONV_2D"])
    assert "#define TFLM_NUM_OPS 5" in text
    assert "AddFullyConnected(tflite::Register_FULLY_CONNECTED_INT8())" in text
    assert "AddConv2D(tflite::Register_CONV_2D_INT8())" in text
    assert "AddTanh()" in text and "AddConcatenation()" in text
    assert tflm_runtime.resolver_method("DEPTHWISE_CONV_2D") == "AddDepthwiseConv2D"
    assert tflm_runtime.resolver_method("HARD_SWISH") == "AddHardSwish"


# --- fallback: a model with two ops our compiler lacks (TANH, CONCATENATION) ---------------------------------


@pytest.fixture(scope="module")
def tanh_concat_model(tmp_path_factory: pytest.TempPathFactory) -> ModelPaths:
    """The mlp's artifact folder with its .tflite replaced by a small network on the same 6 features:
    Dense(8) -> TANH and Dense(8, relu), CONCATENATION, Dense(4), softmax; trained here, converted to int8."""
    _require_tflm()
    import tensorflow as tf

    from tinyml_disco.training import train as tr

    src = trained_builtin(tmp_path_factory, "mlp")
    paths = ModelPaths(tmp_path_factory.mktemp("fallback") / "mlp")
    shutil.copytree(src.root, paths.root, ignore=shutil.ignore_patterns("firmware", "tflm", "host", "model.c"))
    w = pipeline.device_windows(src, 40, seed=4242)
    q = pipeline.model_inputs(src, w.raw).astype(np.float32)
    x = (q - q.mean(0)) / (q.std(0) + 1e-6)  # any float features; the int8 model's input quantization follows
    y = tf.keras.utils.to_categorical(w.labels, len(w.label_names))
    tf.keras.utils.set_random_seed(3)
    inp = tf.keras.Input(shape=(x.shape[1],))
    a = tf.keras.layers.Activation("tanh")(tf.keras.layers.Dense(8)(inp))
    b = tf.keras.layers.Dense(8, activation="relu")(inp)
    out = tf.keras.layers.Dense(y.shape[1], activation="softmax")(tf.keras.layers.Concatenate()([a, b]))
    model = tf.keras.Model(inp, out)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, y, epochs=3, verbose=0)
    paths.tflite.write_bytes(tr.convert_int8(model, x))
    # model.json must describe the new model.tflite (artifact contract: its sha256 and input quantization).
    g = tflite_reader.parse(paths.tflite.read_bytes())
    card = json.loads(paths.meta_json.read_text())
    card["tflite_sha256"] = sha256_file(paths.tflite)
    t = g.tensors[g.inputs[0]]
    card["input"] = {**card["input"], "scale": float(t.scale[0]), "zero_point": int(t.zero_point[0])}
    paths.meta_json.write_text(json.dumps(card, indent=2))
    ops = tflm_runtime.model_ops(paths.tflite.read_bytes())
    assert "TANH" in ops and "CONCATENATION" in ops
    return paths


def test_unsupported_ops_named_and_auto_takes_tflm(tanh_concat_model: ModelPaths) -> None:
    paths = tanh_concat_model
    with pytest.raises(ValueError) as exc:
        pipeline.build_runtime(paths, "compiled", log=lambda _m: None)
    msg = str(exc.value)
    assert "TANH" in msg and "CONCATENATION" in msg and "--runtime tflm" in msg
    logs: list[str] = []
    runtime, elf = pipeline.build_runtime(paths, "auto", log=logs.append)
    assert runtime == "tflm"
    assert any("using TFLite Micro" in m for m in logs)
    rng = np.random.default_rng(2)
    _check_bitexact(paths, elf, rng.integers(-128, 128, size=(32, 6)).astype(np.int8))
