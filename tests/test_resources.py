"""app.resources: the firmware is found from the package's own location, and missing tools are one clear error
that names the Debian packages (no traceback from the CLI: tinyml-disco prints it and exits 2)."""

from __future__ import annotations

import shutil

import pytest

from tinyml_disco.app import resources
from tinyml_disco.app.cli import main


def test_firmware_is_found_beside_the_packages() -> None:
    fw = resources.firmware_dir()
    assert (fw / "Makefile").is_file() and (fw / "linker" / "stm32f407vg.ld").is_file()
    assert fw.parent == resources.PACKAGE_ROOT


def test_missing_cross_compiler_names_the_apt_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name.startswith("arm-none-eabi") else real(name))
    with pytest.raises(RuntimeError, match="gcc-arm-none-eabi libnewlib-arm-none-eabi"):
        resources.require_cross_toolchain()


def test_missing_make_and_host_cc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(RuntimeError, match="package make"):
        resources.require_make()
    with pytest.raises(RuntimeError, match="package gcc"):
        resources.host_cc()


def test_cli_reports_a_missing_toolchain_in_one_line(tmp_path, monkeypatch, capsys) -> None:
    """`tinyml-disco build` with no cross compiler: exit 2 and one error line naming the packages."""
    from tinyml_disco.app import pipeline

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.setattr(pipeline, "compile_c", lambda *a, **k: None)
    monkeypatch.chdir(tmp_path)
    rc = main(["build", "--model", "mlp", "--runtime", "compiled"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and "arm-none-eabi-gcc not found" in err[0] and "gcc-arm-none-eabi" in err[0]
