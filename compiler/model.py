"""Compile a graph into model.c / model.h: passes -> memory plan -> one emitted call per op.

Everything an interpreter would do at run time happens here instead: requantization multipliers and
shifts are precomputed, the input zero point is folded into the bias, activation buffers get fixed
offsets in one static arena, and the op sequence becomes straight-line calls. The compiler knows neither
TensorFlow nor the training code: the caller passes what the firmware's feature stage needs (FeatureInput).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from tinyml_disco.compiler import ops, passes
from tinyml_disco.compiler.emit import c_string
from tinyml_disco.compiler.fileio import write_if_changed
from tinyml_disco.compiler.graph import Graph, UnsupportedModelError
from tinyml_disco.compiler.memory import plan_memory
from tinyml_disco.compiler.ops import conv_2d
from tinyml_disco.compiler.ops.base import EmitContext, OpMemory, OpSpec


@dataclass(frozen=True)
class FeatureInput:
    """The firmware feature pipeline that produces the model input (firmware/src/features_<id>.c) and the
    requantization that takes its integer statistics to the int8 input (computed by the caller)."""

    pipeline_id: str
    c_define: str  # e.g. FEATURES_MEAN_STD
    input_size: int  # values the pipeline makes per window
    multiplier: int
    shift: int
    zero_point: int


@dataclass(frozen=True)
class ModelMeta:
    """What the firmware needs besides the graph (from model.json)."""

    name: str
    labels: tuple[str, ...]
    window: int
    hop: int
    sample_rate_hz: int
    sensor_full_scale_g: int
    sensor_lsb_ug: int
    features: FeatureInput | None = None  # None: network only (host tests); the firmware needs a pipeline
    tflite_sha256: str = ""  # of the .tflite compiled: recorded in model.c/model.h/the manifest (artifact links)


@dataclass(frozen=True)
class OpRecord:
    """One entry of the manifest: what model_invoke calls, in order (profile and tests read this)."""

    op_index: int
    op: str
    kernel: str
    scratch_offset: int | None
    scratch_bytes: int
    fused: tuple[int, ...] = ()  # operators of the .tflite folded into this call (a max pool, a MEAN)


@dataclass
class CompiledModel:
    model_c: str
    model_h: str
    arena_bytes: int  # planned: intermediate activations + kernel scratch (model input/output are the caller's)
    weight_bytes: int  # int8 weights + int32 biases, as stored in the .tflite
    const_bytes: int  # everything the generated C puts in flash
    ops: list[str] = field(default_factory=list)
    arena_first_fit_bytes: int = 0  # plain first fit, no in-place / overlap: what the planner improves on
    io_bytes: int = 0  # model input + output tensors (caller's buffers; TFLM keeps them in its arena)
    macs: int = 0
    manifest: list[OpRecord] = field(default_factory=list)
    plan_text: str = ""
    tflite_sha256: str = ""  # ModelMeta.tflite_sha256: which .tflite this C was generated from
    weight_streams: str = "auto"  # the choice it was compiled with (WEIGHT_STREAMS; the manifest records it)


MANIFEST = "model_manifest.json"


def feature_defines(f: FeatureInput) -> str:
    return f"""
/* Feature pipeline "{f.pipeline_id}" (firmware/src/features_{f.pipeline_id}.c): integer statistic of raw counts
 * -> int8 model input in one requantization. */
