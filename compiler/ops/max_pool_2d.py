"""MAX_POOL_2D -> tdnn_max_pool_s8 (firmware/nn/max_pool_s8.c)."""

from __future__ import annotations

from functools import partial

import tflite

from tinyml_disco.compiler.ops import pool
from tinyml_disco.compiler.ops.base import OpSpec, spatial_options

SPEC = OpSpec("MAX_POOL_2D", "max_pool_s8.c", spatial_options(tflite.Pool2DOptions), pool.memory,
              partial(pool.emit_with, "tdnn_max_pool_s8"))
