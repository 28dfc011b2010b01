"""Compile the generated model, the firmware/nn kernels and the feature code for the host.

The same C files as the firmware (portable path, since the host has no __ARM_FEATURE_DSP), loaded
with ctypes: this is how tests and the benchmark check bit-exactness against TFLite Micro quickly.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
FIRMWARE = REPO / "firmware"


class HostModel:
    """ctypes view of one host-compiled model."""

    def __init__(self, lib_path: Path, n_in: int, n_out: int) -> None:
        self._lib = ctypes.CDLL(str(lib_path))
        self._lib.model_invoke.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self._lib.model_invoke.restype = None
        self.n_in = n_in
        self.n_out = n_out

    def invoke(self, inputs: np.ndarray) -> np.ndarray:
        """Run the network on each row of an int8 array (B, n_in); returns (B, n_out) int8."""
        x = np.ascontiguousarray(inputs, dtype=np.int8).reshape(-1, self.n_in)
        out = np.empty((x.shape[0], self.n_out), dtype=np.int8)
        for i in range(x.shape[0]):
            self._lib.model_invoke(x[i].ctypes.data, out[i].ctypes.data)
        return out

    def features(self, raw_windows: np.ndarray) -> np.ndarray:
        """firmware/src/features_*.c on each raw int16 window (B, window, 3); returns (B, n_in) int8."""
        fn = self._lib.features_compute  # absent when the model was compiled without a feature pipeline
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        fn.restype = None
        w = np.ascontiguousarray(raw_windows, dtype=np.int16)
        out = np.empty((w.shape[0], self.n_in), dtype=np.int8)
        for i in range(w.shape[0]):
            fn(w[i].ctypes.data, out[i].ctypes.data)
        return out


def build_host_model(model_dir: Path, out_dir: Path, n_in: int, n_out: int) -> HostModel:
    """Build libmodel.so from model_dir/model.c (+ kernels, features) with the host C compiler."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise RuntimeError("no host C compiler (gcc) found; scripts/bootstrap.sh installs it (Debian package gcc)")
    out_dir.mkdir(parents=True, exist_ok=True)
    lib = out_dir / "libmodel_host.so"
    sources = [model_dir / "model.c", *sorted((FIRMWARE / "src").glob("features_*.c")),
               *sorted((FIRMWARE / "nn").glob("*.c"))]
    cmd = [cc, "-O2", "-shared", "-fPIC", "-std=c11", "-Wall", "-Wextra", "-Werror",
           f"-I{model_dir}", f"-I{FIRMWARE / 'nn' / 'include'}", f"-I{FIRMWARE / 'include'}",
           "-o", str(lib), *map(str, sources)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"host build failed:\n{' '.join(cmd)}\n{proc.stderr}")
    return HostModel(lib, n_in, n_out)