#define {f.c_define} 1
#define MODEL_FEATURE_MULT {f.multiplier}
#define MODEL_FEATURE_SHIFT {f.shift}
#define MODEL_INPUT_ZERO_POINT {f.zero_point}
"""


WEIGHT_STREAMS = ("auto", "ram", "flash")  # where the quad conv's weight streams live (flash_stream_policy)


class WeightStreamsError(ValueError):
    """The weight-stream choice cannot be met (flash streams asked for a layer that cannot have them). Not an
    UnsupportedModelError: the model is fine, the option is not (so `--runtime auto` does not fall back to TFLM)."""


def flash_stream_policy(g: Graph, mem: dict[int, OpMemory], arena_budget: int | None,
                        weight_streams: str = "auto", ram_arena: int | None = None) -> set[int]:
    """The conv layers whose quad weight streams become const data (flash) instead of run-time scratch.
    "ram": none. "flash": every CONV_2D (WeightStreamsError naming the first that cannot,
    conv_2d.flash_streams_refusal).
    "auto": none while the arena with RAM streams fits the budget (TFLM's arena head for the same model: flash
    streams cost flash, 2.4-6.4x the layer's int8 weights) or without a budget; otherwise, among the layers that
    allow it (conv_2d.flash_streams_ok), one at a time the layer whose flash streams give the smallest arena,
    while that shrinks the arena and until the arena fits the budget. Updates mem. ram_arena: the arena planned for
    mem as given (RAM streams), when the caller has it."""
    if weight_streams not in WEIGHT_STREAMS:
        raise WeightStreamsError(f"unknown weight-stream choice {weight_streams!r}; choose one of "
                                 f"{', '.join(WEIGHT_STREAMS)}")
    chosen: set[int] = set()
    if weight_streams == "flash":
        for op in g.operators:
            if op.op != "CONV_2D":
                continue
            why = conv_2d.flash_streams_refusal(g, op)
            if why is not None:
                raise WeightStreamsError(f"op {op.index} (CONV_2D) cannot read its weight streams from flash: {why}; "
                                         "choose weight streams auto or ram for this model")
            mem[op.index] = conv_2d.memory(g, op, flash=True)
            chosen.add(op.index)
        return chosen
    if weight_streams == "ram" or arena_budget is None:  # RAM streams, or no budget to plan for
        return chosen
    arena = plan_memory(g, mem).arena if ram_arena is None else ram_arena
    if arena <= arena_budget:
        return chosen
    flash = {op.index: conv_2d.memory(g, op, flash=True)
             for op in g.operators if op.op == "CONV_2D" and conv_2d.flash_streams_ok(g, op)}
    while arena > arena_budget:
        trials = {i: plan_memory(g, {**mem, i: m}).arena for i, m in flash.items() if i not in chosen}
        best = min(trials, key=lambda i: (trials[i], i), default=None)
        if best is None or trials[best] >= arena:
            break
        mem[best] = flash[best]
        arena = trials[best]
        chosen.add(best)
    return chosen


@dataclass(frozen=True)
class PreparedModel:
    """A graph after the passes, checked, with each op's memory needs and its compile with RAM streams (which
    emitted every op: every check compile_model makes): what compile_prepared needs besides the weight-stream
    choice."""

    g: Graph
    meta: ModelMeta
    specs: dict[int, OpSpec]
    mem: dict[int, OpMemory]
    ram: CompiledModel


def prepare_model(g: Graph, meta: ModelMeta) -> PreparedModel:
    """Validate the model (UnsupportedModelError, naming the op, for what the compiler cannot take) and compile it
    with RAM streams: the checks and the planning that do not depend on the weight-stream choice."""
    passes.check_supported(g)
    g = passes.fuse_conv_mean(passes.fuse_conv_pool(passes.fold_views(g)))
    in_t = g.tensors[g.inputs[0]]
    out_t = g.tensors[g.outputs[0]]
    if out_t.size != len(meta.labels):
        raise UnsupportedModelError(f"model has {out_t.size} outputs but model.json lists {len(meta.labels)} labels")
    if meta.features is not None and in_t.size != meta.features.input_size:
        raise UnsupportedModelError(f"model input has {in_t.size} values but feature pipeline "
                                    f"{meta.features.pipeline_id!r} makes {meta.features.input_size}")
    specs = {op.index: ops.REGISTRY[op.op] for op in g.operators}
    mem = {op.index: specs[op.index].memory(g, op) for op in g.operators}
    return PreparedModel(g, meta, specs, mem, _emit(g, meta, specs, mem, frozenset(), "ram"))


def compile_model(g: Graph, meta: ModelMeta, arena_budget: int | None = None,
                  weight_streams: str = "auto") -> CompiledModel:
    """arena_budget: TFLM's arena head for this model (app/tflm_arena.py), the budget of weight_streams "auto"
    (flash_stream_policy); None: RAM streams everywhere unless weight_streams is "flash"."""
    return compile_prepared(prepare_model(g, meta), arena_budget, weight_streams)


def compile_prepared(p: PreparedModel, arena_budget: int | None = None,
                     weight_streams: str = "auto") -> CompiledModel:
    """model.c / model.h of a prepared model, the weight streams where weight_streams says (flash_stream_policy):
    the prepared RAM-stream compile when the policy chooses no flash streams, else one more emission. An unknown
    choice: WeightStreamsError from the policy."""
    mem = dict(p.mem)  # the policy updates this copy
    flash = flash_stream_policy(p.g, mem, arena_budget, weight_streams, p.ram.arena_bytes)
    if not flash:
        return replace(p.ram, weight_streams=weight_streams)
    return _emit(p.g, p.meta, p.specs, mem, frozenset(flash), weight_streams)


def _emit(g: Graph, meta: ModelMeta, specs: dict[int, OpSpec], mem: dict[int, OpMemory], flash: frozenset[int],
          weight_streams: str) -> CompiledModel:
    """Plan the arena for mem and emit every op (the conv layers in flash with their streams as const data)."""
    in_t = g.tensors[g.inputs[0]]
    out_t = g.tensors[g.outputs[0]]
    mp = plan_memory(g, mem)
    ctx = EmitContext(g, mp.buf, mp.scratch, sum(m.macs for m in mem.values()), flash)
    decls: list[str] = []
    calls: list[str] = []
    manifest: list[OpRecord] = []
    const_bytes = 0
    weight_bytes = 0
    for op in g.operators:
        emit = specs[op.index].emit
        assert emit is not None, "views are folded before emission"
        e = emit(ctx, op)
        decls += e.decls
        calls.append(f"    /* op {op.index}: {op.op} */\n    {e.call}")
        fused = tuple(f.index for f in (op.pool, op.mean) if f is not None)
        manifest.append(OpRecord(op.index, op.op, e.kernel, mp.scratch_offsets.get(op.index),
                                 mem[op.index].scratch_bytes, fused))
        const_bytes += e.const_bytes
        weight_bytes += e.weight_bytes
    defines = feature_defines(meta.features) if meta.features is not None else ""
    model_h = model_header(meta, in_t.size, out_t.size, mp.arena, defines)
    labels = ", ".join(c_string(lab) for lab in meta.labels)
    arena_decl = f"static int8_t arena[{max(mp.arena, 4)}] __attribute__((aligned(4)));\n" if mp.arena else ""
    source = f"{_comment(meta.name)}/model.tflite{_sha_note(meta)}"
    model_c = (f"/* Generated by tinyml-disco from {source}. Do not edit. */\n"
               '#include "model.h"\n#include "tdnn.h"\n\n'
               f"const char *const model_labels[MODEL_NUM_CLASSES] = {{{labels}}};\n\n"
               + arena_decl + "\n" + "\n".join(decls) +  # the arena first: flash streams hold its addresses
               "\nvoid model_invoke(const int8_t *input, int8_t *output)\n{\n"
               + "\n".join(calls) + "\n}\n")
    return CompiledModel(model_c, model_h, mp.arena, weight_bytes, const_bytes, [op.op for op in g.operators],
                         arena_first_fit_bytes=mp.first_fit, io_bytes=in_t.size + out_t.size, macs=ctx.total_macs,
                         manifest=manifest, plan_text=mp.text, tflite_sha256=meta.tflite_sha256,
                         weight_streams=weight_streams)


def _comment(text: str) -> str:
    return text.replace("*/", "* /")


def _sha_note(meta: ModelMeta) -> str:
    return f" (sha256 {meta.tflite_sha256})" if meta.tflite_sha256 else ""


def model_header(meta: ModelMeta, n_in: int, n_out: int, arena: int, feature_defines: str) -> str:
    guard = "TINYML_MODEL_H"
    return f"""/* Generated by tinyml-disco from {_comment(meta.name)}/model.tflite{_sha_note(meta)}. Do not edit. */
