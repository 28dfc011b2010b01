"""tinyml_disco.sim.footprint on the tiny test firmware (built at test time) and on non-ARM files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinyml_disco.sim.errors import ElfFormatError
from tinyml_disco.sim.footprint import measure_footprint

try:
    from tests.test_board_firmware_build import build_firmware
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from test_board_firmware_build import build_firmware  # type: ignore[no-redef]


@pytest.fixture(scope="module")
def demo_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_firmware(tmp_path_factory.mktemp("fp"), "demo", ["startup.c", "demo.c"])


def _section_sizes(elf: Path) -> dict[str, int]:
    size = shutil.which("arm-none-eabi-size")
    if size is None:
        pytest.skip("arm-none-eabi-size missing")
    out = subprocess.run([size, "-A", str(elf)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip() and not line.startswith("Total")]
    return {r[0]: int(r[1]) for r in rows}


def test_footprint_matches_binutils(demo_elf: Path) -> None:
    fp = measure_footprint(demo_elf, top_symbols=5)
    sizes = _section_sizes(demo_elf)
    flash_sections = (".isr_vector", ".text", ".rodata", ".ARM.exidx", ".data")
    assert fp.flash_bytes == sum(sizes.get(name, 0) for name in flash_sections)
    assert fp.stack_bytes == 2048 and fp.stack_source == "symbol _stack_size"
    assert fp.sram_bytes == sizes.get(".data", 0) + sizes[".bss"] + 2048
    assert fp.ccm_bytes == 0 and fp.ram_bytes == fp.sram_bytes
    assert fp.fits and fp.problems() == []
    assert [s.name for s in fp.largest_symbols][0] == "main"
    assert len(fp.largest_symbols) == 5
    assert fp.largest_symbols[0].section == ".text"
    assert {s.name for s in fp.sections} >= {".isr_vector", ".text", ".bss"}


def test_footprint_json_and_table(demo_elf: Path) -> None:
    fp = measure_footprint(demo_elf)
    data = json.loads(fp.to_json())
    assert data["flash_bytes"] == fp.flash_bytes and data["fits"] is True
    assert data["largest_symbols"][0]["name"] == "main"
    table = fp.format_table()
    assert "flash" in table and "main" in table and "fits the STM32F407VG" in table


def test_footprint_cli(demo_elf: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tinyml_disco.sim.footprint", "--json", str(demo_elf)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1],
    )  # fmt: skip
    assert json.loads(out.stdout)["ram_bytes"] > 2048


def test_too_big_is_reported(demo_elf: Path) -> None:
    from dataclasses import replace

    fp = replace(measure_footprint(demo_elf), flash_bytes=2 * 1024 * 1024)
    assert not fp.fits
    assert "flash: 2097152 bytes used, 1048576 available" in fp.problems()[0]
    assert "DOES NOT FIT" in fp.format_table()


def test_not_an_elf(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ElfFormatError, match="not an ELF"):
        measure_footprint(path)


def test_not_an_arm_elf() -> None:
    host = Path(sys.executable).resolve()
    if host.read_bytes()[:4] != b"\x7fELF":
        pytest.skip("the Python interpreter is not an ELF on this host")
    with pytest.raises(ElfFormatError, match="not a 32-bit little-endian ARM ELF"):
        measure_footprint(host)
