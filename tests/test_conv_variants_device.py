"""Every tdnn_convolve_s8 variant (tdnn.h: general, full, clamp, pool_full, pool_clamp, the 32 k1 row-assembly
variants and the quad variant, once per pool / MEAN path, and with its weight streams in flash for the one-row
layers: tdnn_convolve_s8_quad_flash, streams from the compiler's conv_2d.quad_stream_c) on the emulated M4
(DSP/asm path) against the host build of the same C (portable path).

One hand-made model.c calls each variant once on the same input, each with a geometry and clamp that make it
the variant the compiler would pick (checked with tinyml_disco.compiler.ops.conv_2d.conv_variant), and concatenates the
outputs; the firmware runs it through INFER, the host library through ctypes.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from tinyml_disco.compiler.ops import conv_2d

REPO = Path(__file__).resolve().parents[1]
N_IN = 384  # the "raw" feature pipeline: a 128 x 3 window


# The quad variant picks its pool / MEAN path at run time: one layer per path, with (pool, mean, in_c, k_w, stride_w,
# out_h, pad_left) covering 2, 3, 5 and 6 chunks of 8 taps, a stride of 2, two output rows and SAME padding; then
# odd position steps (stride_w * in_c odd: the odd positions with the weight stream one tap later): the cnn's first
# conv (in_c 3, k_w 5: 15 taps run as 16) with the pool, with pool + MEAN over two rows, MEAN with SAME padding,
# and without the pool (even and odd positions in two calls; in_c 1 x k_w 6: an odd number of positions) at
# strides 1 and 3.
QUAD_LAYERS = ((0, 0, 8, 2, 1, 2, 0), (1, 0, 4, 4, 2, 1, 0), (0, 1, 16, 3, 1, 1, 0), (1, 1, 8, 5, 1, 2, 0),
               (0, 0, 8, 3, 1, 1, 1), (1, 0, 3, 5, 1, 1, 0), (1, 1, 3, 5, 1, 2, 0), (0, 1, 3, 5, 1, 1, 2),
               (0, 0, 1, 6, 1, 2, 0), (0, 0, 1, 6, 3, 1, 0))


def _variants() -> list[tuple[str, dict[str, int]]]:
    """(name, flags) from the header, k1 flags as declared in TDNN_CONV_K1_VARIANTS, the quad variant once per path."""
    header = (REPO / "firmware/nn/include/tdnn.h").read_text()
    out = [(n, {"k1": 0, "pool": int("pool" in n), "full": int(n.endswith("full")), "mean": 0, "alb": 0, "relu": 0,
                "fast": int(n != "general")})
           for n in re.findall(r"TDNN_CONV_DECL\((\w+)\)\n", header) if n not in ("name", "quad")]
    out += [("quad", {"quad": 1, "pool": pool, "mean": mean, "in_c": in_c, "k_w": k_w, "stride": stride, "out_h": oh,
                      "pad": pad})
            for pool, mean, in_c, k_w, stride, oh, pad in QUAD_LAYERS]
    # the flash streams (compiler: conv_2d.flash_stream_geometry, one output row) on the same layers
    out += [("quad_flash", {**f, "quad": 1}) for n, f in list(out) if n == "quad" and f["out_h"] == 1]
    for m in re.finditer(r"X\((k1_\w+), (\d), (\d), (\d), (\d), (\d)\)", header):
        pool, full, mean, alb, relu = (int(m.group(i)) for i in range(2, 7))
        out.append((m.group(1), {"k1": 1, "pool": pool, "full": full, "mean": mean, "alb": alb, "relu": relu,
                                 "fast": 1}))
    return out


@dataclass(frozen=True)
class QuadLayer:
    """conv_2d.QuadWeights of a hand-made layer."""

    geo: conv_2d.ConvGeometry
    weights: np.ndarray
    folded_bias: np.ndarray
    mult: list[int]
    shift: list[int]


def _layer(name: str, f: dict[str, int], rng: np.random.Generator) -> tuple[dict[str, object], int]:
    from tinyml_disco.compiler.ops import conv_2d

    if f.get("quad"):
        return _quad_layer(f, rng)
    in_c = 4 if f["alb"] or not f["k1"] else 3  # stride_w 1: stride_w * in_c even (x1al) or odd (x1un)
    k_h, k_w, pool_w = (1 if f["k1"] else 2), 3, 2 if f["pool"] else 1
    out_h, out_w, out_c = (1 if f["k1"] else 2), (4 if f["pool"] else 8), 4  # even padded rows: LDRD path
    in_h, in_w = out_h - 1 + k_h, out_w * pool_w - 1 + k_w
    zp_out = -20
    lo, hi = (-128, 127) if f["full"] else (-60, 90)
    if f["relu"]:
        zp_out = lo  # act_min >= out_offset: the rounding correction is clamped away
    weights = rng.integers(-8, 9, size=(out_c, k_h, k_w, in_c)).astype(np.int8)
    bias = rng.integers(-1000, 1000, size=out_c).astype(np.int64)
    shift = [-6] * out_c
    mult = rng.integers(1 << 30, (1 << 31) - 1, size=out_c)
    zp_in = -3
    folded = bias - zp_in * weights.astype(np.int64).reshape(out_c, -1).sum(axis=1)
    fast = f["fast"] and conv_2d.fast_requant_ok(bias, weights, shift, zp_out)
    geo = conv_2d.ConvGeometry(in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, 1, 1, 0, 0, pool_w)
    assert conv_2d.conv_variant(geo, bool(fast), lo, hi, bool(f["mean"]), zp_out) == f"tdnn_convolve_s8_{name}"
    mean = {"mean_mult": 1 << 30, "mean_shift": -2, "mean_out_zp": -5} if f["mean"] else \
        {"mean_mult": 0, "mean_shift": 0, "mean_out_zp": 0}
    fields = {"weights": conv_2d.reorder_conv_weights(weights), "bias": folded, "mult": mult, "shift": shift,
              **mean, "in_h": in_h, "in_w": in_w, "in_c": in_c, "out_h": out_h, "out_w": out_w, "out_c": out_c,
              "k_h": k_h, "k_w": k_w, "stride_h": 1, "stride_w": 1, "pad_top": 0, "pad_left": 0, "pool_w": pool_w,
              "input_zp": zp_in, "out_offset": zp_out, "act_min": lo, "act_max": hi, "fast_requant": int(fast),
              "mean_fused": f["mean"]}
    n_out = out_c if f["mean"] else out_h * out_w * out_c
    return {"geo": geo, "fields": fields}, n_out


def _quad_layer(f: dict[str, int], rng: np.random.Generator) -> tuple[dict[str, object], int]:
    """A layer the compiler gives the quad variant: full-range RELU (out_offset -128), out_c % 4 == 0."""
    from tinyml_disco.compiler.ops import conv_2d

    in_c, k_w, sw, out_h, pool_w = f["in_c"], f["k_w"], f["stride"], f["out_h"], 2 if f["pool"] else 1
    out_w, out_c = (3 if f["pool"] else 7), 8
    pad = f["pad"]  # SAME-style: the zero-point border on both sides
    out_w += ((out_w * pool_w - 1) * sw + k_w) * in_c % 2  # an even padded row length (every fast variant)
    in_h, in_w = out_h, (out_w * pool_w - 1) * sw + k_w - 2 * pad
    weights = rng.integers(-20, 21, size=(out_c, 1, k_w, in_c)).astype(np.int8)
    bias = rng.integers(-3000, 3000, size=out_c).astype(np.int64)
    shift = rng.integers(-9, -5, size=out_c).tolist()
    mult = rng.integers(1 << 30, (1 << 31) - 1, size=out_c)
    zp_in, zp_out = 5, -128
    folded = bias - zp_in * weights.astype(np.int64).reshape(out_c, -1).sum(axis=1)
    assert conv_2d.fast_requant_ok(bias, weights, shift, zp_out)
    geo = conv_2d.ConvGeometry(in_h, in_w, in_c, out_h, out_w, out_c, 1, k_w, 1, sw, 0, pad, pool_w)
    assert conv_2d.conv_variant(geo, True, -128, 127, bool(f["mean"]), zp_out) == "tdnn_convolve_s8_quad"
    mean = {"mean_mult": 1 << 30, "mean_shift": -2, "mean_out_zp": -5} if f["mean"] else \
        {"mean_mult": 0, "mean_shift": 0, "mean_out_zp": 0}
    fields = {"weights": conv_2d.reorder_conv_weights(weights), "bias": folded, "mult": mult, "shift": shift,
              **mean, "in_h": in_h, "in_w": in_w, "in_c": in_c, "out_h": out_h, "out_w": out_w, "out_c": out_c,
              "k_h": 1, "k_w": k_w, "stride_h": 1, "stride_w": sw, "pad_top": 0, "pad_left": pad, "pool_w": pool_w,
              "input_zp": zp_in, "out_offset": zp_out, "act_min": -128, "act_max": 127, "fast_requant": 1,
              "mean_fused": f["mean"]}
    return {"geo": geo, "fields": fields}, out_c if f["mean"] else out_h * out_w * out_c


def _model_c(layers: list[tuple[str, dict[str, object], int]]) -> tuple[str, int, int]:
    from tinyml_disco.compiler.emit import c_array, c_struct
    from tinyml_disco.compiler.ops import conv_2d

    decls, calls, off, scratch = [], [], 0, 0
    for i, (name, layer, n_out) in enumerate(layers):
        f = dict(layer["fields"])  # type: ignore[call-overload]
        p = f"conv_variant_{i}"
        streams = ""
        if name == "quad_flash":  # the compiler's const streams, the row end in this file's scratch
            q = QuadLayer(layer["geo"], f["weights"], np.asarray(f["bias"]),  # type: ignore[arg-type]
                          [int(v) for v in f["mult"]], [int(v) for v in f["shift"]])  # type: ignore[attr-defined]
            decls.append(conv_2d.quad_stream_c(q, f"{p}_streams", "(scratch)"))
            streams = f"{p}_streams, "
        decls += [c_array("int8_t", f"{p}_weights", f.pop("weights")), c_array("int32_t", f"{p}_bias", f.pop("bias")),
                  c_array("int32_t", f"{p}_mult", np.asarray(f.pop("mult"))),
                  c_array("int8_t", f"{p}_shift", np.asarray(f.pop("shift"))),
                  c_struct("tdnn_conv_params", p, [("weights", f"{p}_weights"), ("bias", f"{p}_bias"),
                                                   ("mult", f"{p}_mult"), ("shift", f"{p}_shift"), *f.items()])]
        calls.append(f"    tdnn_convolve_s8_{name}(&{p}, {streams}input, scratch, output + {off});")
        off += n_out
        scratch = max(scratch, layer["geo"].scratch_elems)  # type: ignore[attr-defined]
    # The run-time dispatcher once too, so that it is linked (its choice is checked on the bare core).
    calls.append(f"    tdnn_convolve_s8(&conv_variant_0, input, scratch, output + {off});")
    off += layers[0][2]
    text = ('#include "model.h"\n#include "tdnn.h"\n\nconst char *const model_labels[MODEL_NUM_CLASSES] = '
            '{"a", "b", "c"};\n\n' + f"static int16_t scratch[{scratch}] __attribute__((aligned(4)));\n\n" +
            "\n".join(decls) + "\n"
            "void model_invoke(const int8_t *input, int8_t *output)\n{\n" + "\n".join(calls) + "\n}\n")
    return text, off, scratch


def test_every_conv_variant_on_the_m4_matches_the_portable_path(tmp_path: Path) -> None:
    from tinyml_disco.app import pipeline
    from tinyml_disco.app.hostlib import build_host_model
    from tinyml_disco.compiler import ModelMeta
    from tinyml_disco.compiler.model import feature_defines, model_header
    from tinyml_disco.sim.session import embedded_session
    from tinyml_disco.training import features
    from tinyml_disco.training.artifacts import ModelPaths

    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc missing: run scripts/bootstrap.sh")
    rng = np.random.default_rng(2024)
    variants = _variants()
    assert len(variants) == 53, [n for n, _ in variants]
    layers = [(name, *_layer(name, flags, rng)) for name, flags in variants]
    model_c, n_out, _scratch = _model_c(layers)
    paths = ModelPaths(tmp_path / "variants")
    paths.root.mkdir(parents=True)
    meta = ModelMeta("variants", ("a", "b", "c"), 128, 128, 100, 8, 240,
                     features=features.feature_input("raw", 128, 240, 0.05, 0))
    paths.model_c.write_text(model_c)
    assert meta.features is not None
    (paths.root / "model.h").write_text(model_header(meta, N_IN, n_out, 0, feature_defines(meta.features)))
    (paths.root / "model.json").write_text("{}")
    elf = pipeline.build_firmware(paths, log=lambda _m: None)
    s = embedded_session(elf, sensor="none")
    s.start()
    x = np.random.default_rng(3).integers(-128, 128, size=(6, N_IN)).astype(np.int8)
    got = np.stack([np.frombuffer(s.infer(row).output, np.int8) for row in x])
    ref = build_host_model(paths.root, tmp_path / "host", N_IN, n_out).invoke(x)
    offsets = np.cumsum([0] + [n for _, _, n in layers])
    bad = [name for (name, _, _), lo, hi in zip(layers, offsets[:-1], offsets[1:], strict=True)
           if not np.array_equal(got[:, lo:hi], ref[:, lo:hi])]
    assert not bad, f"variants whose M4 output differs from the portable path: {bad}"
    assert np.array_equal(got[:, offsets[-1]:], got[:, :offsets[1]])  # the dispatcher on layer 0's params
    assert len(np.unique(ref)) > 50  # the outputs are not all clamped to one value
    _check_dispatcher(elf, layers)


def _check_dispatcher(elf: Path, layers: list[tuple[str, dict[str, object], int]]) -> None:
    """tdnn_convolve_s8 (the C run-time choice) enters the same variant as the compiler's conv_variant."""
    from tinyml_disco.sim.bare_core import SCRATCH_BASE, BareCore

    core = BareCore(elf)
    dispatcher = core.function("tdnn_convolve_s8")
    lo, hi = dispatcher.address, dispatcher.address + dispatcher.size
    core.write(SCRATCH_BASE, bytes(range(256)) + bytes(128))
    for i, (name, _layer, _n) in enumerate(layers):
        entered: list[str] = []

        def on_block(address: int, _n: int, entered: list[str] = entered) -> None:
            sym = core.symbols.lookup(address)
            name_ = sym.name if sym else hex(address)
            if not lo <= address < hi and name_.startswith("tdnn_convolve_s8_") and name_ not in entered:
                entered.append(name_)

        params = core.symbols.address_of(f"conv_variant_{i}")
        core.call("tdnn_convolve_s8", [params, SCRATCH_BASE, SCRATCH_BASE + 0x1000, SCRATCH_BASE + 0x800], on_block)
        # The dispatcher may inline the general kernel; any variant it enters must be the compiler's.
        name = "quad" if name == "quad_flash" else name  # the run-time choice has RAM streams only
        assert entered == [f"tdnn_convolve_s8_{name}"] or (name == "general" and not entered), (i, name, entered)
