"""`tinyml-disco profile`: instructions per kernel call of one inference, measured in the emulator.

The firmware ELF is loaded into the board's bare core (sim/bare_core.py: the same CPU model, memory map and
instruction counter as sim/board.py, no peripherals) and `model_invoke` is called directly on one input.
A block hook counts retired instructions and attributes each block to the kernel call that model_invoke is
making at the time (a new call starts whenever execution leaves model_invoke's address range); what runs inside
model_invoke itself (argument setup) is reported as glue. Layer names come from the compiler's manifest
(model_manifest.json: op -> kernel, in call order). On the emulated board one instruction is one CYCCNT tick.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tinyml_disco.compiler.fileio import atomic_write
from tinyml_disco.compiler.model import MANIFEST, read_manifest
from tinyml_disco.training.artifacts import ModelPaths, load_card


@dataclass
class LayerProfile:
    op_index: int
    op: str
    kernel: str
    instructions: int


@dataclass
class Profile:
    model: str
    total_instructions: int
    glue_instructions: int
    layers: list[LayerProfile]


def profile_elf(elf_path: Path, model_dir: Path, input_tensor: np.ndarray, output_size: int, name: str = "") -> Profile:
    from tinyml_disco.sim.bare_core import BareCore

    core = BareCore(elf_path)
    invoke = core.function("model_invoke")
    lo, hi = invoke.address & ~1, (invoke.address & ~1) + invoke.size
    in_addr, out_addr = core.place_io(np.ascontiguousarray(input_tensor, np.int8).tobytes())

    calls: list[list] = []  # [kernel symbol, instructions]
    state = {"inside": True, "glue": 0}

    def on_block(address: int, n: int) -> None:
        if lo <= address < hi:
            state["inside"] = True
            state["glue"] += n
            return
        if state["inside"]:
            sym = core.symbols.lookup(address)
            calls.append([sym.name if sym else f"0x{address:08x}", 0])
            state["inside"] = False
        calls[-1][1] += n

    core.call("model_invoke", [in_addr, out_addr], on_block)
    names = [(r.op_index, r.op) for r in read_manifest(model_dir)]
    if len(names) != len(calls):
        raise RuntimeError(f"{model_dir / MANIFEST} lists {len(names)} ops but model_invoke made {len(calls)} calls")
    layers = [LayerProfile(i, op, k, n) for (i, op), (k, n) in zip(names, calls, strict=True)]
    total = state["glue"] + sum(layer.instructions for layer in layers)
    return Profile(name, total, state["glue"], layers)


def write_outputs(p: Profile, json_path: Path, png_path: Path) -> None:
    atomic_write(json_path, json.dumps(asdict(p), indent=2) + "\n")
    import matplotlib.pyplot as plt

    fig = profile_figure(p)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    atomic_write(png_path, buf.getvalue())


def profile_figure(p: Profile):
    """Horizontal bars, one per layer (op, kernel) plus the glue, in call order from the top. A matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"op{layer.op_index} {layer.op}\n{layer.kernel}" for layer in p.layers] + ["glue"]
    values = [layer.instructions for layer in p.layers] + [p.glue_instructions]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(values) + 1.3))
    bars = ax.barh(labels[::-1], values[::-1], color="#4477aa")
    total = max(p.total_instructions, 1)
    ax.bar_label(bars, labels=[f"{v:,} ({100 * v / total:.0f}%)" for v in values[::-1]], padding=3, fontsize=8)
    ax.set_xlabel("instructions (= cycles on the emulated M4)")
    ax.set_title(f"{p.model}: {p.total_instructions:,} instructions per inference")
    ax.margins(x=0.15)
    fig.tight_layout()
    return fig


def load_profile(path: Path) -> Profile:
    """profile.json back into a Profile."""
    d = json.loads(path.read_text())
    return Profile(d["model"], d["total_instructions"], d["glue_instructions"],
                   [LayerProfile(**layer) for layer in d["layers"]])


def profile_model(paths: ModelPaths, seed: int = 0) -> Profile:
    """Profile build/<model>/firmware.elf on one random input; writes profile.json and profile.png."""
    from tinyml_disco.app import pipeline

    card = load_card(paths)
    elf = pipeline.current_elf(paths)  # rebuilt (C and firmware) unless its build stamp ties it to model.tflite
    x = np.random.default_rng(seed).integers(-128, 128, size=card.n_inputs).astype(np.int8)
    p = profile_elf(elf, paths.root, x, len(card.labels), paths.name)
    write_outputs(p, paths.root / "profile.json", paths.root / "profile.png")
    return p


def format_profile(p: Profile) -> str:
    rows = [f"{p.model}: {p.total_instructions} instructions per inference"]
    for layer in p.layers:
        rows.append(f"  op {layer.op_index:2d} {layer.op:<18} {layer.kernel:<28} {layer.instructions:8d} "
                    f"({100 * layer.instructions / max(p.total_instructions, 1):5.1f}%)")
    rows.append(f"  {'glue (model_invoke)':<51} {p.glue_instructions:8d}")
    return "\n".join(rows)
