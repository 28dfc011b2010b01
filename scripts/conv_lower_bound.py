#!/usr/bin/env python3
"""A lower bound on the retired instructions of a bit-exact direct int8 convolution for a trained model (README,
"A lower bound for any direct kernel"): the layer shapes of build/<model>/model.tflite, the best M4 register
blocking per SMLAD, a minimum per requantized output / pooled pair / MEAN input, and the dense, softmax and glue
instructions the profile measured (build/<model>/profile.json: `tinyml-disco profile --model M` first).

    .venv/bin/python scripts/conv_lower_bound.py cnn cnn_deep

No loop, pointer, bias or input-widening instruction is counted: a real kernel needs all of those on top.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from tinyml_disco.compiler import tflite_reader


@dataclass(frozen=True)
class Costs:
    """Instructions per unit of work."""

    per_smlad: float  # MAC: 1.30 at 2 accumulators x 5 operand pairs, 1.3125 at the quad kernel's 4 x 4
    per_output: float  # requantization: SMMLAR + SSAT with the shift folded (2), + ASR (3)
    per_pool_pair: float  # max of two accumulators: CMP + MOVLT (2), + IT (3)
    per_mean_input: float  # SADD16 on packed pairs (0.5), one ADD each (1)


BEST = Costs(1.30, 2, 2, 0.5)
QUAD = Costs(1.3125, 3, 3, 1.0)


@dataclass(frozen=True)
class Work:
    smlad: float  # MACs / 2
    outputs: int  # requantized outputs (after a fused max pool)
    pool_pairs: int
    mean_inputs: int
    rest: int  # measured instructions of the non-conv layers and model_invoke's glue


def conv_work(build: Path, model: str) -> Work:
    g = tflite_reader.load(build / model / "model.tflite")
    ops = g.operators
    smlad = 0.0
    outputs = pool_pairs = mean_inputs = 0
    for k, op in enumerate(ops):
        if op.op != "CONV_2D":
            continue
        out_c, _, k_w, in_c = g.tensors[op.inputs[1]].shape
        out_w = g.tensors[op.outputs[0]].shape[2]
        smlad += out_w * out_c * k_w * in_c / 2
        after = [o.op for o in ops[k + 1:k + 3]]
        if after[:1] == ["MAX_POOL_2D"]:
            pool_pairs += out_w // 2 * out_c
            outputs += out_w // 2 * out_c
        else:
            outputs += out_w * out_c
            mean_inputs += out_w * out_c if "MEAN" in after else 0
    profile = json.loads((build / model / "profile.json").read_text())
    rest = sum(int(layer["instructions"]) for layer in profile["layers"] if layer["op"] != "CONV_2D")
    return Work(smlad, outputs, pool_pairs, mean_inputs, rest + int(profile["glue_instructions"]))


def bound(w: Work, c: Costs) -> int:
    return round(w.smlad * c.per_smlad + w.outputs * c.per_output + w.pool_pairs * c.per_pool_pair
                 + w.mean_inputs * c.per_mean_input + w.rest)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--build-dir", type=Path, default=Path("build"))
    args = ap.parse_args()
    for m in args.models:
        w = conv_work(args.build_dir, m)
        print(f"{m}: {w.smlad:,.0f} SMLAD, {w.outputs:,} requantized outputs, {w.pool_pairs:,} pooled pairs, "
              f"{w.mean_inputs:,} MEAN inputs, {w.rest:,} other instructions -> at least {bound(w, BEST):,} "
              f"instructions ({bound(w, QUAD):,} at the quad kernel's per-output costs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
