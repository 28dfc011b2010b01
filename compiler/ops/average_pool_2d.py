"""AVERAGE_POOL_2D -> tdnn_avg_pool_s8 (firmware/nn/avg_pool_s8.c)."""

from __future__ import annotations

from functools import partial

import tflite

from tinyml_disco.compiler.ops import pool
from tinyml_disco.compiler.ops.base import OpSpec, spatial_options

SPEC = OpSpec("AVERAGE_POOL_2D", "avg_pool_s8.c", spatial_options(tflite.Pool2DOptions), pool.memory,
              partial(pool.emit_with, "tdnn_avg_pool_s8"))
