"""The CLI is quiet by default (no TensorFlow/absl noise), -v brings the noise back, --json is alone on stdout,
progress bars stay short in logs, and outcomes map to the documented exit codes."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinyml_disco.app import cli, console, progress
from tinyml_disco.sim.errors import ElfFormatError, FirmwareFault
from tinyml_disco.sim.protocol import ProtocolError

REPO = Path(__file__).resolve().parents[1]
# What TensorFlow, Keras, absl and the converter print around a training when nobody quiets them.
NOISE = re.compile(r"NodeDef mentions|use_unbounded_threadpool|absl::InitializeLog|Saved artifact at|TensorSpec\(|"
                   r"retracing|UserWarning|fully_quantize:|^[EWI]\d{4} \d", re.MULTILINE)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tinyml_disco.app.cli", *args], cwd=REPO, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}, timeout=900)


@pytest.fixture(scope="module")
def quiet_train(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    build = tmp_path_factory.mktemp("quiet")
    proc = _cli("train", "--model", "mlp", "--epochs", "2", "--per-class", "20", "--device-per-class", "0",
                "--build-dir", str(build))
    return build, proc


def test_train_prints_no_tensorflow_noise(quiet_train: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _build, proc = quiet_train
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    assert not NOISE.findall(out), f"TensorFlow noise in quiet mode: {NOISE.findall(out)}"
    assert "[train] float accuracy" in proc.stdout  # the lines a user needs are still there
    # Bars for the epochs and the int8 calibration, on stderr, ending at 100%.
    assert re.search(r"\[train\] mlp: 100%.*2/2 epoch", proc.stderr)
    assert re.search(r"\[train\] int8 calibration: 100%.*80/80 window", proc.stderr)


def test_verbose_brings_tensorflow_logs_back(tmp_path: Path) -> None:
    proc = _cli("-v", "train", "--model", "mlp", "--epochs", "1", "--per-class", "20", "--device-per-class", "0",
                "--build-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert NOISE.search(proc.stdout + proc.stderr), "-v showed none of TensorFlow's logs"


def test_footprint_and_simulate_json_alone_on_stdout(quiet_train: tuple[Path, subprocess.CompletedProcess[str]]
                                                     ) -> None:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc missing: run scripts/bootstrap.sh")
    build, proc = quiet_train
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _cli("build", "--model", "mlp", "--build-dir", str(build)).returncode == 0
    fp = _cli("footprint", "--model", "mlp", "--build-dir", str(build), "--json")
    assert fp.returncode == 0, fp.stderr
    assert json.loads(fp.stdout)["flash_bytes"] > 0
    sim = _cli("simulate", "--model", "mlp", "--build-dir", str(build), "--per-class", "1", "--json")
    assert sim.returncode == 0, sim.stderr
    doc = json.loads(sim.stdout)  # the whole of stdout is one JSON document
    assert doc["windows"] == len(doc["predictions"]) == 4
    assert {"seq", "cls", "label", "score", "cycles", "truth"} <= set(doc["predictions"][0])
    assert "[simulate] windows on the emulated board: 100%" in sim.stderr


def _fake_bench(match: float):
    def bench(paths, per_class: int = 25, runtime: str = "compiled", **_kw) -> dict:
        print(f"[build] {paths.elf}")  # a step line, as the real bench logs through print
        return {"model": paths.name, "device_pred_matches_tflm": match, "bitexact_rate_device": 1.0,
                "bitexact_rate": 1.0}
    return bench


def test_bench_json_keeps_step_lines_off_stdout(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    import tinyml_disco.app.bench

    monkeypatch.setattr(tinyml_disco.app.bench, "bench", _fake_bench(1.0))
    assert cli.main(["bench", "--json", "--build-dir", str(tmp_path)]) == console.OK
    out, err = capsys.readouterr()
    assert json.loads(out)["model"] == "mlp"
    assert "[build]" in err


def test_bench_disagreeing_with_tflm_exits_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    import tinyml_disco.app.bench

    monkeypatch.setattr(tinyml_disco.app.bench, "bench", _fake_bench(0.99))
    monkeypatch.setattr(tinyml_disco.app.bench, "format_summary", lambda r: f"model {r['model']}: table")
    assert cli.main(["bench", "--build-dir", str(tmp_path)]) == console.FAILED
    out, err_text = capsys.readouterr()
    assert "model mlp: table" in out  # the figures are still printed before the verdict
    err = err_text.strip().splitlines()
    assert err == ["tinyml-disco bench: check failed: mlp: PRED lines equal to TFLM 99.00%, expected 100%"]


@pytest.mark.parametrize(("exc", "code"), [
    (KeyboardInterrupt(), console.INTERRUPTED),
    (FileNotFoundError("no model.tflite"), console.USAGE),
    (ValueError("bad --synth"), console.USAGE),
    (ModuleNotFoundError("x", name="tflite_micro"), console.USAGE),
    (PermissionError("read-only"), console.USAGE),
    (RuntimeError("arm-none-eabi-gcc not found"), console.USAGE),
    (FirmwareFault("hard fault at 0x08000100"), console.FAILED),
    (ElfFormatError("not an ARM ELF"), console.USAGE),
    (ProtocolError("no BOOT line"), console.FAILED),
    (console.CheckFailed("PRED != TFLM"), console.FAILED),
])
def test_exit_codes(exc: BaseException, code: int, monkeypatch: pytest.MonkeyPatch,
                    capsys: pytest.CaptureFixture[str]) -> None:
    def boom(_args) -> int:
        raise exc

    monkeypatch.setattr(cli, "cmd_footprint", boom)
    assert cli.main(["footprint"]) == code
    err = capsys.readouterr().err
    assert err.startswith("tinyml-disco footprint: ") and err.count("\n") == 1  # one line, no traceback


def test_a_bug_still_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(_args) -> int:
        raise KeyError("bug")

    monkeypatch.setattr(cli, "cmd_footprint", boom)
    with pytest.raises(KeyError):
        cli.main(["footprint"])


def test_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["bench", "--help"])
    assert info.value.code == 0
    assert "exit codes: 0 ok; 1 the thing tested failed" in " ".join(capsys.readouterr().out.split())


def test_bar_in_a_log_redraws_about_ten_times(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(progress.PROGRESS_ENV, "1")
    log = io.StringIO()  # not a TTY, like a CI log
    with progress.bar(1000, "[test] steps", "step", log) as b:
        for _ in range(1000):
            b.update(1)
    redraws = log.getvalue().count("\r")
    assert 10 <= redraws <= 13, log.getvalue()
    assert "1000/1000 step" in log.getvalue()


def test_verbose_before_or_after_the_command() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["demo"]).verbose is False
    assert parser.parse_args(["-v", "demo"]).verbose is True
    assert parser.parse_args(["demo", "--verbose"]).verbose is True  # scripts/demo.sh passes its arguments here
