"""Builds the tiny test firmwares of tests/fixtures/board with arm-none-eabi-gcc (used by test_board*.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "board"
GCC = "arm-none-eabi-gcc"
CFLAGS = [
    "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=softfp", "-Os", "-g",
    "-ffreestanding", "-nostdlib", "-nostartfiles", "-Wl,--gc-sections", "-Wall", "-Werror",
]  # fmt: skip


def build_firmware(out_dir: Path, name: str, sources: list[str], defines: tuple[str, ...] = ()) -> Path:
    """Compile `sources` (file names in fixtures/board) into out_dir/name.elf; skip if gcc is missing."""
    gcc = shutil.which(GCC)
    if gcc is None:
        pytest.skip(
            f"{GCC} is not installed: cannot build the board test firmwares (apt install gcc-arm-none-eabi)"
        )
    elf = out_dir / f"{name}.elf"
    cmd = [gcc, *CFLAGS, f"-T{FIXTURES / 'link.ld'}", f"-I{FIXTURES}", *(f"-D{d}" for d in defines)]
    cmd += [str(FIXTURES / s) for s in sources] + ["-o", str(elf)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"building {name} failed:\n{' '.join(cmd)}\n{result.stderr}")
    return elf


def test_fixture_sources_exist() -> None:
    for name in ("link.ld", "hw.h", "startup.c", "demo.c", "faults.c", "cyccnt.S"):
        assert (FIXTURES / name).is_file(), name
