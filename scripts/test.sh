#!/usr/bin/env bash
# All tests: lint, pytest (host kernels vs TFLite Micro, feature parity, emulator, footprint, data formats),
# then the Robot Framework suites on the embedded board. Bootstraps first. Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
export TF_CPP_MIN_LOG_LEVEL=2
echo "== ruff"
"$PY" -m ruff check training sim tests
echo "== pytest"
"$PY" -m pytest -q tests
echo "== robot (BACKEND=${BACKEND:-embedded})"
mkdir -p build/robot
"$ROOT/.venv/bin/robot" --outputdir build/robot --variable "BACKEND:${BACKEND:-embedded}" robot_tests/
echo "== robot, LIS2DW12 on I2C1 (BACKEND=${BACKEND:-embedded})"
"$ROOT/.venv/bin/robot" --outputdir build/robot/lis2dw12 --variable "BACKEND:${BACKEND:-embedded}" \
  --variable SENSOR:lis2dw12 robot_tests/gestures.robot
echo "== robot, the other built-in models: mlp_robust (gestures suite), cnn_deep (cnn suite) (BACKEND=${BACKEND:-embedded})"
"$ROOT/.venv/bin/robot" --outputdir build/robot/mlp_robust --variable "BACKEND:${BACKEND:-embedded}" \
  --variable MODEL:mlp_robust robot_tests/gestures.robot
"$ROOT/.venv/bin/robot" --outputdir build/robot/cnn_deep --variable "BACKEND:${BACKEND:-embedded}" \
  --variable MODEL:cnn_deep robot_tests/cnn.robot
