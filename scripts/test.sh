#!/usr/bin/env bash
# All tests: lint, pytest (host kernels vs TFLite Micro, feature parity, emulator, footprint, data formats,
# the embedded board against Renode), then the Robot Framework suites on the embedded board and, when Renode
# is available, the same suites on Renode 1.15.3 plus the Renode-style suites under renode-test.
# Bootstraps first. Idempotent.
#
# Renode: TINYML_RENODE_PACKAGE=<portable .tar.xz/.tar.gz> (or --renode PACKAGE) installs it first
# (scripts/install_renode.sh); RENODE=/path/to/renode or `renode` on PATH use an existing one. Without any,
# the Renode suites skip and say why.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${1:-}" = "--renode" ]; then
  TINYML_RENODE_PACKAGE="${2:?--renode needs the path of a Renode portable package}"
  shift 2
fi
"$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
ROBOT="$ROOT/.venv/bin/robot"
export TF_CPP_MIN_LOG_LEVEL=2

if [ -n "${TINYML_RENODE_PACKAGE:-}" ]; then
  RENODE="$("$ROOT/scripts/install_renode.sh" "$TINYML_RENODE_PACKAGE" | tail -n 1)"
  export RENODE
elif [ -z "${RENODE:-}" ] && command -v renode >/dev/null 2>&1; then
  RENODE="$(command -v renode)"
  export RENODE
fi
echo "== Renode: ${RENODE:-not available (suites on Renode skip; see README, Renode)}"
# The flash rehearsal (tests/test_board_rehearsal.py) writes the ELF into Renode through gdb-multiarch.
if [ -n "${RENODE:-}" ] && ! command -v gdb-multiarch >/dev/null 2>&1; then
  echo "== installing gdb-multiarch for the flash rehearsal on Renode"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq gdb-multiarch >/dev/null ||
    echo "gdb-multiarch could not be installed: the flash rehearsal will skip and say why"
fi
took() { echo "== ($1: $(( SECONDS - $2 )) s)"; }

echo "== ruff"
"$PY" -m ruff check app compiler training sim tests scripts setup.py tinyml_disco
echo "== import names under tinyml_disco.* (scripts/namespace_codemod.py --check)"
"$PY" scripts/namespace_codemod.py --check
echo "== lint-imports (layering contracts in .importlinter)"
"$PY" scripts/lint_imports.py
echo "== pytest"
t=$SECONDS; "$PY" -m pytest -q tests; took pytest $t
echo "== robot (BACKEND=${BACKEND:-embedded})"
mkdir -p build/robot
t=$SECONDS; "$ROBOT" --outputdir build/robot --variable "BACKEND:${BACKEND:-embedded}" robot_tests/; took robot $t
echo "== robot under pabot (one process per suite), LIS2DW12 on I2C1 (BACKEND=${BACKEND:-embedded})"
t=$SECONDS
# pabot finds `robot` on PATH; --pabotlibport 0: PabotLib on a free port, not the fixed 8270
PATH="$ROOT/.venv/bin:$PATH" "$ROOT/.venv/bin/pabot" --processes 2 --pabotlibport 0 --outputdir build/robot/lis2dw12 \
  --variable "BACKEND:${BACKEND:-embedded}" --variable SENSOR:lis2dw12 robot_tests/gestures.robot robot_tests/cnn.robot
took "robot lis2dw12" $t
echo "== robot, the other built-in models: mlp_robust (gestures suite), cnn_deep (cnn suite) (BACKEND=${BACKEND:-embedded})"
t=$SECONDS
"$ROBOT" --outputdir build/robot/mlp_robust --variable "BACKEND:${BACKEND:-embedded}" \
  --variable MODEL:mlp_robust robot_tests/gestures.robot
"$ROBOT" --outputdir build/robot/cnn_deep --variable "BACKEND:${BACKEND:-embedded}" \
  --variable MODEL:cnn_deep robot_tests/cnn.robot
took "robot mlp_robust, cnn_deep" $t
echo "== robot, TFLite Micro runtime: mlp (gestures suite), cnn (cnn suite) (BACKEND=${BACKEND:-embedded})"
t=$SECONDS
"$ROBOT" --outputdir build/robot/tflm --variable "BACKEND:${BACKEND:-embedded}" --variable RUNTIME:tflm \
  robot_tests/gestures.robot robot_tests/cnn.robot
took "robot tflm" $t

if [ -n "${RENODE:-}" ] && [ "${BACKEND:-embedded}" != renode ]; then
  for sensor in lis3dsh lis2dw12; do
    echo "== robot on Renode ($RENODE), sensor $sensor"
    t=$SECONDS
    "$ROBOT" --outputdir "build/robot/renode-$sensor" --variable BACKEND:renode --variable "SENSOR:$sensor" \
      robot_tests/gestures.robot robot_tests/cnn.robot
    took "robot on Renode, $sensor" $t
  done
  echo "== robot on Renode ($RENODE), TFLite Micro runtime"
  t=$SECONDS
  "$ROBOT" --outputdir build/robot/renode-tflm --variable BACKEND:renode --variable RUNTIME:tflm \
    robot_tests/gestures.robot
  took "robot on Renode, tflm" $t
  echo "== renode-test robot_tests/renode/*.robot"
  pkg="$(dirname "$RENODE")"
  tvenv="$(dirname "$pkg")/test-venv"
  if [ -x "$pkg/renode-test" ] && [ -x "$tvenv/bin/python" ]; then
    mkdir -p build/renode-test
    t=$SECONDS
    (cd build/renode-test && PATH="$tvenv/bin:$PATH" timeout 900 "$pkg/renode-test" \
      "$ROOT"/robot_tests/renode/boot_and_protocol.robot "$ROOT"/robot_tests/renode/sensor_resd.robot)
    took renode-test $t
  else
    echo "renode-test skipped: $pkg has no renode-test or its Python requirements are not installed" \
         "(scripts/install_renode.sh PACKAGE installs both)"
  fi
fi
