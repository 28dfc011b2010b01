"""Seeded mutators: raw byte mutations, structural .tflite mutations (through the flatbuffer object API), text
mutations for CSV. Every function takes a random.Random, so a seed reproduces a run exactly."""

from __future__ import annotations

import copy
import random
import struct

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

INTERESTING_U32 = (0, 1, 2, 4, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFE)


def bytes_mutation(rng: random.Random, data: bytes, donors: list[bytes] | None = None) -> tuple[str, bytes]:
    """One random byte-level mutation -> (description, mutated bytes)."""
    b = bytearray(data)
    kind = rng.choice(("flip", "byte", "word", "truncate", "delete", "insert", "duplicate", "splice"))
    if not b:
        return "empty", b""
    at = rng.randrange(len(b))
    if kind == "flip":
        b[at] ^= 1 << rng.randrange(8)
    elif kind == "byte":
        b[at] = rng.randrange(256)
    elif kind == "word":
        at -= at % 4
        value = rng.choice(INTERESTING_U32 + (len(b), len(b) + 4, len(b) - 4, rng.randrange(1 << 32)))
        b[at:at + 4] = struct.pack("<I", value & 0xFFFF_FFFF)[: len(b) - at]
    elif kind == "truncate":
        del b[at:]
    elif kind == "delete":
        del b[at:at + rng.randint(1, 64)]
    elif kind == "insert":
        b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == "duplicate":
        n = rng.randint(1, 64)
        b[at:at] = b[at:at + n]
    else:
        donor = rng.choice(donors or [data])
        if donor:
            src = rng.randrange(len(donor))
            n = rng.randint(1, 128)
            b[at:at + n] = donor[src:src + n]
    return f"{kind}@{at}", bytes(b)


