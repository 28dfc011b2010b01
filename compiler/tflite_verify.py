"""Check a .tflite flatbuffer before anything reads it: every offset, vector and string inside the file, every
tensor, buffer, opcode and subgraph index in range, shapes and quantization sane.

The flatbuffers runtime reads whatever an offset points at, so a damaged file otherwise fails deep inside a
reader (`struct.error ... 134218180 bytes`) or, in C++ (TFLite Micro), reads out of bounds. `verify(buf, source)`
raises `ModelFormatError` naming the file, the table and field, and the fix. Tables and fields follow
tensorflow/lite/schema/schema.fbs (field slot k sits at vtable offset 4 + 2k). Builtin options tables are
checked as tables (header and inline fields inside the file); their few vector fields are not known here.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass


class ModelFormatError(ValueError):
    """The file is not a readable .tflite model; the message says where it broke."""


SCHEMA_VERSION = 3
# TensorType -> bytes per element (the types a constant buffer may hold; others are rejected when constant).
ELEMENT_BYTES = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 9: 1, 10: 8, 11: 16, 12: 8, 15: 2, 16: 4}
MAX_TENSOR_TYPE = 20
MAX_RANK = 6
MAX_ELEMENTS = 1 << 24  # far above anything that fits a 1 MB-flash MCU; a larger shape is a damaged file
MAX_BUILTIN_OPTIONS_TYPE = 255


@dataclass(frozen=True)
class _Table:
    pos: int
    vtable: int
    vt_size: int
    obj_size: int
    where: str


class _Verifier:
    def __init__(self, buf: bytes, source: str) -> None:
        self.buf = buf
        self.n = len(buf)
        self.source = source

    def fail(self, where: str, what: str) -> ModelFormatError:
        return ModelFormatError(f"{self.source}: damaged .tflite: {where}: {what}; write the model again "
                                "(`tinyml-disco train`) or pass the file the converter wrote")

    def _unpack(self, fmt: str, pos: int, where: str) -> int:
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > self.n:
            raise self.fail(where, f"reads {size} bytes at offset {pos}, outside the {self.n}-byte file")
        return int(struct.unpack_from(fmt, self.buf, pos)[0])

    def table(self, pos: int, where: str) -> _Table:
        vt = pos - self._unpack("<i", pos, where)
        vt_size = self._unpack("<H", vt, f"{where} (vtable)")
        obj_size = self._unpack("<H", vt + 2, f"{where} (vtable)")
        if vt_size < 4 or vt_size % 2 or vt + vt_size > self.n:
            raise self.fail(where, f"vtable of {vt_size} bytes at offset {vt} does not fit the file")
        if obj_size < 4 or pos + obj_size > self.n:
            raise self.fail(where, f"table of {obj_size} bytes at offset {pos} does not fit the file")
        # Every field the vtable lists starts inside the table, including the fields this reader never reads
        # (TFLite Micro reads them all).
        for k, off in enumerate(struct.unpack_from(f"<{(vt_size - 4) // 2}H", self.buf, vt + 4)):
            if off >= obj_size:
                raise self.fail(where, f"field {k} at {off} lies outside its {obj_size}-byte table")
        return _Table(pos, vt, vt_size, obj_size, where)

    def slot(self, t: _Table, k: int, size: int, name: str) -> int | None:
        """Absolute position of field slot k (None if absent), checked to lie inside its table."""
        voff = 4 + 2 * k
        if voff + 2 > t.vt_size:
            return None
        off = self._unpack("<H", t.vtable + voff, f"{t.where}.{name}")
        if off == 0:
            return None
        if off + size > t.obj_size:
            raise self.fail(f"{t.where}.{name}", f"field at {off} + {size} bytes overruns its {t.obj_size}-byte table")
        return t.pos + off

    def scalar(self, t: _Table, k: int, fmt: str, name: str, default: int = 0) -> int:
        p = self.slot(t, k, struct.calcsize(fmt), name)
        return default if p is None else self._unpack(fmt, p, f"{t.where}.{name}")

    def ref(self, t: _Table, k: int, name: str) -> int | None:
        p = self.slot(t, k, 4, name)
        if p is None:
            return None
        target = p + self._unpack("<I", p, f"{t.where}.{name}")
        if target >= self.n:
            raise self.fail(f"{t.where}.{name}", f"offset points to {target}, past the end of the {self.n}-byte file")
        return target

    def vector(self, t: _Table, k: int, elem: int, name: str) -> tuple[int, int]:
        """(start of elements, length) of a vector field; (0, 0) if absent."""
        target = self.ref(t, k, name)
        if target is None:
            return 0, 0
        length = self._unpack("<I", target, f"{t.where}.{name}")
        if target + 4 + length * elem > self.n:
            raise self.fail(f"{t.where}.{name}", f"vector of {length} x {elem} bytes at offset {target} runs past "
                            f"the end of the {self.n}-byte file")
        return target + 4, length

    def ints(self, t: _Table, k: int, fmt: str, name: str) -> list[int]:
        start, length = self.vector(t, k, struct.calcsize(fmt), name)
        return [int(x) for x in struct.unpack_from(f"<{length}{fmt[-1]}", self.buf, start)] if length else []

    def floats(self, t: _Table, k: int, name: str) -> list[float]:
        start, length = self.vector(t, k, 4, name)
        return list(struct.unpack_from(f"<{length}f", self.buf, start)) if length else []

    def string(self, t: _Table, k: int, name: str) -> None:
        start, length = self.vector(t, k, 1, name)  # the bytes, then a 0 terminator
        if start and start + length >= self.n:
            raise self.fail(f"{t.where}.{name}", "string has no terminator inside the file")

    def tables(self, t: _Table, k: int, name: str) -> list[_Table]:
        start, length = self.vector(t, k, 4, name)
        out = []
        for i in range(length):
            p = start + 4 * i
            out.append(self.table(p + self._unpack("<I", p, f"{t.where}.{name}[{i}]"), f"{name}[{i}]"))
        return out


def _index(v: _Verifier, where: str, value: int, count: int, what: str, allow_minus_one: bool = False) -> None:
    if allow_minus_one and value == -1:
        return
    if not 0 <= value < count:
        raise v.fail(where, f"{what} index {value} is out of range (the model has {count})")


def _check_shape(v: _Verifier, where: str, shape: list[int]) -> int:
    if len(shape) > MAX_RANK:
        raise v.fail(where, f"rank {len(shape)} (shape {shape}); at most {MAX_RANK} dimensions are sane")
    n = 1
    for d in shape:
        if not 0 <= d <= MAX_ELEMENTS:
            raise v.fail(where, f"dimension {d} in shape {shape} is not a size")
        n *= d
    if n > MAX_ELEMENTS:
        raise v.fail(where, f"shape {shape} has {n} elements (more than {MAX_ELEMENTS})")
    return n


def _check_quant(v: _Verifier, q: _Table, where: str, shape: list[int], ttype: int) -> None:
    v.floats(q, 0, "min")
    v.floats(q, 1, "max")
    scale = v.floats(q, 2, "scale")
    zp = v.ints(q, 3, "q", "zero_point")
    if v.scalar(q, 4, "<B", "details_type"):
        v.ref(q, 5, "details")
    qdim = v.scalar(q, 6, "<i", "quantized_dimension")
    if not scale:
        return
    bad = [s for s in scale if not (math.isfinite(s) and s > 0)]
    if bad:
        raise v.fail(f"{where}.quantization.scale", f"scale {bad[0]} is not a positive finite number")
    if zp and len(zp) != len(scale):
        raise v.fail(f"{where}.quantization", f"{len(scale)} scales but {len(zp)} zero points")
    if len(scale) > 1:
        if not 0 <= qdim < max(len(shape), 1) or shape[qdim] != len(scale):
            raise v.fail(f"{where}.quantization", f"{len(scale)} per-channel scales do not match dimension {qdim} "
                         f"of shape {shape}")
    if ttype == 9 and any(not -128 <= z <= 127 for z in zp):
        raise v.fail(f"{where}.quantization.zero_point", f"int8 zero point out of [-128, 127]: {zp[:4]}")


def verify(buf: bytes, source: str = "<bytes>") -> None:
    """Raise ModelFormatError unless buf is a structurally sound TFLite flatbuffer (see the module docstring)."""
    v = _Verifier(buf, source)
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ModelFormatError(f"{source}: not a .tflite file (expected identifier 'TFL3' at byte 4, "
                               f"found {buf[4:8]!r}); pass the model.tflite written by `tinyml-disco train`")
    model = v.table(v._unpack("<I", 0, "root offset"), "Model")
    version = v.scalar(model, 0, "<I", "version")
    if version != SCHEMA_VERSION:
        raise v.fail("Model.version", f"schema version {version}, this reader knows version {SCHEMA_VERSION}")
    opcodes = v.tables(model, 1, "operator_codes")
    for oc in opcodes:
        v.string(oc, 1, "custom_code")
    subgraphs = v.tables(model, 2, "subgraphs")
    if len(subgraphs) != 1:
        raise ModelFormatError(f"{source}: {len(subgraphs)} subgraphs; exactly 1 is supported")
    v.string(model, 3, "description")
    buffers = v.tables(model, 4, "buffers")
    buffer_bytes: list[int] = []
    for b in buffers:
        _, size = v.vector(b, 0, 1, "data")
        off = v.scalar(b, 1, "<Q", "offset")
        if off > 1:  # large models keep buffer bytes after the flatbuffer
            ext = v.scalar(b, 2, "<Q", "size")
            if off + ext > v.n:
                raise v.fail(f"{b.where}.offset", f"{ext} bytes at offset {off} run past the end of the file")
            size = ext
        buffer_bytes.append(size)
    for i in v.ints(model, 5, "<i", "metadata_buffer"):
        _index(v, "Model.metadata_buffer", i, len(buffers), "buffer")
    for m in v.tables(model, 6, "metadata"):
        v.string(m, 0, "name")
        _index(v, f"{m.where}.buffer", v.scalar(m, 1, "<I", "buffer"), len(buffers), "buffer")
    sub = subgraphs[0]
    tensors = v.tables(sub, 0, "tensors")
    for t in tensors:
        shape = v.ints(t, 0, "<i", "shape")
        n = _check_shape(v, f"{t.where}.shape", shape)
        ttype = v.scalar(t, 1, "<b", "type")
        if not 0 <= ttype <= MAX_TENSOR_TYPE:
            raise v.fail(f"{t.where}.type", f"unknown tensor type {ttype}")
        bi = v.scalar(t, 2, "<I", "buffer")
        _index(v, f"{t.where}.buffer", bi, len(buffers), "buffer")
        if buffer_bytes[bi] and ttype in ELEMENT_BYTES and buffer_bytes[bi] != n * ELEMENT_BYTES[ttype]:
            raise v.fail(f"{t.where}.buffer", f"buffer {bi} holds {buffer_bytes[bi]} bytes but shape {shape} of "
                         f"type {ttype} needs {n * ELEMENT_BYTES[ttype]}")
        v.string(t, 3, "name")
        q = v.ref(t, 4, "quantization")
        if q is not None:
            _check_quant(v, v.table(q, f"{t.where}.quantization"), t.where, shape, ttype)
        if v.ref(t, 6, "sparsity") is not None:
            raise v.fail(f"{t.where}.sparsity", "sparse tensors are not supported (convert without sparsity)")
        v.ints(t, 7, "<i", "shape_signature")
        v.tables(t, 9, "variant_tensors")
    for name, k in (("inputs", 1), ("outputs", 2)):
        ios = v.ints(sub, k, "<i", name)
        if not ios:
            raise v.fail(f"SubGraph.{name}", "the model has none")
        for i in ios:
            _index(v, f"SubGraph.{name}", i, len(tensors), "tensor")
    for op in v.tables(sub, 3, "operators"):
        _index(v, f"{op.where}.opcode_index", v.scalar(op, 0, "<I", "opcode_index"), len(opcodes), "operator code")
        for name, k in (("inputs", 1), ("outputs", 2), ("intermediates", 8)):
            for i in v.ints(op, k, "<i", name):
                _index(v, f"{op.where}.{name}", i, len(tensors), "tensor", allow_minus_one=name == "inputs")
        for tk, ok, name in ((3, 4, "builtin_options"), (11, 12, "builtin_options_2")):
            kind = v.scalar(op, tk, "<B", f"{name}_type")
            target = v.ref(op, ok, name)
            if kind and target is not None:
                v.table(target, f"{op.where}.{name}")
        v.vector(op, 5, 1, "custom_options")
        v.vector(op, 7, 1, "mutating_variable_inputs")
        large = v.scalar(op, 9, "<Q", "large_custom_options_offset")
        if large and large + v.scalar(op, 10, "<Q", "large_custom_options_size") > v.n:
            raise v.fail(f"{op.where}.large_custom_options_offset", "custom options run past the end of the file")
    v.string(sub, 4, "name")
    for sd in v.tables(model, 7, "signature_defs"):
        for name, k in (("inputs", 0), ("outputs", 1)):
            for tm in v.tables(sd, k, name):
                v.string(tm, 0, "name")
                _index(v, f"{sd.where}.{name}", v.scalar(tm, 1, "<I", "tensor_index"), len(tensors), "tensor")
        v.string(sd, 2, "signature_key")
        _index(v, f"{sd.where}.subgraph_index", v.scalar(sd, 4, "<I", "subgraph_index"), len(subgraphs), "subgraph")
