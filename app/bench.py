"""`tinyml-disco bench`: the figures that matter, measured, written to build/<model>/bench.json."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

from tinyml_disco.app import pipeline, progress
from tinyml_disco.app.compare import pred_matches
from tinyml_disco.app.estimate import bench_keys as estimate_keys
from tinyml_disco.app.pipeline import Log
from tinyml_disco.app.report import pct
from tinyml_disco.compiler.fileio import atomic_write
from tinyml_disco.compiler.model import MANIFEST
from tinyml_disco.sim import footprint
from tinyml_disco.sim.session import DeviceSession, EmbeddedBackend, timed_classify
from tinyml_disco.training.artifacts import ArtifactMismatchError, ModelPaths, load_card


def bench(paths: ModelPaths, per_class: int = 25, infer_samples: int = 200, host_samples: int = 10_000,
          log: Log = print, runtime: str = "compiled", compare: bool = True, weight_streams: str = "auto") -> dict:
    """Measure `runtime`'s firmware (top-level keys, as before) and, with `compare`, both runtimes side by side
    under "runtimes" (same windows, same INFER inputs, same emulated board) and their ratios. weight_streams: the
    compiled runtime's conv weight streams (compiler/model.py WEIGHT_STREAMS)."""
    from tinyml_disco.app.tflm_oracle import TflmOracle

    card = load_card(paths)
    runtime, elf = pipeline.build_runtime(paths, runtime, log, weight_streams)
    fp = footprint.measure_footprint(elf)
    oracle = TflmOracle(paths.tflite.read_bytes())
    host = pipeline.host_model(paths)

    w = pipeline.device_windows(paths, per_class)
    q = pipeline.model_inputs(paths, w.raw)
    ref = oracle.invoke(q)
    acc_host = float((ref.argmax(1) == w.labels).mean())

    rng = np.random.default_rng(5)
    rand = rng.integers(-128, 128, size=(host_samples, *q.shape[1:])).astype(np.int8)
    host_in = np.concatenate([rand, q])
    host_exact = _host_bitexact(host, oracle, host_in)

    backend = EmbeddedBackend(elf)
    session = DeviceSession(backend)
    boot = session.start()
    s0 = backend.stats()
    with progress.bar(len(w), f"[bench] {runtime}: {w.raw.shape[1]}-sample windows on the board", "window") as b:
        preds, wall = timed_classify(session, w.g, lambda: b.update(1))
    s1 = backend.stats()
    instr_windows = s1.instructions
    cpu_load = (s1.instructions - s0.instructions) / max(s1.cycles - s0.cycles, 1)
    wakeups = _wakeups(s0.exceptions_taken, s1.exceptions_taken, len(w), (s1.cycles - s0.cycles) / boot.clock_hz)
    # Latency: data-ready of each window's last sample -> end of its PRED line, in virtual cycles.
    lines0 = len(s0.uart_lines)
    pred_cycles = [c for ln, c in zip(s1.uart_lines[lines0:], s1.uart_line_cycles[lines0:], strict=True)
                   if ln.startswith("PRED ")]
    last_sample = s1.sensor_sample_cycles[w.raw.shape[1] - 1 :: w.raw.shape[1]]
    latency_cycles = np.array(pred_cycles) - np.array(last_sample[: len(pred_cycles)])
    dev_cls = np.array([p.cls for p in preds])
    pred_match = float(pred_matches(preds, ref).mean())
    cycles = np.array([p.cycles for p in preds])

    infer_in = np.concatenate([q[: infer_samples // 2], rand[: infer_samples - min(infer_samples // 2, len(q))]])
    infer_instr0 = session.backend.instructions
    t0 = time.perf_counter()
    dev_out = _infer_all(session, infer_in, f"[bench] {runtime}: INFER commands vs TFLM")
    infer_wall = time.perf_counter() - t0
    infer_instr = session.backend.instructions - infer_instr0
    dev_exact = float((dev_out == oracle.invoke(infer_in)).all(axis=1).mean())

    stack_used = footprint.stack_high_water(elf, backend.read_memory)

    log("[bench] Renode 1.15.3: the same windows, when Renode is available (RENODE, PATH)")
    from tinyml_disco.app.renode_bench import measure as renode_measure

    renode = renode_measure(elf, w.g, preds)

    ran = {"elf": str(elf), "cycles_per_inference": int(np.median(cycles)),
           "cycles_per_inference_max": int(cycles.max()), **_flash_ram(elf, fp, stack_used),
           "bitexact_rate_device": dev_exact, "device_pred_matches_tflm": pred_match,
           "accuracy_device": float((dev_cls == w.labels).mean())}
    runtimes = {runtime: ran}
    if compare:
        other = "tflm" if runtime == "compiled" else "compiled"
        try:
            _, other_elf = pipeline.build_runtime(paths, other, log, weight_streams)
        except (RuntimeError, ValueError) as exc:
            runtimes[other] = {"skipped": str(exc).splitlines()[0]}
        else:
            runtimes[other] = runtime_figures(other_elf, w.g, w.labels, ref, infer_in, oracle.invoke(infer_in))

    result = {
        "model": paths.name,
        "tflite_sha256": card.tflite_sha256,  # the model.tflite measured (model.json's)
        "runtime": runtime,
        "runtimes": runtimes,
        "ratios": _ratios(runtimes),
        **(memory_figures(paths) if runtime == "compiled" else {}),
        "flash_bytes": fp.flash_bytes,
        "ram_bytes": fp.ram_bytes,
        "ram_static_bytes": fp.ram_bytes - fp.stack_bytes,
        "stack_reserve_bytes": fp.stack_bytes,
        "stack_used_bytes": stack_used,
        "cycles_per_inference": int(np.median(cycles)),
        "cycles_per_inference_max": int(cycles.max()),
        "cycles_source": "DWT CYCCNT around model_invoke = retired instructions in the embedded emulator",
        **(estimate_keys(paths, elf) if runtime == "compiled" else {}),  # a model of the real M4 (README)
        "accuracy_float": card.accuracy["float"],
        "accuracy_float_windows": card.accuracy["test_windows"],
        "accuracy_int8_host": acc_host,
        "accuracy_int8_host_testset": card.accuracy["int8_host"],
        "accuracy_device": float((dev_cls == w.labels).mean()),
        "device_pred_matches_tflm": pred_match,
        "bitexact_rate": host_exact,
        "bitexact_inputs": int(len(host_in)),
        "bitexact_rate_device": dev_exact,
        "bitexact_inputs_device": int(len(infer_in)),
        "windows": int(len(w)),
        "windows_seed": pipeline.DEVICE_SEED,
        "emulator_s_per_window": wall / len(w),
        "emulator_s_per_infer_command": infer_wall / len(infer_in),
        "emulator_instructions_per_s": instr_windows / wall if wall > 0 else None,
        "emulator_windows_per_s": len(w) / wall if wall > 0 else None,
        "renode": renode,
        "cpu_load": cpu_load,
        "cpu_load_source": "retired instructions / virtual cycles while windows stream in at the sensor ODR "
                           "(the core sleeps in WFI otherwise; 1 instruction = 1 cycle)",
        **wakeups,
        "latency_cycles": int(np.median(latency_cycles)),
        "latency_cycles_max": int(latency_cycles.max()),
        "latency_ms": float(np.median(latency_cycles)) * 1000 / boot.clock_hz,
        "emulator_mips": infer_instr / infer_wall / 1e6 if infer_wall > 0 else None,
        "counter": backend.stats().counter,  # "native" (C block hook) or "python"
        "clock_hz": boot.clock_hz,
        "sensor": boot.sensor,
        "host": platform.platform(),
    }
    atomic_write(paths.bench_json, json.dumps(result, indent=2) + "\n")
    log(f"[bench] wrote {paths.bench_json}")
    return result


def _host_bitexact(host, oracle, inputs: np.ndarray, chunks: int = 20) -> float:
    """Share of inputs on which the host-compiled C kernels equal TFLM byte for byte."""
    same = []
    with progress.bar(len(inputs), "[bench] host: C kernels vs TFLM", "input") as b:
        for part in np.array_split(inputs, chunks):
            same.append((host.invoke(part) == oracle.invoke(part)).all(axis=1))
            b.update(len(part))
    return float(np.concatenate(same).mean())


def _infer_all(session: DeviceSession, inputs: np.ndarray, desc: str) -> np.ndarray:
    """INFER every input tensor on the board; the int8 outputs, one row per input."""
    return np.stack([np.frombuffer(session.infer(x).output, np.int8)
                     for x in progress.track(inputs, len(inputs), desc, "command")])


def _flash_ram(elf: Path, fp: footprint.Footprint, stack_used: int | None) -> dict:
    from tinyml_disco.app.flash_split import split

    parts = split(elf.with_name("firmware.map"), fp.flash_bytes, fp.ram_bytes - fp.stack_bytes)
    record = elf.parent.parent / "tflm.json"
    arena = json.loads(record.read_text())["arena_bytes"] if elf.parent.parent.name == "tflm" else None
    return {"flash_bytes": fp.flash_bytes, "flash_split": parts["flash"],
            "ram_bytes": fp.ram_bytes, "ram_static_bytes": fp.ram_bytes - fp.stack_bytes,
            "ram_static_split": parts["ram_static"], "tflm_arena_bytes_m4": arena,
            "stack_reserve_bytes": fp.stack_bytes, "stack_used_bytes": stack_used,
            "ram_used_bytes": fp.ram_bytes - fp.stack_bytes + (stack_used or 0)}


def runtime_figures(elf: Path, windows_g: np.ndarray, labels: np.ndarray, ref: np.ndarray, infer_in: np.ndarray,
                    infer_ref: np.ndarray) -> dict:
    """One firmware on the embedded board: PRED on the windows, INFER on the inputs, footprint, stack."""
    fp = footprint.measure_footprint(elf)
    backend = EmbeddedBackend(elf)
    session = DeviceSession(backend)
    session.start()
    name = elf.parent.parent.name if elf.parent.parent.name == "tflm" else "compiled"
    with progress.bar(len(windows_g), f"[bench] {name}: windows on the board", "window") as b:
        preds, _wall = timed_classify(session, windows_g, lambda: b.update(1))
    cycles = np.array([p.cycles for p in preds])
    dev_out = _infer_all(session, infer_in, f"[bench] {name}: INFER commands vs TFLM")
    stack_used = footprint.stack_high_water(elf, backend.read_memory)
    session.close()
    return {"elf": str(elf), "cycles_per_inference": int(np.median(cycles)),
            "cycles_per_inference_max": int(cycles.max()), **_flash_ram(elf, fp, stack_used),
            "bitexact_rate_device": float((dev_out == infer_ref).all(axis=1).mean()),
            "device_pred_matches_tflm": float(pred_matches(preds, ref).mean()),
            "accuracy_device": float((np.array([p.cls for p in preds]) == labels).mean())}


def _ratios(runtimes: dict) -> dict:
    """TFLM / compiled for cycles, flash and RAM used (how many times more the interpreter costs)."""
    a, b = runtimes.get("compiled", {}), runtimes.get("tflm", {})
    if "cycles_per_inference" not in a or "cycles_per_inference" not in b:
        return {}
    return {k: b[k] / max(a[k], 1) for k in ("cycles_per_inference", "flash_bytes", "ram_used_bytes")}


def memory_figures(paths: ModelPaths) -> dict:
    """Planned arena vs TFLM's arena for the same .tflite, and model flash vs raw weight bytes: the compiler's
    figures from the model_manifest.json the compile step wrote (the C the firmware was built from, with its
    weight-stream choice), TFLM's measured."""
    from tinyml_disco.app.tflm_arena import measure

    card = load_card(paths)
    m = json.loads(paths.require(paths.root / MANIFEST, f"tinyml-disco build --model {paths.name}").read_text())
    if m.get("tflite_sha256") != card.tflite_sha256 or "macs" not in m:
        raise ArtifactMismatchError(f"{paths.root / MANIFEST} was not written for this model.tflite by this version; "
                                    f"run `tinyml-disco build --model {paths.name}`")
    tflm = measure(paths.tflite.read_bytes())
    return {
        "arena_bytes": m["arena_bytes"],  # activations + kernel scratch; model input/output are the caller's
        "activation_bytes": m["arena_bytes"] + m["io_bytes"],  # + input and output: comparable with TFLM's head
        "arena_first_fit_bytes": m["arena_first_fit_bytes"] + m["io_bytes"],  # first fit, no in-place/overlap, + I/O
        "tflm_arena_bytes": tflm.head_bytes,  # TFLM's planned activations (incl. input/output) + scratch
        "tflm_arena_total_bytes": tflm.total_bytes,  # + persistent tail (host 64-bit struct sizes)
        "model_const_bytes": m["const_bytes"],
        "model_weight_bytes": m["weight_bytes"],
        "model_flash_ratio": m["const_bytes"] / max(m["weight_bytes"], 1),
        "macs": m["macs"],
        "weight_streams": m["weight_streams"],  # the compile's choice (auto / ram / flash)
        "flash_stream_layers": sum(r["kernel"] == "tdnn_convolve_s8_quad_flash" for r in m["ops"]),
    }


_EXC_NAMES = {15: "SysTick", 22: "EXTI0", 54: "USART2"}


def _wakeups(before: tuple[tuple[int, int], ...], after: tuple[tuple[int, int], ...], windows: int,
             seconds: float) -> dict[str, object]:
    """Exception entries (each one wakes the core from WFI or interrupts it) while the windows stream in."""
    b, a = dict(before), dict(after)
    per = {_EXC_NAMES.get(k, f"exc{k}"): (a[k] - b.get(k, 0)) / max(windows, 1)
           for k in sorted(a) if a[k] > b.get(k, 0)}
    total = sum(per.values())
    return {
        "wakeups_per_window": total,
        "wakeups_per_window_by_source": per,
        "wakeups_per_s": total * windows / seconds if seconds > 0 else None,
        "wakeups_source": "exception entries counted by the embedded emulator (sim/core.py exceptions_taken) "
                          "while the windows stream in at the sensor ODR",
    }


def _renode_line(r: dict) -> str:
    ren = r.get("renode") or {}
    if "skipped" in ren or not ren:
        return f"  Renode: not measured ({ren.get('skipped', 'no figures')})"
    return (f"  Renode 1.15.3: {ren['windows_per_s']:.1f} windows/s streamed ({ren['wall_s']:.1f} s for "
            f"{ren['windows']}, boot {ren['boot_s']:.1f} s), {ren['windows_per_s_paced']:.1f} windows/s one at a "
            f"time; PRED lines equal to the embedded board's: {ren['pred_equal_embedded'] * 100:.0f}% streamed, "
            f"{ren['pred_equal_embedded_paced'] * 100:.0f}% one at a time")


def format_summary(r: dict) -> str:
    return "\n".join([
        f"model {r['model']}: on-device accuracy {r['accuracy_device']:.3f} on {r['windows']} windows "
        f"(host int8 {r['accuracy_int8_host']:.3f}, float {r['accuracy_float']:.3f})",
        f"  cycles per inference {r['cycles_per_inference']} (max {r['cycles_per_inference_max']}) "
        f"= {r['cycles_per_inference'] / 168:.1f} us at 168 MHz",
        f"  flash {r['flash_bytes']} B, RAM {r['ram_bytes']} B ({r['ram_static_bytes']} static + "
        f"{r['stack_reserve_bytes']} stack reserve, {r['stack_used_bytes']} B of it used)",
        f"  bit-exact vs TFLM: host {r['bitexact_rate'] * 100:.2f}% of {r['bitexact_inputs']}, device "
        f"{r['bitexact_rate_device'] * 100:.2f}% of {r['bitexact_inputs_device']}; PRED = TFLM "
        f"{r['device_pred_matches_tflm'] * 100:.2f}%",
        f"  emulator {r['emulator_s_per_window'] * 1000:.1f} ms per window ({r['emulator_windows_per_s']:.0f}/s), "
        f"{r['emulator_mips']:.1f} MIPS on INFER commands, {r['counter']} instruction counter",
        f"  CPU load {r['cpu_load'] * 100:.3f}% at the sensor ODR, {r['wakeups_per_window']:.1f} wake-ups per window "
        f"({r['wakeups_per_s']:.1f}/s); last sample -> PRED {r['latency_ms']:.3f} ms ({r['latency_cycles']} cycles)",
        _renode_line(r),
        *_runtime_lines(r),
    ])


def _runtime_lines(r: dict) -> list[str]:
    out = []
    for name, f in r.get("runtimes", {}).items():
        if "skipped" in f:
            out.append(f"  runtime {name}: not measured ({f['skipped']})")
            continue
        out.append(f"  runtime {name}: {f['cycles_per_inference']} cycles, flash {f['flash_bytes']} B "
                   f"({', '.join(f'{k} {v}' for k, v in f['flash_split'].items() if v)}), RAM used "
                   f"{f['ram_used_bytes']} B, INFER bit-exact {pct(f['bitexact_rate_device'])}, PRED = TFLM "
                   f"{pct(f['device_pred_matches_tflm'])}")
    if r.get("ratios"):
        x = r["ratios"]
        out.append(f"  TFLM / compiled: cycles x{x['cycles_per_inference']:.2f}, flash x{x['flash_bytes']:.2f}, "
                   f"RAM used x{x['ram_used_bytes']:.2f}")
    return out


def runtimes_table(results: list[dict]) -> str:
    """Markdown: both runtimes per model from bench.json results (the README's "Runtimes" table is this output)."""
    rows = ["| model | runtime | cycles | flash B (app / model / kernels / runtime / libc) "
            "| RAM used B (static + stack) | TFLM arena (M4) | INFER bit-exact | PRED = TFLM |",
            "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for name, f in r.get("runtimes", {}).items():
            if "skipped" in f:
                rows.append(f"| {r['model']} | {name} | not measured: {f['skipped']} | | | | | |")
                continue
            sp = f["flash_split"]
            arena = f"{f['tflm_arena_bytes_m4']:,}" if f.get("tflm_arena_bytes_m4") else "-"
            rows.append(f"| {r['model']} | {name} | {f['cycles_per_inference']:,} | {f['flash_bytes']:,} "
                        f"({sp['app']:,} / {sp['model']:,} / {sp['kernels']:,} / {sp['runtime']:,} / {sp['libc']:,}) | "
                        f"{f['ram_used_bytes']:,} ({f['ram_static_bytes']:,} + {f['stack_used_bytes']}) | {arena} | "
                        f"{f['bitexact_rate_device'] * 100:.0f}% | {f['device_pred_matches_tflm'] * 100:.0f}% |")
        if r.get("ratios"):
            x = r["ratios"]
            rows.append(f"| {r['model']} | TFLM / compiled | x{x['cycles_per_inference']:.2f} "
                        f"| x{x['flash_bytes']:.2f} | x{x['ram_used_bytes']:.2f} | | | |")
    return "\n".join(rows)
