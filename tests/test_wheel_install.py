"""The product as a user gets it: `python -m build` (sdist, then the wheel from the sdist), a fresh venv in a temporary
folder (no --system-site-packages), `pip install` of the wheel, and `tinyml-disco demo --model mlp` in an empty
directory. Nothing of the checkout is on the path: the firmware sources, the native hook's C files and the Renode
files must come from the wheel, build outputs must land in ./build, and the installed package tree is not written.

Slow (~3-4 min: pip's cache and the local wheelhouse keep TensorFlow's install to ~2 min); the timings are printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GENERIC = ("app", "sim", "training", "compiler")


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    tail = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{tail}"
    return proc


def _package_files(site: Path) -> set[str]:
    root = site / "tinyml_disco"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def test_wheel_installs_and_demo_runs_outside_the_checkout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix))
    times: dict[str, float] = {}

    t = time.monotonic()
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)], tmp_path, env, 600)
    times["build"] = time.monotonic() - t
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in dist.iterdir())
    names = zipfile.ZipFile(wheels[0]).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"tinyml_disco", wheels[0].name.split("-")[0] + "-" + wheels[0].name.split("-")[1] + ".dist-info"}
    for needed in ("tinyml_disco/firmware/Makefile", "tinyml_disco/firmware/linker/stm32f407vg.ld",
                   "tinyml_disco/firmware/nn/convolve/geometry.inc", "tinyml_disco/firmware/tflm/tflm_runtime.cc",
                   "tinyml_disco/sim/native/blockhook.c", "tinyml_disco/sim/renode/stm32f4_discovery_tinyml.repl",
                   "tinyml_disco/sim/renode/LIS3DSH.cs", "tinyml_disco/app/cli.py"):
        assert needed in names, f"{needed} is not in {wheels[0].name}"

    t = time.monotonic()
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env, 300)
    py = venv / "bin" / "python"
    # --no-compile: byte-compiling TensorFlow's modules at install time is a third of the install
    _run([str(py), "-m", "pip", "install", "-q", "--no-compile", str(wheels[0])], tmp_path, env, 900)
    times["install"] = time.monotonic() - t
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, env,
                     60).stdout.strip())
    before = _package_files(site)

    empty = tmp_path / "empty"
    empty.mkdir()
    probe = _run([str(py), "-c", "import importlib.util as u, tinyml_disco; "
                  f"print([n for n in {GENERIC!r} if u.find_spec(n)]); print(tinyml_disco.__file__)"], empty, env, 60)
    claimed, where = probe.stdout.splitlines()[-2:]
    assert claimed == "[]", f"the install claims generic top-level names: {claimed}"
    assert Path(where).is_relative_to(site), f"tinyml_disco imported from {where}, not from the fresh venv"

    t = time.monotonic()
    demo = _run([str(venv / "bin" / "tinyml-disco"), "demo", "--model", "mlp", "--epochs", "15"], empty, env, 900)
    times["demo"] = time.monotonic() - t
    out = demo.stdout
    acc = re.search(r"^model mlp: on-device accuracy (\d\.\d+) on (\d+) windows", out, re.M)
    assert acc, f"no accuracy line in the demo output:\n{out[-3000:]}"
    assert float(acc.group(1)) >= 0.5, acc.group(0)  # 4 classes: chance is 0.25
    pred = re.search(r"PRED = TFLM (\d+\.\d+)%", out)
    assert pred and float(pred.group(1)) == 100.0, f"device predictions differ from TFLM:\n{out[-3000:]}"
    assert (empty / "build" / "mlp" / "firmware" / "firmware.elf").is_file()
    assert (empty / "build" / "mlp" / "bench.json").is_file()
    assert _package_files(site) == before, "the demo wrote into the installed package"

    with capsys.disabled():
        print(f"\n[wheel] {wheels[0].name}: {len(names)} files, {wheels[0].stat().st_size} B; "
              + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()))
