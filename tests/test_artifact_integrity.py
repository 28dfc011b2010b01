"""Artifacts are tied together and checked before use: a mixed model.json/model.tflite pair is refused, a stale
firmware.elf is never run, a copied build folder never links objects compiled against the old model.h, files are
replaced atomically and Ctrl-C leaves nothing partial."""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tflite

from tests.conftest import default_sigint
from tinyml_disco.app import pipeline
from tinyml_disco.app.interrupts import deferred_interrupt
from tinyml_disco.compiler.fileio import atomic_write, sha256_bytes
from tinyml_disco.training.artifacts import REPO, ArtifactMismatchError, ModelPaths, load_card


def _retie(paths: ModelPaths, tfl: bytes, input_scale: float | None = None) -> None:
    """Write a new model.tflite and a model.json that describes it (what a new training does)."""
    paths.tflite.write_bytes(tfl)
    meta = json.loads(paths.meta_json.read_text())
    meta["tflite_sha256"] = sha256_bytes(tfl)
    if input_scale is not None:
        meta["input"]["scale"] = input_scale
    paths.meta_json.write_text(json.dumps(meta, indent=2))


def _weight_changed(tfl: bytes) -> bytes:
    """The same model with one int8 weight changed (still a valid model; different model.c)."""
    model = tflite.Model.GetRootAsModel(tfl, 0)
    sub = model.Subgraphs(0)
    for i in range(sub.TensorsLength()):
        t = sub.Tensors(i)
        b = model.Buffers(t.Buffer())
        if t.Type() == tflite.TensorType.INT8 and b.DataLength() > 4:
            pos = b._tab.Vector(b._tab.Offset(4))
            out = bytearray(tfl)
            out[pos] = (out[pos] + 7) % 256
            return bytes(out)
    raise AssertionError("no int8 weights")


def _input_rescaled(tfl: bytes, factor: float) -> tuple[bytes, float]:
    """The model with its input tensor's scale multiplied: model.h's feature multiplier changes."""
    model = tflite.Model.GetRootAsModel(tfl, 0)
    sub = model.Subgraphs(0)
    q = sub.Tensors(sub.Inputs(0)).Quantization()
    pos = q._tab.Vector(q._tab.Offset(8))  # QuantizationParameters.scale[0]
    scale = struct.unpack_from("<f", tfl, pos)[0] * factor
    out = bytearray(tfl)
    struct.pack_into("<f", out, pos, scale)
    return bytes(out), float(np.float32(scale))


def _copy(src: ModelPaths, dest: Path) -> ModelPaths:
    shutil.copytree(src.root, dest / src.name)  # copy2: keeps mtimes, like `cp -a`
    return ModelPaths(dest / src.name)


def test_mixed_model_pair_is_refused_by_build_bench_simulate(trained_mlp: ModelPaths, tmp_path: Path,
                                                             capsys) -> None:
    """A new model.tflite beside the old model.json (Ctrl-C or a crash between the two): every command refuses."""
    from tinyml_disco.app.cli import main

    paths = _copy(trained_mlp, tmp_path)
    paths.tflite.write_bytes(_weight_changed(trained_mlp.tflite.read_bytes()))
    with pytest.raises(ArtifactMismatchError, match="describes a different model.tflite"):
        load_card(paths)
    for cmd in (["build"], ["bench", "--per-class", "1"], ["simulate", "--per-class", "1"]):
        rc = main([*cmd, "--model", "mlp", "--build-dir", str(tmp_path)])
        err = capsys.readouterr().err
        assert rc == 2, cmd
        assert "model.json describes a different model.tflite" in err and "tinyml-disco train --model mlp" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_simulate_never_runs_an_elf_built_from_another_model(trained_mlp: ModelPaths, mlp_elf: Path,
                                                             tmp_path: Path) -> None:
    paths = _copy(trained_mlp, tmp_path)
    old_elf = paths.elf.read_bytes()
    _retie(paths, _weight_changed(trained_mlp.tflite.read_bytes()))
    from tinyml_disco.app.cli import main

    assert main(["simulate", "--model", "mlp", "--per-class", "1", "--build-dir", str(tmp_path)]) == 0
    assert paths.elf.read_bytes() != old_elf  # rebuilt from the new model, not reused
    stamp = json.loads((paths.firmware_dir / "build.json").read_text())
    assert stamp["tflite_sha256"] == sha256_bytes(paths.tflite.read_bytes())
    assert stamp["elf_sha256"] == sha256_bytes(paths.elf.read_bytes())
    assert f'"{stamp["tflite_sha256"]}"' in (paths.root / "model.h").read_text()  # MODEL_TFLITE_SHA256


def test_copied_build_folder_rebuilds_against_the_new_model(trained_mlp: ModelPaths, mlp_elf: Path,
                                                            tmp_path: Path) -> None:
    """`cp -a build/mlp X/mlp`, a new model in X, build: the ELF must run the new model (device PRED == TFLM).
    The new input scale changes model.h's feature multiplier, which main.c and features_*.c compile in."""
    from tinyml_disco.app.compare import pred_matches
    from tinyml_disco.app.tflm_oracle import TflmOracle
    from tinyml_disco.sim.session import embedded_session

    paths = _copy(trained_mlp, tmp_path)
    tfl, scale = _input_rescaled(trained_mlp.tflite.read_bytes(), 1.5)
    _retie(paths, tfl, input_scale=scale)
    pipeline.compile_c(paths, log=lambda _m: None)  # what `train --build-dir X` writes
    elf = pipeline.build_firmware(paths, log=lambda _m: None)
    w = pipeline.device_windows(paths, per_class=5)
    expected = TflmOracle(tfl).invoke(pipeline.model_inputs(paths, w.raw))
    session = embedded_session(elf)
    try:
        session.start()
        preds = session.classify(w.g)
    finally:
        session.close()
    assert len(preds) == len(w.g)
    assert pred_matches(preds, expected).all()


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = atomic_write(tmp_path / "a.json", "old")

    def interrupted(_src: object, _dst: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C after the temporary file was written, before the rename

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_ctrl_c_is_held_back_during_a_commit() -> None:
    done = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupt():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("after the signal")  # still runs: the commit completes
    assert done == ["after the signal"]


def test_ctrl_c_during_train_exits_130_without_traceback(tmp_path: Path) -> None:
    """A real SIGINT while Keras trains: rc 130, one line naming the folder, and no model files at all."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "tinyml_disco.app.cli", "train", "--model", "mlp",
                             "--epochs", "100000", "--per-class", "20", "--build-dir", str(tmp_path)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("[train] mlp"):
                break
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert f"interrupted; nothing partial was left in {tmp_path / 'mlp'}" in err
    assert not list((tmp_path / "mlp").glob("model.*"))


def test_atomic_path_renames_on_success_and_cleans_up_on_failure(tmp_path: Path) -> None:
    from tinyml_disco.compiler.fileio import atomic_path

    target = tmp_path / "d.csv"
    with atomic_path(target) as tmp:
        tmp.write_text("new")
        assert not target.exists()
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer failed")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["d.csv"]
