#!/usr/bin/env bash
# Idempotent bootstrap: Debian cross toolchain + project venv with pinned PyPI deps.
# Usage: scripts/bootstrap.sh           (safe to run any number of times)
#        scripts/bootstrap.sh --board   also the real-board tools: Debian gdb-multiarch, openocd, stlink-tools
#                                       and PyPI pyocd (README "Real board"); not part of the quick start.
set -euo pipefail
BOARD=0
[ "${1:-}" = "--board" ] && BOARD=1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TINYML_VENV:-$ROOT/.venv}"
STAMP="$VENV/.bootstrap-stamp"

need_apt=()
command -v arm-none-eabi-gcc >/dev/null 2>&1 || need_apt+=(gcc-arm-none-eabi)
[ -e /usr/lib/arm-none-eabi/newlib/libc.a ] || need_apt+=(libnewlib-arm-none-eabi)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
command -v make >/dev/null 2>&1 || need_apt+=(make)
if [ "$BOARD" = 1 ]; then
  command -v gdb-multiarch >/dev/null 2>&1 || need_apt+=(gdb-multiarch)
  command -v openocd >/dev/null 2>&1 || need_apt+=(openocd)
  command -v st-flash >/dev/null 2>&1 || need_apt+=(stlink-tools)
fi
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "[bootstrap] installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}" >/dev/null
fi
# A headless browser for the report screenshot test (tests/test_report_html.py). Installed on its own: a system
# without the Debian package (Ubuntu ships chromium as a snap) keeps everything else, and the test skips saying so
# (a failure under CI=true, tests/conftest.py).
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  echo "[bootstrap] installing Debian package chromium (headless browser for the report screenshot test)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  { $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq &&
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null; } ||
    echo "[bootstrap] chromium could not be installed: tests/test_report_html.py's screenshot test will skip and say why"
fi

# A venv left half-made by an interrupted run (no pip in it) is made again.
if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  echo "[bootstrap] $VENV is incomplete (no pip): making it again"
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "[bootstrap] creating venv at $VENV"
  python3 -m venv "$VENV"
fi
# Reinstall only when the dependency list or the package layout changed (pyproject.toml, setup.py): the editable
# install maps the tinyml_disco.* import names to the repository folders (setuptools' editable finder).
want="$(cat "$ROOT/pyproject.toml" "$ROOT/setup.py" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
  echo "[bootstrap] installing Python packages (first run downloads ~1.5 GB: TensorFlow)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e "$ROOT[test]"
  echo "$want" > "$STAMP"
fi
if [ "$BOARD" = 1 ] && [ ! -x "$VENV/bin/pyocd" ]; then
  echo "[bootstrap] installing the board extra (pyocd)"
  "$VENV/bin/python" -m pip install -q -e "$ROOT[test,board]"
fi
# The emulator's native block hook (exact instruction counts in C): compiled with the host gcc into a
# cache keyed by a hash of its source; a no-op when that build exists.
(cd "$ROOT" && "$VENV/bin/python" -m tinyml_disco.sim.native.build >/dev/null)
echo "[bootstrap] ok: $("$VENV/bin/python" --version), $(arm-none-eabi-gcc --version | head -1)"
