"""`--weight-streams {auto,ram,flash}`: where the quad conv's weight streams live (compiler/model.py
flash_stream_policy), threaded from the CLI through pipeline.compile_c / build_firmware / build_runtime and bench,
recorded in model_manifest.json and the firmware stamp so that a changed choice rebuilds; and the work a build
does once (one compile per command, one hash of the firmware tree per build, unchanged C files left untouched)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.training.artifacts import ModelPaths

QUAD_FLASH = "tdnn_convolve_s8_quad_flash"


def _compile(paths: ModelPaths, weight_streams: str):  # noqa: ANN202 - CompiledModel
    from tinyml_disco.app import pipeline
    from tinyml_disco.app.tflm_arena import measure
    from tinyml_disco.compiler import compile_model, tflite_reader
    from tinyml_disco.training.artifacts import load_card

    g = tflite_reader.load(paths.tflite)
    head = measure(paths.tflite.read_bytes()).head_bytes
    return compile_model(g, pipeline.compile_meta(load_card(paths), g), arena_budget=head,
                         weight_streams=weight_streams), head


def _conv_kernels(compiled) -> list[str]:  # noqa: ANN001
    return [r.kernel for r in compiled.manifest if r.op == "CONV_2D"]


@pytest.fixture(scope="module")
def trained_cnn_deep(tmp_path_factory: pytest.TempPathFactory) -> ModelPaths:
    from tests.conftest import trained_builtin

    return trained_builtin(tmp_path_factory, "cnn_deep")


def test_ram_on_cnn_deep_keeps_every_stream_in_ram(trained_cnn_deep: ModelPaths) -> None:
    auto, head = _compile(trained_cnn_deep, "auto")
    ram, _ = _compile(trained_cnn_deep, "ram")
    assert QUAD_FLASH in _conv_kernels(auto)  # auto moves streams to flash for this model...
    assert ram.arena_bytes > head >= auto.arena_bytes  # ...ram does not, whatever the arena
    assert QUAD_FLASH not in ram.model_c and set(_conv_kernels(ram)) == {"tdnn_convolve_s8_quad"}
    assert ram.weight_streams == "ram" and ram.const_bytes < auto.const_bytes


def test_flash_on_cnn_puts_both_convs_in_flash(trained_cnn: ModelPaths) -> None:
    auto, head = _compile(trained_cnn, "auto")
    flash, _ = _compile(trained_cnn, "flash")
    assert _conv_kernels(auto) == ["tdnn_convolve_s8_quad"] * 2  # the cnn's arena fits TFLM's with RAM streams
    assert _conv_kernels(flash) == [QUAD_FLASH] * 2 and flash.model_c.count(QUAD_FLASH + "(") == 2
    assert flash.arena_bytes < auto.arena_bytes <= head and flash.const_bytes > auto.const_bytes


def test_flash_refused_for_a_conv_without_weight_streams(tmp_path: Path) -> None:
    """A conv that runs another variant (here a 3-tap RELU6 Conv1D: clamped, no quad) has no streams to move: the
    error names the op and the variant, and is not an UnsupportedModelError (--runtime auto must not fall back)."""
    from tests.opmodels import converted
    from tests.test_kernels_device import _conv1d_model
    from tinyml_disco import compiler
    from tinyml_disco.compiler import tflite_reader
    from tinyml_disco.training import features

    tfl = converted({"op": "device_conv1d_pool_stride2_mean", "seed": 6}, _conv1d_model, (128, 3))
    g = tflite_reader.parse(tfl)
    meta = compiler.ModelMeta("c", ("a", "b", "c"), 128, 128, 100, 8, 240,
                              features=features.feature_input_for_graph("raw", 128, 240, g))
    assert QUAD_FLASH not in compiler.compile_model(g, meta, weight_streams="ram").model_c
    with pytest.raises(compiler.WeightStreamsError, match=r"op \d+ \(CONV_2D\) cannot read its weight streams from "
                       r"flash: it runs tdnn_convolve_s8_\w+, which has no weight streams") as err:
        compiler.compile_model(g, meta, weight_streams="flash")
    assert not isinstance(err.value, compiler.UnsupportedModelError)
    with pytest.raises(compiler.WeightStreamsError, match="unknown weight-stream choice 'rom'"):
        compiler.compile_model(g, meta, weight_streams="rom")


@pytest.mark.parametrize("model,emissions", [("cnn", 1), ("cnn_deep", 2)])
def test_compile_bytes_plans_the_ram_arena_once(model: str, emissions: int, trained_cnn: ModelPaths,
                                                trained_cnn_deep: ModelPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    """compile_bytes measures TFLM's arena once; the RAM-stream compile (which emits every op before TFLM sees the
    model) is the result when no flash streams are needed (cnn: one plan, one emission); cnn_deep needs them: one
    more emission, and the policy starts from the RAM arena already planned instead of planning it again."""
    from tinyml_disco.app import pipeline, tflm_arena
    from tinyml_disco.compiler import model as cmodel
    from tinyml_disco.training.artifacts import load_card

    paths = {"cnn": trained_cnn, "cnn_deep": trained_cnn_deep}[model]
    calls: dict[str, int] = {"emit": 0, "plan": 0, "tflm": 0, "ram_arena_given": 0}

    def wrap(mod: object, name: str, key: str) -> None:
        real = getattr(mod, name)

        def counted(*a: object, **k: object) -> object:
            calls[key] += 1
            return real(*a, **k)
        monkeypatch.setattr(mod, name, counted)

    wrap(cmodel, "_emit", "emit")
    wrap(cmodel, "plan_memory", "plan")
    wrap(tflm_arena, "measure", "tflm")
    real_policy = cmodel.flash_stream_policy
    monkeypatch.setattr(cmodel, "flash_stream_policy", lambda *a: calls.__setitem__(
        "ram_arena_given", calls["ram_arena_given"] + (a[4] is not None)) or real_policy(*a))
    c = pipeline.compile_bytes(paths.tflite.read_bytes(), load_card(paths), "x", lambda _m: None)
    assert calls["emit"] == emissions and calls["tflm"] == 1 and calls["ram_arena_given"] == 1, calls
    assert (QUAD_FLASH in _conv_kernels(c)) == (model == "cnn_deep")
    if model == "cnn":
        assert calls["plan"] == 1, calls


def test_a_changed_choice_rebuilds_and_the_flash_firmware_matches_tflm(trained_cnn: ModelPaths, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`build --weight-streams flash` after an auto build: new C, a new ELF stamped "flash" (an auto ELF is stale
    for it and the other way round), the device's INFER outputs equal TFLM's; back to auto gives the first ELF's
    bytes again. An unchanged rebuild leaves model.c untouched and hashes the firmware tree once."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc missing: run scripts/bootstrap.sh")
    from tinyml_disco.app import cli, firmware_stamp, pipeline
    from tinyml_disco.app.tflm_oracle import TflmOracle
    from tinyml_disco.compiler.fileio import sha256_file
    from tinyml_disco.sim.session import embedded_session
    from tinyml_disco.training.artifacts import load_card

    shutil.copytree(trained_cnn.root, tmp_path / "cnn")
    paths = ModelPaths(tmp_path / "cnn")
    sha = trained_cnn.tflite.read_bytes()

    def build(choice: str) -> str:
        assert cli.main(["build", "--model", "cnn", "--build-dir", str(tmp_path), "--weight-streams", choice]) == 0
        return sha256_file(paths.elf)

    compiles: list[int] = []
    real_compile = pipeline.compile_bytes
    monkeypatch.setattr(pipeline, "compile_bytes", lambda *a: compiles.append(1) or real_compile(*a))
    auto_elf = build("auto")
    assert len(compiles) == 1  # `build` compiled the model twice (cmd_build, then build_runtime)
    assert QUAD_FLASH not in paths.model_c.read_text()
    hashes: list[int] = []
    real_hash = firmware_stamp.firmware_sources_sha256
    monkeypatch.setattr(firmware_stamp, "firmware_sources_sha256", lambda: hashes.append(1) or real_hash())
    mtime = paths.model_c.stat().st_mtime_ns
    assert build("auto") == auto_elf and paths.model_c.stat().st_mtime_ns == mtime and len(hashes) == 1
    tflite_sha = firmware_stamp.read(paths.firmware_dir)["tflite_sha256"]
    assert firmware_stamp.stale_reason(paths.elf, tflite_sha, "auto") is None

    flash_elf = build("flash")
    assert flash_elf != auto_elf and paths.model_c.read_text().count(QUAD_FLASH + "(") == 2
    assert pipeline._manifest(paths)["weight_streams"] == "flash"
    assert firmware_stamp.read(paths.firmware_dir)["weight_streams"] == "flash"
    assert "built with weight streams flash, auto was asked for" in str(
        firmware_stamp.stale_reason(paths.elf, tflite_sha, "auto"))
    s = embedded_session(paths.elf, sensor="none")
    s.start()
    x = np.random.default_rng(3).integers(-128, 128, size=(12, load_card(paths).n_inputs)).astype(np.int8)
    x = np.concatenate([x, pipeline.model_inputs(paths, pipeline.device_windows(paths, 2).raw).reshape(-1, x.shape[1])])
    got = np.stack([np.frombuffer(s.infer(row).output, np.int8) for row in x])
    s.close()
    ref = TflmOracle(sha).invoke(x)
    assert np.array_equal(got, ref), f"{int((got != ref).any(axis=1).sum())} of {len(x)} INFER outputs differ"

    assert build("auto") == auto_elf and QUAD_FLASH not in paths.model_c.read_text()