def _pack(model: schema.ModelT) -> bytes:
    builder = flatbuffers.Builder(4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def unpack_tflite(data: bytes) -> schema.ModelT:
    return schema.ModelT.InitFromPackedBuf(bytearray(data), 0)


def _index(rng: random.Random, n: int) -> int:
    return rng.choice((-1, -2, n, n + 1, 1 << 20, 0x7FFF_FFFF, rng.randrange(max(n, 1))))


def tflite_structure_mutation(rng: random.Random, base: schema.ModelT) -> tuple[str, bytes]:
    """One structural mutation of a parsed .tflite model (indices, types, shapes, quantization, buffers, ops)."""
    m = copy.deepcopy(base)
    sg = m.subgraphs[0]
    n_t, n_b, n_ops = len(sg.tensors), len(m.buffers), len(sg.operators)
    kind = rng.choice(("tensor_buffer", "tensor_type", "tensor_shape", "quant_scale", "quant_zero_point",
                       "op_input", "op_output", "op_code_index", "builtin_code", "graph_io", "buffer_data",
                       "drop_op", "dup_op", "drop_tensor", "two_subgraphs", "drop_buffer", "version"))
    t = sg.tensors[rng.randrange(n_t)]
    op = sg.operators[rng.randrange(n_ops)] if n_ops else None
    if kind == "tensor_buffer":
        t.buffer = _index(rng, n_b) & 0xFFFF_FFFF
    elif kind == "tensor_type":
        t.type = rng.choice((0, 1, 2, 3, 4, 6, 7, 9, 10, 15, 17, 99, 127))
    elif kind == "tensor_shape":
        shape = list(t.shape if t.shape is not None else [])
        how = rng.choice(("zero", "negative", "huge", "add", "remove", "none"))
        if how == "none":
            t.shape = None
        elif how == "add":
            t.shape = shape + [rng.randint(1, 4)]
        elif how == "remove" and shape:
            t.shape = shape[:-1]
        elif shape:
            i = rng.randrange(len(shape))
            shape[i] = {"zero": 0, "negative": -1, "huge": 1 << 28}.get(how, 2)
            t.shape = shape
    elif kind in ("quant_scale", "quant_zero_point"):
        if t.quantization is None:
            t.quantization = schema.QuantizationParametersT()
        if kind == "quant_scale":
            t.quantization.scale = rng.choice(([0.0], [-1.0], [float("nan")], [float("inf")], [], [1e-30, 2e-30],
                                               [1e30]))
        else:
            t.quantization.zeroPoint = rng.choice(([300], [-300], [], [0, 0, 0], [1 << 40]))
    elif kind in ("op_input", "op_output") and op is not None:
        seq = list(op.inputs if kind == "op_input" else op.outputs)
        if seq:
            seq[rng.randrange(len(seq))] = _index(rng, n_t)
        else:
            seq = [_index(rng, n_t)]
        if kind == "op_input":
            op.inputs = seq
        else:
            op.outputs = seq
    elif kind == "op_code_index" and op is not None:
        op.opcodeIndex = _index(rng, len(m.operatorCodes)) & 0xFFFF_FFFF
    elif kind == "builtin_code":
        code = m.operatorCodes[rng.randrange(len(m.operatorCodes))]
        code.builtinCode = rng.choice((0, 3, 9, 22, 25, 32, 40, 97, 150, 255, 10_000))
        code.deprecatedBuiltinCode = min(code.builtinCode, 127)
    elif kind == "graph_io":
        which = rng.choice(("inputs", "outputs"))
        setattr(sg, which, rng.choice(([], [_index(rng, n_t)], [0, 1], [n_t - 1])))
    elif kind == "buffer_data":
        nonempty = [b for b in m.buffers if b.data is not None and len(b.data)]
        if nonempty:
            buf = rng.choice(nonempty)
            data = np.asarray(buf.data, dtype=np.uint8)
            how = rng.choice(("truncate", "extend", "empty", "random"))
            if how == "truncate":
                buf.data = data[: rng.randrange(len(data))]
            elif how == "extend":
                buf.data = np.concatenate([data, np.zeros(rng.randint(1, 16), np.uint8)])
            elif how == "empty":
                buf.data = None
            else:
                buf.data = np.frombuffer(bytes(rng.randrange(256) for _ in range(len(data))), np.uint8)
    elif kind == "drop_op" and n_ops:
        del sg.operators[rng.randrange(n_ops)]
    elif kind == "dup_op" and op is not None:
        sg.operators.insert(rng.randrange(n_ops + 1), copy.deepcopy(op))
    elif kind == "drop_tensor":
        del sg.tensors[rng.randrange(n_t)]
    elif kind == "two_subgraphs":
        m.subgraphs.append(copy.deepcopy(sg))
    elif kind == "drop_buffer" and n_b > 1:
        del m.buffers[rng.randrange(1, n_b)]
    elif kind == "version":
        m.version = rng.choice((0, 2, 4, 0xFFFF_FFFF))
    try:
        return kind, _pack(m)
    except (struct.error, ValueError, TypeError, OverflowError) as exc:  # the builder refused the values
        return f"{kind} (unpackable: {type(exc).__name__}; byte mutation instead)", bytes_mutation(rng, _pack(base))[1]


CSV_TOKENS = ("nan", "inf", "-inf", "1e999", "", " ", "0x10", "1,2", '"', "\x00", "\ufeff", "é", "1e-400", "--1",
              "9" * 400, "0.5\t", "NaN", "true")


def csv_text_mutation(rng: random.Random, text: str) -> tuple[str, bytes, bool]:
    """One CSV mutation -> (description, file bytes, benign). Benign mutations keep the data (line ends, blank lines,
    a BOM, whitespace around cells): the reader must still return exactly the original samples."""
    lines = text.splitlines()
    kind = rng.choice(("crlf", "blank_lines", "bom", "spaces", "token", "drop_line", "dup_line", "swap_lines",
                       "cell_count", "header", "latin1", "binary", "truncate", "bytes"))
    benign = kind in ("crlf", "blank_lines", "bom", "spaces")
    row = rng.randrange(1, len(lines)) if len(lines) > 1 else 0
    if kind == "crlf":
        return kind, "\r\n".join(lines).encode() + b"\r\n", benign
    if kind == "blank_lines":
        lines.insert(row, "")
        lines.append("")
    elif kind == "bom":
        return kind, b"\xef\xbb\xbf" + text.encode(), benign
    elif kind == "spaces":
        cells = lines[row].split(",")
        lines[row] = ",".join(f" {c} " for c in cells)
    elif kind == "token":
        cells = lines[row].split(",")
        cells[rng.randrange(len(cells))] = rng.choice(CSV_TOKENS)
        lines[row] = ",".join(cells)
    elif kind == "drop_line":
        del lines[rng.randrange(len(lines))]
    elif kind == "dup_line":
        lines.insert(row, lines[row])
    elif kind == "swap_lines" and len(lines) > 2:
        j = rng.randrange(1, len(lines))
        lines[row], lines[j] = lines[j], lines[row]
    elif kind == "cell_count":
        lines[row] += rng.choice((",", ",1", ",1,2"))
    elif kind == "header":
        lines[0] = rng.choice(("", "t,x,y,z", "timestamp_s,ax_g,ay_g", "timestamp_s,ax_g,ay_g,az_g,az_g",
                               "ax_g,ay_g,az_g,timestamp_s", "timestamp_s;ax_g;ay_g;az_g",
                               "TIMESTAMP_S,AX_G,AY_G,AZ_G"))
    elif kind == "latin1":
        lines[row] += ",Gesch\u00e4ttelt"
        return kind, "\n".join(lines).encode("latin-1") + b"\n", False
    elif kind == "binary":
        raw = bytearray("\n".join(lines).encode())
        at = rng.randrange(len(raw))
        raw[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        return kind, bytes(raw), False
    elif kind == "truncate":
        raw = "\n".join(lines).encode()
        return kind, raw[: rng.randrange(len(raw))], False
    else:
        desc, raw = bytes_mutation(rng, "\n".join(lines).encode())
        return f"bytes:{desc}", raw, False
    return kind, ("\n".join(lines) + "\n").encode(), benign
