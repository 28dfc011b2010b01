"""Bad command lines: one line naming the option, file or folder and the fix, rc 2, no traceback, before any work."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tinyml_disco.app.cli import build_parser, main
from tinyml_disco.compiler.fileio import NotWritableError, check_writable
from tinyml_disco.training.artifacts import ModelPaths


@pytest.mark.parametrize("argv,option,shown", [
    (["train", "--epochs", "0"], "--epochs", "from 1 to 100000"),
    (["train", "--per-class", "0"], "--per-class", "from 1 to"),
    (["train", "--per-class", "-5"], "--per-class", "from 1 to"),
    (["train", "--epochs", "ten"], "--epochs", "from 1 to 100000"),
    (["train", "--device-per-class", "-1"], "--device-per-class", "from 0 to"),
    (["demo", "--epochs", "0"], "--epochs", "from 1 to 100000"),
    (["demo", "--per-class-train", "0"], "--per-class-train", "from 1 to"),
    (["demo", "--per-class", "0"], "--per-class", "from 1 to"),
    (["bench", "--per-class", "0"], "--per-class", "from 1 to"),
    (["simulate", "--per-class", "0"], "--per-class", "from 1 to"),
    (["monitor", "--port", "x", "--duration", "0"], "--duration", "above 0"),
    (["monitor", "--port", "x", "--max-lines", "0"], "--max-lines", "from 1 to"),
    (["record", "--port", "x", "--label", "a", "--out", "o", "--samples", "0"], "--samples", "from 1 to"),
    (["flash", "--timeout", "-1"], "--timeout", "above 0"),
])
def test_out_of_range_counts_are_rejected_at_parse_time(argv: list[str], option: str, shown: str, capsys) -> None:
    """Was: --epochs 0 / --per-class 0 silently meant the model's default (60 epochs, 600 windows)."""
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert f"argument {option}: must be" in err and shown in err


def test_train_library_call_rejects_zero_too(tmp_path: Path) -> None:
    from tinyml_disco.app import pipeline

    with pytest.raises(ValueError, match=r"epochs \(0\)"):
        pipeline.train(ModelPaths(tmp_path / "mlp"), epochs=0, log=lambda _m: None)


@pytest.mark.parametrize("command", ["train", "build", "bench", "simulate", "profile", "demo"])
def test_unwritable_build_dir_fails_first_with_one_line(command: str, tmp_path: Path, capsys) -> None:
    """A --build-dir under a regular file cannot be created, even as root (chmod would not stop root)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    t0 = time.monotonic()
    rc = main([command, "--model", "mlp", "--build-dir", str(blocker / "build")])
    err = capsys.readouterr().err
    assert rc == 2
    assert time.monotonic() - t0 < 5  # before training or building, not after
    assert err.startswith(f"tinyml-disco {command}: error: cannot write to {blocker / 'build' / 'mlp'}")
    assert f"{blocker} is a file, not a folder" in err and "--build-dir" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_check_writable_probes_with_a_real_file(tmp_path: Path) -> None:
    assert check_writable(tmp_path / "new" / "dir").is_dir()
    assert not list((tmp_path / "new" / "dir").iterdir())  # the probe file is gone
    ro = Path("/proc/self")  # a folder nobody (root included) can create files in
    with pytest.raises(NotWritableError, match=r"cannot write to /proc/self/x"):
        check_writable(ro / "x")


def test_simulate_data_folder_is_a_clear_error(trained_mlp: ModelPaths, tmp_path: Path, capsys) -> None:
    """Was: IsADirectoryError traceback."""
    build = trained_mlp.root.parent
    rc = main(["simulate", "--model", "mlp", "--build-dir", str(build), "--data", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{tmp_path} is a folder" in err and ".csv or .resd" in err and "Traceback" not in err
    rc = main(["simulate", "--model", "mlp", "--build-dir", str(build), "--data", str(tmp_path / "none.csv")])
    err = capsys.readouterr().err
    assert rc == 2 and "no such file" in err


def test_demo_help_says_every_model_by_default(capsys) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "default: every built-in model" in out and "default mlp" not in out
