"""Graph passes before planning: reject what the firmware cannot run, fold views, fuse conv + pool / mean.

Each pass returns a new Graph; operator indices are kept, so later errors still point at the right place
in the .tflite. What a fusion decides is written to typed fields of the surviving CONV_2D (graph.PoolFusion,
graph.MeanFusion), which ops/conv_2d.py reads.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tinyml_disco.compiler import ops
from tinyml_disco.compiler.graph import (
    Graph,
    MeanFusion,
    Operator,
    PoolFusion,
    UnsupportedModelError,
    fail_op,
    out_shape,
)
from tinyml_disco.compiler.ops import mean
from tinyml_disco.compiler.ops.base import act_range, activation, requant_params

EDGE_OPS = ("QUANTIZE", "DEQUANTIZE")


def check_supported(g: Graph) -> None:
    supported = ", ".join(ops.SUPPORTED_OPS)
    # QUANTIZE/DEQUANTIZE at the model's input or output: a float model edge (a mid-graph QUANTIZE, e.g. the
    # requantization the converter puts before a CONCATENATION, is just an op the registry lacks).
    io = set(g.inputs) | set(g.outputs)
    edge = [op for op in g.operators if op.op in EDGE_OPS and io & {*op.inputs, *op.outputs}]
    if edge:
        listed = "; ".join(f"operator {op.index} is {op.op}" for op in edge)
        raise UnsupportedModelError(
            f"{listed}: the firmware takes and returns int8 tensors, so the model must not convert at its edges. "
            "Convert with converter.inference_input_type = tf.int8 and inference_output_type = tf.int8 "
            f"(training/train.py convert_int8 does). Supported ops: {supported}")
    bad = [op for op in g.operators if op.op not in ops.REGISTRY]
    if bad:
        listed = "; ".join(f"operator {op.index} is {op.op}" for op in bad)
        raise UnsupportedModelError(f"unsupported op(s): {listed}. Supported ops: {supported}")
    if len(g.inputs) != 1 or len(g.outputs) != 1:
        raise UnsupportedModelError(f"model must have 1 input and 1 output, has {len(g.inputs)} and {len(g.outputs)}")
    for role, idx in (("model input", g.inputs[0]), ("model output", g.outputs[0])):
        t = g.tensors[idx]
        if t.dtype != "int8":
            raise UnsupportedModelError(f"{role} tensor {idx} '{t.name}' is {t.dtype}; the firmware needs int8 "
                                        "input and output (converter.inference_input_type = tf.int8)")
    check_wiring(g)


def check_wiring(g: Graph) -> None:
    """Each op has the inputs its spec needs and one output, reads only constants, the model input or what an
    earlier op wrote, and the model output is written (a damaged .tflite breaks this, a converted model never)."""
    written = {g.inputs[0]}
    for op in g.operators:
        need, most = ops.REGISTRY[op.op].inputs
        if not need <= len(op.inputs) <= most or any(i < 0 for i in op.inputs[:need]) or len(op.outputs) != 1:
            raise fail_op(op, f"has {len(op.inputs)} inputs {op.inputs} and {len(op.outputs)} outputs; "
                          f"{op.op} takes {need}..{most} inputs and 1 output (is the .tflite damaged?)")
        for i in op.inputs:
            if i >= 0 and i not in written and g.tensors[i].data is None:
                raise fail_op(op, f"reads tensor {i} '{g.tensors[i].name}', which has no constant data (its buffer is "
                              "empty), is not the model input and is written by no earlier operator (is the .tflite "
                              "damaged?)")
        if op.outputs[0] in written or g.tensors[op.outputs[0]].data is not None:
            raise fail_op(op, f"writes tensor {op.outputs[0]}, which is already written or constant "
                          "(is the .tflite damaged?)")
        written.add(op.outputs[0])
    if g.outputs[0] not in written or g.outputs[0] == g.inputs[0]:
        raise UnsupportedModelError(f"no operator writes the model output tensor {g.outputs[0]}")


def _renamed(op: Operator, src: int, dst: int) -> Operator:
    return dataclasses.replace(op, inputs=[dst if t == src else t for t in op.inputs],
                               outputs=[dst if t == src else t for t in op.outputs])


def fold_views(g: Graph) -> Graph:
    """Drop RESHAPE/EXPAND_DIMS/SQUEEZE: later ops read the view's input bytes directly.

    A view that produces the model output instead makes its producer write to the output. Each op keeps
    the shapes it was converted with (Operator.in_shapes / out_shapes).
    """
    rename: dict[int, int] = {}
    kept: list[Operator] = []
    for op in g.operators:
        op = dataclasses.replace(op, inputs=[rename.get(t, t) for t in op.inputs], outputs=list(op.outputs),
                                 in_shapes=tuple(g.tensors[t].shape if t >= 0 else () for t in op.inputs),
                                 out_shapes=tuple(g.tensors[t].shape for t in op.outputs))
        if op.op not in ops.VIEW_OPS:
            kept.append(op)
            continue
        src, dst = op.inputs[0], op.outputs[0]
        a, b = g.tensors[src], g.tensors[dst]
        if a.dtype != b.dtype or not np.array_equal(a.scale, b.scale) or not np.array_equal(a.zero_point, b.zero_point):
            raise fail_op(op, "input and output quantization differ; a view must keep scale and zero point")
        if dst in g.outputs:
            if src in g.inputs:
                raise fail_op(op, "the model only reshapes its input; nothing to compile")
            # Producer of src writes straight into the model output.
            kept = [_renamed(o, src, dst) for o in kept]
            rename = {k: (dst if v == src else v) for k, v in rename.items()}
            rename[src] = dst
        else:
            rename[dst] = src
    return Graph(g.tensors, kept, g.inputs, g.outputs)


def _readers(g: Graph) -> dict[int, list[Operator]]:
    """Tensor index -> the operators that read it (the fusion passes look one consumer ahead)."""
    readers: dict[int, list[Operator]] = {}
    for op in g.operators:
        for t in op.inputs:
            readers.setdefault(t, []).append(op)
    return readers


def _only_reader(readers: dict[int, list[Operator]], op: Operator, kind: str) -> Operator | None:
    nxt = readers.get(op.outputs[0], [])
    return nxt[0] if len(nxt) == 1 and nxt[0].op == kind else None


def fuse_conv_pool(g: Graph) -> Graph:
    """CONV_2D -> MAX_POOL_2D (1x2, stride 1x2, VALID) becomes one conv call with pool_w = 2.

    Requantization and clamping are monotonic, so max(requant(a), requant(b)) == requant(max(a, b)):
    half the requantizations, no pool pass, no full-size conv output buffer. Skipped when a left
    shift could wrap (shift > 0) or the two clamps do not intersect.
    """
    readers = _readers(g)
    drop: set[int] = set()
    kept: list[Operator] = []
    for op in g.operators:
        if op.index in drop:
            continue
        pool = _only_reader(readers, op, "MAX_POOL_2D") if op.op == "CONV_2D" else None
        if pool is not None and op.outputs[0] not in g.outputs and _fusable(g, op, pool):
            lo, hi = act_range(op, activation(op), g.tensors[op.outputs[0]])
            plo, phi = act_range(pool, activation(pool), g.tensors[pool.outputs[0]])
            fusion = PoolFusion(pool.index, out_shape(g, op)[2], (max(lo, plo), min(hi, phi)))
            kept.append(dataclasses.replace(op, outputs=list(pool.outputs), out_shapes=pool.out_shapes, pool=fusion))
            drop.add(pool.index)
        else:
            kept.append(op)
    return Graph(g.tensors, kept, g.inputs, g.outputs)


def _fusable(g: Graph, conv: Operator, pool: Operator) -> bool:
    o = pool.options
    if (o.get("filter_h"), o.get("filter_w"), o.get("stride_h"), o.get("stride_w")) != (1, 2, 1, 2):
        return False
    if o.get("padding") != "VALID" or len(out_shape(g, conv)) != 4:
        return False
    c_out, p_out = g.tensors[conv.outputs[0]], g.tensors[pool.outputs[0]]
    if c_out.dtype != "int8" or float(c_out.scale[0]) != float(p_out.scale[0]) or \
            int(c_out.zero_point[0]) != int(p_out.zero_point[0]):
        return False
    inp, w = g.tensors[conv.inputs[0]], g.tensors[conv.inputs[1]]
    if inp.scale.size != 1 or w.data is None:
        return False
    _, shifts = requant_params(conv, inp, w, c_out, w.shape[0])
    lo, hi = act_range(conv, activation(conv), c_out)
    plo, phi = act_range(pool, activation(pool), p_out)
    return max(shifts) <= 0 and max(lo, plo) <= min(hi, phi)


def fuse_conv_mean(g: Graph) -> Graph:
    """CONV_2D -> MEAN over all its positions (global average pooling) becomes one conv call.

    The MEAN only needs each channel's sum of the conv's int8 outputs, and a sum of integers does not
    depend on the order it is taken in: the conv kernel adds each requantized, clamped int8 output to
    its channel's sum instead of storing it, then applies tdnn_mean_s8's arithmetic. Bit-exact by
    construction, and the conv's full output buffer is never needed.
    """
    readers = _readers(g)
    drop: set[int] = set()
    kept: list[Operator] = []
    for op in g.operators:
        if op.index in drop:
            continue
        red = _only_reader(readers, op, "MEAN") if op.op == "CONV_2D" and op.outputs[0] not in g.outputs else None
        spec = mean.prepare(g, red) if red is not None else None
        shape = out_shape(g, op)
        if red is not None and spec is not None and len(shape) == 4 and spec.count == shape[1] * shape[2] \
                and spec.channels == shape[3] and spec.in_zp == int(g.tensors[op.outputs[0]].zero_point[0]):
            fusion = MeanFusion(red.index, spec.mult, spec.shift, spec.out_zp, op.outputs[0])
            kept.append(dataclasses.replace(op, outputs=list(red.outputs), mean=fusion))
            drop.add(red.index)
        else:
            kept.append(op)
    return Graph(g.tensors, kept, g.inputs, g.outputs)

