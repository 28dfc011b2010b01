"""Read a .tflite flatbuffer into the compiler's graph (compiler/graph.py); no TensorFlow needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tflite

from tinyml_disco.compiler import ops
from tinyml_disco.compiler.graph import Graph, Operator, Tensor
from tinyml_disco.compiler.tflite_verify import ModelFormatError, verify

_TYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 6: "bool",
               7: "int16", 9: "int8", 17: "int4"}
_NP_TYPES = {"float32": np.float32, "int32": np.int32, "uint8": np.uint8, "int64": np.int64,
             "int16": np.int16, "int8": np.int8}
_OP_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}

__all__ = ["ModelFormatError", "parse", "load"]


def _options(op_name: str, raw_op) -> dict[str, object]:
    """Builtin options through the op's own parser (compiler/ops); ops the compiler does not know keep none."""
    table = raw_op.BuiltinOptions()
    spec = ops.get(op_name)
    return spec.parse_options(table) if table is not None and spec is not None else {}


def _tensor(model, buf: bytes, sub, i: int) -> Tensor:
    t = sub.Tensors(i)
    dtype = _TYPE_NAMES.get(t.Type(), f"type{t.Type()}")
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    q = t.Quantization()
    scale = np.asarray(q.ScaleAsNumpy(), dtype=np.float32) if q is not None and q.ScaleLength() else \
        np.zeros(0, np.float32)
    zp = np.asarray(q.ZeroPointAsNumpy(), dtype=np.int64) if q is not None and q.ZeroPointLength() else \
        np.zeros(0, np.int64)
    qdim = int(q.QuantizedDimension()) if q is not None else 0
    data = None
    b = model.Buffers(t.Buffer())
    if b is not None:
        if b.DataLength():
            raw = b.DataAsNumpy().tobytes()
        elif b.Offset() > 1:  # large models keep buffers after the flatbuffer
            raw = buf[b.Offset(): b.Offset() + b.Size()]
        else:
            raw = b""
        if raw:
            if dtype not in _NP_TYPES:
                raise ModelFormatError(f"tensor {i} ({t.Name().decode()}): constant of type {dtype} "
                                       "is not supported; use full-integer int8 quantization")
            data = np.frombuffer(raw, dtype=_NP_TYPES[dtype]).reshape(shape)
    return Tensor(i, (t.Name() or b"").decode(errors="replace"), shape, dtype, scale, zp, qdim, data)


def parse(buf: bytes, source: str = "<bytes>") -> Graph:
    """Parse the first subgraph. Raises ModelFormatError naming the file and the broken part; the whole flatbuffer
    is verified first (compiler/tflite_verify.py), so no reader ever follows an offset out of the file."""
    verify(buf, source)
    where = "model header"
    try:
        model = tflite.Model.GetRootAsModel(buf, 0)
        if model.SubgraphsLength() != 1:
            raise ModelFormatError(f"{source}: {model.SubgraphsLength()} subgraphs; exactly 1 is supported")
        sub = model.Subgraphs(0)
        tensors = []
        for i in range(sub.TensorsLength()):
            where = f"tensor {i}"
            tensors.append(_tensor(model, buf, sub, i))
        ops = []
        for i in range(sub.OperatorsLength()):
            where = f"operator {i}"
            raw = sub.Operators(i)
            code = model.OperatorCodes(raw.OpcodeIndex())
            opcode = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
            name = _OP_NAMES.get(opcode, f"BUILTIN_{opcode}")
            if name == "CUSTOM":
                name = f"CUSTOM:{(code.CustomCode() or b'').decode(errors='replace')}"
            ops.append(Operator(i, name, [int(x) for x in raw.InputsAsNumpy()],
                                [int(x) for x in raw.OutputsAsNumpy()], _options(name, raw)))
        return Graph(tensors, ops, [int(x) for x in sub.InputsAsNumpy()], [int(x) for x in sub.OutputsAsNumpy()])
    except ModelFormatError:
        raise
    except Exception as exc:  # flatbuffers raises plain IndexError/struct.error on corrupt input
        raise ModelFormatError(f"{source}: malformed flatbuffer while reading {where}: "
                               f"{type(exc).__name__}: {exc}") from exc


def load(path: str | Path) -> Graph:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such model file; run `tinyml-disco train` first")
    return parse(p.read_bytes(), str(p))
