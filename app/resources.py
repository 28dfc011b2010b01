"""Where the product's non-Python files are, in a checkout and in an installed wheel alike, and the external
tools it needs (with the Debian packages that provide them).

The package layout keeps the repository's relative layout: in a checkout this module is <repo>/app/resources.py
and the firmware is <repo>/firmware/; installed, it is <site-packages>/tinyml_disco/app/resources.py and the
firmware ships as package data in <site-packages>/tinyml_disco/firmware/ (setup.py). So one rule finds both.
The firmware tree is only read (make -C firmware writes under BUILD_DIR), so a read-only install is fine.
Build outputs go to ./build (tinyml_disco.training.artifacts) or --build-dir; the native hook and the TFLM library go to
per-user caches (~/.cache/tinyml-disco/).
"""

from __future__ import annotations

import shutil
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the checkout, or <site-packages>/tinyml_disco
FIRMWARE = PACKAGE_ROOT / "firmware"
# Offline sources beside a checkout (../shared/tflm/...); an installed package has none and says so when asked.
SHARED = PACKAGE_ROOT.parent / "shared"

CROSS_APT = "gcc-arm-none-eabi libnewlib-arm-none-eabi"


def firmware_dir() -> Path:
    """The firmware source tree (Makefile, src/, nn/, include/, linker/, tflm/)."""
    if not (FIRMWARE / "Makefile").is_file():
        raise FileNotFoundError(f"the firmware sources are missing from {FIRMWARE}: reinstall tinyml-disco "
                                "(pip install --force-reinstall tinyml-disco) or run from a full checkout")
    return FIRMWARE


def require_cross_toolchain(tool: str = "arm-none-eabi-gcc") -> None:
    """Fail with the Debian packages to install when the Arm cross compiler (or make) is missing."""
    if shutil.which(tool) is None:
        raise RuntimeError(f"{tool} not found: install the Debian/Ubuntu packages {CROSS_APT} "
                           f"(sudo apt-get install {CROSS_APT}; in a checkout scripts/bootstrap.sh does it)")
    require_make()


def require_make() -> None:
    if shutil.which("make") is None:
        raise RuntimeError("make not found: install the Debian/Ubuntu package make (sudo apt-get install make)")


def host_cc() -> str:
    """The host C compiler for the host builds of the kernels, or a clear error naming the package."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise RuntimeError("no host C compiler (gcc) found: install the Debian/Ubuntu package gcc "
                           "(sudo apt-get install gcc; in a checkout scripts/bootstrap.sh does it)")
    return cc
