"""Compile the generated model, the firmware/nn kernels and the feature code for the host.

The same C files as the firmware (portable path, since the host has no __ARM_FEATURE_DSP), loaded
with ctypes: this is how tests and the benchmark check bit-exactness against TFLite Micro quickly.
"""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import numpy as np

from tinyml_disco.app.resources import FIRMWARE, host_cc


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
    cc = host_cc()
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


class ConvParams(ctypes.Structure):
    """tdnn_conv_params (firmware/nn/include/tdnn.h) on the host ABI, for calling kernel helpers directly."""

    _fields_ = [("weights", ctypes.c_void_p), ("bias", ctypes.c_void_p), ("mult", ctypes.c_void_p),
                ("shift", ctypes.c_void_p), ("mean_mult", ctypes.c_int32),
                *((name, ctypes.c_int16) for name in (
                    "in_h", "in_w", "in_c", "out_h", "out_w", "out_c", "k_h", "k_w", "stride_h", "stride_w",
                    "pad_top", "pad_left", "pool_w", "input_zp", "out_offset", "act_min", "act_max", "mean_shift",
                    "mean_out_zp")),
                ("fast_requant", ctypes.c_uint8), ("mean_fused", ctypes.c_uint8)]


class KernelLib:
    """The firmware/nn kernels alone as a host shared library (no model): their buffer-size functions are the
    one source of truth for scratch sizes, and the compiler's numbers are checked against them."""

    def __init__(self, out_dir: Path) -> None:
        cc = host_cc()
        out_dir.mkdir(parents=True, exist_ok=True)
        lib = out_dir / "libtdnn_host.so"
        cmd = [cc, "-O1", "-shared", "-fPIC", "-std=c11", "-Wall", "-Wextra", "-Werror",
               f"-I{FIRMWARE / 'nn' / 'include'}", "-o", str(lib), *map(str, sorted((FIRMWARE / "nn").glob("*.c")))]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"host kernel build failed:\n{' '.join(cmd)}\n{proc.stderr}")
        self._lib = ctypes.CDLL(str(lib))
        self._lib.tdnn_convolve_s8_scratch_size.argtypes = [ctypes.POINTER(ConvParams)]
        self._lib.tdnn_convolve_s8_scratch_size.restype = ctypes.c_int32
        self._lib.tdnn_convolve_s8_quad_flash_scratch_size.argtypes = [ctypes.POINTER(ConvParams)]
        self._lib.tdnn_convolve_s8_quad_flash_scratch_size.restype = ctypes.c_int32

    def conv_scratch_elems(self, **geometry: int) -> int:
        """tdnn_convolve_s8_scratch_size for a layer (int16 elements); fields not given are 0."""
        p = ConvParams(**geometry)
        return int(self._lib.tdnn_convolve_s8_scratch_size(ctypes.byref(p)))

    def conv_flash_scratch_elems(self, **geometry: int) -> int:
        """tdnn_convolve_s8_quad_flash_scratch_size for a layer (int16 elements); fields not given are 0."""
        p = ConvParams(**geometry)
        return int(self._lib.tdnn_convolve_s8_quad_flash_scratch_size(ctypes.byref(p)))
