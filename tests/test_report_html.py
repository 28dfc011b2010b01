"""`tinyml-disco report`: the self-contained HTML page, its parts, and a look at it in a real headless browser.

The browser test renders the page of the session's small mlp (tests/conftest.py) in Debian's chromium, keeps the
screenshot at build/report/report-mlp.png (CI keeps build/) and checks that it is not blank.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.app import cli, elf_breakdown, report_html
from tinyml_disco.app.report_inputs import Missing, robot_logs
from tinyml_disco.training.artifacts import REPO, ModelPaths

SCREENSHOT = REPO / "build" / "report"
WINDOW = (1280, 2400)
# src= or href= pointing outside the page (http:, https:, protocol-relative //, file:).
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:(?!image/png;base64)|//)""", re.I)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("chromium missing: run scripts/bootstrap.sh (Debian package chromium) for the report screenshot")


def screenshot(html: Path, png: Path, profile: Path) -> np.ndarray:
    """The page as chromium --headless draws it in a 1280x2400 window, as an RGB array."""
    from PIL import Image

    png.unlink(missing_ok=True)
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}",
           f"--screenshot={png}", f"--window-size={WINDOW[0]},{WINDOW[1]}", html.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and png.exists(), f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    with Image.open(png) as im:
        return np.asarray(im.convert("RGB"))


def ink(rgb: np.ndarray) -> float:
    """Share of pixels far from the page background (text, tables, pictures); ~0 for a blank page."""
    gray = rgb.mean(axis=2)
    return float((gray < 160).mean())


def test_page_in_headless_chromium(trained_mlp: ModelPaths, mlp_elf: Path, tmp_path: Path) -> None:
    build = trained_mlp.root.parent
    assert cli.main(["report", "--model", "mlp", "--build-dir", str(build), "--device-per-class", "3"]) == 0
    html = trained_mlp.root / "report.html"
    text = html.read_text()
    assert EXTERNAL.findall(text) == [], "the page must not load or link anything outside itself"
    assert "url(" not in text and "@import" not in text and "<script" not in text
    images = re.findall(r"<img [^>]*src='([^']*)'", text)
    assert len(images) == 3 and all(s.startswith("data:image/png;base64,") for s in images)  # confusion, cycles, memory
    assert "device (emulated)" in text and "computed by tinyml-disco report: 3 saved test windows" in text
    assert "tdnn_softmax_s8" in text  # a kernel among the largest flash symbols
    assert "Run <code>tinyml-disco bench --model mlp</code>" in text  # no bench.json in the fixture's build
    assert "not run yet" in text  # no Robot logs in the fixture's build
    SCREENSHOT.mkdir(parents=True, exist_ok=True)
    rgb = screenshot(html, SCREENSHOT / "report-mlp.png", tmp_path / "profile")
    assert rgb.shape == (WINDOW[1], WINDOW[0], 3)
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body style='background:#f4f5f7'></body></html>")
    assert ink(screenshot(blank, tmp_path / "blank.png", tmp_path / "profile")) < 0.001  # the measure can fail
    assert ink(rgb) > 0.02, "the report screenshot is (almost) blank"
    assert rgb.std() > 20 and len(np.unique(rgb.reshape(-1, 3), axis=0)) > 200  # text, colours, pictures


def test_missing_inputs_name_their_commands(trained_mlp: ModelPaths, tmp_path: Path) -> None:
    paths = ModelPaths(tmp_path / "build" / "mlp")
    paths.root.mkdir(parents=True)
    for name in ("model.json", "report.json"):
        shutil.copy(trained_mlp.root / name, paths.root / name)
    text = report_html.write(paths, log=lambda _m: None).read_text()
    assert text.count("Run <code>tinyml-disco build --model mlp</code>") == 3  # device matrix, profile, memory
    assert "Run <code>tinyml-disco bench --model mlp</code>" in text
    assert f"robot --outputdir {tmp_path / 'build' / 'robot'} robot_tests/" in text
    assert "float (Keras)" in text and "int8 host (TFLM)" in text  # the host matrices need no ELF
    (paths.root / "report.json").unlink()
    (paths.root / "model.json").unlink()
    text = report_html.write(paths, log=lambda _m: None).read_text()
    assert text.count("Run <code>tinyml-disco train --model mlp</code>") == 2  # data, confusion matrices


BENCH = {"model": "mlp", "runtimes": {
    "compiled": {"cycles_per_inference": 1966, "flash_bytes": 9460, "ram_used_bytes": 1388,
                 "bitexact_rate_device": 1.0, "device_pred_matches_tflm": 1.0,
                 "flash_split": {"app": 6708, "model": 1594, "kernels": 1140, "runtime": 0, "libc": 0, "other": 18}},
    "tflm": {"skipped": "TFLite Micro sources not found"}}, "ratios": {}}


def test_runtime_section_reads_bench_json() -> None:
    part = report_html._runtimes(BENCH)
    assert "1,966" in part and "6,708 / 1,594 / 1,140 / 0 / 0" in part and "data:image/png;base64," in part
    assert "tflm: not measured (TFLite Micro sources not found)" in part
    both = {**BENCH, "runtimes": {**BENCH["runtimes"], "tflm": {**BENCH["runtimes"]["compiled"],
                                                                  "cycles_per_inference": 4945}},
            "ratios": {"cycles_per_inference": 4945 / 1966, "flash_bytes": 1.0, "ram_used_bytes": 1.0}}
    assert "x2.52" in report_html._runtimes(both)
    old = report_html._runtimes({"model": "mlp", "cycles_per_inference": 1})
    assert "no &quot;runtimes&quot;" in old and "tinyml-disco bench --model mlp" in old
    assert isinstance(Missing("a", "b"), Missing)


def test_robot_logs_are_relative_links(tmp_path: Path) -> None:
    paths = ModelPaths(tmp_path / "mlp")
    assert robot_logs(paths) == []
    for sub in ("robot", "robot/tflm"):
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
        (tmp_path / sub / "log.html").write_text("<html></html>")
    assert robot_logs(paths) == [("robot", "../robot/log.html"), ("robot/tflm", "../robot/tflm/log.html")]


def test_breakdown_adds_up(mlp_elf: Path) -> None:
    b = elf_breakdown.breakdown(mlp_elf, top=5)
    assert sum(p.size for p in b.flash_sections) == b.flash_bytes
    assert sum(p.size for p in b.ram_sections) == b.ram_bytes  # .data + .bss + the stack reserve
    assert sum(b.flash_split.values()) == b.flash_bytes and b.flash_split["model"] > 0
    for parts in (b.flash_symbols, b.ram_symbols):
        assert 0 < len(parts) <= 5 and [p.size for p in parts] == sorted((p.size for p in parts), reverse=True)
        assert all(p.size >= 16 for p in parts)
    assert {p.detail for p in b.ram_symbols} <= {".data", ".bss"}
    assert any(p.name == "window" for p in b.ram_symbols)  # the 128x3 int16 sample window
