"""The model compiler: int8 .tflite -> C calling the firmware/nn kernels. TensorFlow-free; imports neither
`training` nor `sim` (import-linter enforces it).

tflite_reader -> graph -> passes -> memory (planner) -> ops/<op>.py (one OpSpec each) -> emit -> model.c/.h
"""

from tinyml_disco.compiler.graph import Graph, Operator, Tensor, UnsupportedModelError
from tinyml_disco.compiler.model import (
           CompiledModel,
           FeatureInput,
           ModelMeta,
           OpRecord,
           PreparedModel,
           WeightStreamsError,
           compile_model,
           compile_prepared,
           prepare_model,
           read_manifest,
           write,
)
from tinyml_disco.compiler.ops import SUPPORTED_OPS
from tinyml_disco.compiler.ops.base import SUPPORTED_ACTIVATIONS

__all__ = ["Graph", "Operator", "Tensor", "UnsupportedModelError", "CompiledModel", "FeatureInput", "ModelMeta",
           "OpRecord", "PreparedModel", "WeightStreamsError", "compile_model", "compile_prepared", "prepare_model",
           "read_manifest", "write", "SUPPORTED_OPS", "SUPPORTED_ACTIVATIONS"]
