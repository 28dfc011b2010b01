"""`tinyml-disco estimate`: estimated Cortex-M4 cycles of one inference on a real STM32F407 at 168 MHz.

The same call the profile measures (app/profile.py: `model_invoke` on one random input, seed 0, on sim's bare
core) runs once more with an instruction hook; sim/m4_timing.py prices the trace with the Cortex-M4 TRM's
instruction timings and the flash wait states behind the ART accelerator (sim/art_flash.py). The figure is a
model, not a measurement: bench.json's primary metric stays the retired instruction count.

`cycles_estimate_m4` assumes cold ART caches at the start of the inference (the conservative case: the
firmware runs sensor, feature and UART code between inferences); `cycles_estimate_m4_warm` runs the same
trace again on the caches the first run left (inferences back to back).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from tinyml_disco.training.artifacts import ModelPaths, load_card


def estimate_elf(elf: Path, input_tensor: np.ndarray, function: str = "model_invoke") -> dict:
    """bench.json's estimate keys for one call of `function(input, output)` in `elf`."""
    from tinyml_disco.sim.art_flash import ArtFlash
    from tinyml_disco.sim.bare_core import BareCore
    from tinyml_disco.sim.m4_timing import estimate

    core = BareCore(elf)
    trace = core.trace(function, list(core.place_io(np.ascontiguousarray(input_tensor, np.int8).tobytes())))
    art = ArtFlash()
    cold = estimate(trace, art)
    warm = estimate(trace, art)
    return {**cold.to_json(), "cycles_estimate_m4_warm": warm.cycles}


def estimate_model(paths: ModelPaths, elf: Path | None = None, seed: int = 0,
                   log: Callable[[str], None] = print) -> dict:
    """The estimate for build/<model>/'s firmware (or `elf`) on the profile's input. Without `elf`, the ELF is
    reused only when its build stamp ties it to model.tflite and rebuilt otherwise (`pipeline.current_elf`)."""
    from tinyml_disco.app import pipeline

    card = load_card(paths)
    if elf is None:
        elf = pipeline.current_elf(paths, log)
    x = np.random.default_rng(seed).integers(-128, 128, size=card.n_inputs).astype(np.int8)
    return estimate_elf(elf, x)


def bench_keys(paths: ModelPaths, elf: Path) -> dict:
    """The three bench.json keys (the full breakdown is `tinyml-disco estimate`)."""
    e = estimate_model(paths, elf)
    return {"cycles_estimate_m4": e["cycles_estimate_m4"], "estimate_model": e["estimate_model"],
            "instruction_classes": {k: v["count"] for k, v in e["instruction_classes"].items()},
            "cycles_estimate_m4_detail": {k: e[k] for k in ("cycles_estimate_m4_warm", "retired_instructions",
                                                               "instruction_classes", "pipeline", "flash")}}


def format_estimate(name: str, e: dict) -> str:
    n, c = e["retired_instructions"], e["cycles_estimate_m4"]
    rows = [f"{name}: {n:,} retired instructions (emulator, exact); estimated Cortex-M4 cycles on an STM32F407 at "
            f"168 MHz: {c:,} cold caches ({c / 168:.1f} us, x{c / max(n, 1):.2f}), "
            f"{e['cycles_estimate_m4_warm']:,} warm [{e['estimate_model']}]",
            f"  {'class':<16}{'count':>9}{'cycles':>9}"]
    for cls, row in sorted(e["instruction_classes"].items(), key=lambda kv: -kv[1]["cycles"]):
        rows.append(f"  {cls:<16}{row['count']:>9,}{row['cycles']:>9,}")
    p, f = e["pipeline"], e["flash"]
    rows.append(f"  taken branches {p['branches_taken']:,} (+{p['refill_cycles']:,} refill cycles), not taken "
                f"{p['branches_not_taken']:,}; pipelined loads {p['pipelined_loads']:,} (-1 each); address "
                f"dependency stalls {p['address_dependency_stalls']:,} (+1 each); folded IT {p['folded_it']:,}")
    rows.append(f"  flash ({f['wait_states']} wait states, ART): fetch stalls {f['fetch_stall_cycles']:,} cycles "
                f"({f['icache_misses']:,} I-cache misses), data stalls {f['data_stall_cycles']:,} cycles "
                f"({f['dcache_misses']:,} D-cache misses)")
    return "\n".join(rows)