#ifndef {guard}
#define {guard}

#include <stdint.h>

#define MODEL_NAME {c_string(meta.name)}
#define MODEL_TFLITE_SHA256 {c_string(meta.tflite_sha256)}
#define MODEL_INPUT_SIZE {n_in}
#define MODEL_OUTPUT_SIZE {n_out}
#define MODEL_NUM_CLASSES {len(meta.labels)}
#define MODEL_WINDOW {meta.window}
#define MODEL_HOP {meta.hop}
#define MODEL_SAMPLE_RATE_HZ {meta.sample_rate_hz}
#define MODEL_SENSOR_FS_G {meta.sensor_full_scale_g}
#define MODEL_SENSOR_LSB_UG {meta.sensor_lsb_ug}
#define MODEL_ARENA_BYTES {arena}
{feature_defines}
extern const char *const model_labels[MODEL_NUM_CLASSES];

/* Runs the network on one int8 input tensor, writes the int8 output tensor. */
void model_invoke(const int8_t *input, int8_t *output);

#endif /* {guard} */
"""


def manifest_dict(compiled: CompiledModel) -> dict:
    """model_manifest.json: the calls in order, the memory figures and what the C was generated from (the .tflite,
    the weight-stream choice); app/bench.py memory_figures and app/profile.py read it."""
    return {"ops": [asdict(r) for r in compiled.manifest], "arena_bytes": compiled.arena_bytes,
            "tflite_sha256": compiled.tflite_sha256, "weight_streams": compiled.weight_streams,
            "arena_first_fit_bytes": compiled.arena_first_fit_bytes, "io_bytes": compiled.io_bytes,
            "const_bytes": compiled.const_bytes, "weight_bytes": compiled.weight_bytes, "macs": compiled.macs}


def write(compiled: CompiledModel, out_dir: Path) -> None:
    """model.c, model.h and the manifest, each written atomically (compiler/fileio.py) and only when it changed:
    a file with the same content keeps its mtime, so make does not recompile an unchanged model."""
    write_if_changed(out_dir / MANIFEST, json.dumps(manifest_dict(compiled), indent=1) + "\n")
    write_if_changed(out_dir / "model.h", compiled.model_h)
    write_if_changed(out_dir / "model.c", compiled.model_c)


def read_manifest(out_dir: Path) -> list[OpRecord]:
    data = json.loads((out_dir / MANIFEST).read_text())
    return [OpRecord(**{**r, "fused": tuple(r.get("fused", ()))}) for r in data["ops"]]
