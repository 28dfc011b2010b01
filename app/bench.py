"""`tinyml-disco bench`: the figures that matter, measured, written to build/<model>/bench.json."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

import compiler
from app import pipeline
from app.compare import pred_matches
from app.pipeline import Log
from compiler import tflite_reader
from sim import footprint
from sim.session import DeviceSession, EmbeddedBackend, timed_classify
from training.artifacts import ModelPaths, load_card


def bench(paths: ModelPaths, per_class: int = 25, infer_samples: int = 200, host_samples: int = 10_000,
          log: Log = print) -> dict:
    from app.tflm_oracle import TflmOracle

    card = load_card(paths)
    elf = paths.elf if paths.elf.exists() else pipeline.build_firmware(paths, log)
    fp = footprint.measure_footprint(elf)
    oracle = TflmOracle(paths.tflite.read_bytes())
    host = pipeline.host_model(paths)

    w = pipeline.device_windows(paths, per_class)
    q = pipeline.model_inputs(paths, w.raw)
    ref = oracle.invoke(q)
    acc_host = float((ref.argmax(1) == w.labels).mean())

    log(f"[bench] host: {host_samples} random inputs + {len(q)} window features, C kernels vs TFLM")
    rng = np.random.default_rng(5)
    rand = rng.integers(-128, 128, size=(host_samples, *q.shape[1:])).astype(np.int8)
    host_in = np.concatenate([rand, q])
    host_exact = float((host.invoke(host_in) == oracle.invoke(host_in)).all(axis=1).mean())

    log(f"[bench] emulated board: {len(w)} windows of {w.raw.shape[1]} samples through the LIS3DSH model")
    backend = EmbeddedBackend(elf)
    session = DeviceSession(backend)
    boot = session.start()
    s0 = backend.stats()
    preds, wall = timed_classify(session, w.g)
    s1 = backend.stats()
    instr_windows = s1.instructions
    cpu_load = (s1.instructions - s0.instructions) / max(s1.cycles - s0.cycles, 1)
    # Latency: data-ready of each window's last sample -> end of its PRED line, in virtual cycles.
    lines0 = len(s0.uart_lines)
    pred_cycles = [c for ln, c in zip(s1.uart_lines[lines0:], s1.uart_line_cycles[lines0:], strict=True)
                   if ln.startswith("PRED ")]
    last_sample = s1.sensor_sample_cycles[w.raw.shape[1] - 1 :: w.raw.shape[1]]
    latency_cycles = np.array(pred_cycles) - np.array(last_sample[: len(pred_cycles)])
    dev_cls = np.array([p.cls for p in preds])
    pred_match = float(pred_matches(preds, ref).mean())
    cycles = np.array([p.cycles for p in preds])

    log(f"[bench] emulated board: {infer_samples} INFER commands vs TFLM")
    infer_in = np.concatenate([q[: infer_samples // 2], rand[: infer_samples - min(infer_samples // 2, len(q))]])
    infer_instr0 = session.backend.instructions
    t0 = time.perf_counter()
    dev_out = np.stack([np.frombuffer(session.infer(x).output, np.int8) for x in infer_in])
    infer_wall = time.perf_counter() - t0
    infer_instr = session.backend.instructions - infer_instr0
    dev_exact = float((dev_out == oracle.invoke(infer_in)).all(axis=1).mean())

    stack_used = footprint.stack_high_water(elf, backend.read_memory)

    log("[bench] Renode 1.15.3: the same windows, when Renode is available (RENODE, PATH)")
    from app.renode_bench import measure as renode_measure

    renode = renode_measure(elf, w.g, preds)

    result = {
        "model": paths.name,
        **memory_figures(paths),
        "flash_bytes": fp.flash_bytes,
        "ram_bytes": fp.ram_bytes,
        "ram_static_bytes": fp.ram_bytes - fp.stack_bytes,
        "stack_reserve_bytes": fp.stack_bytes,
        "stack_used_bytes": stack_used,
        "cycles_per_inference": int(np.median(cycles)),
        "cycles_per_inference_max": int(cycles.max()),
        "cycles_source": "DWT CYCCNT around model_invoke = retired instructions in the embedded emulator",
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
        "latency_cycles": int(np.median(latency_cycles)),
        "latency_cycles_max": int(latency_cycles.max()),
        "latency_ms": float(np.median(latency_cycles)) * 1000 / boot.clock_hz,
        "emulator_mips": infer_instr / infer_wall / 1e6 if infer_wall > 0 else None,
        "counter": backend.stats().counter,  # "native" (C block hook) or "python"
        "clock_hz": boot.clock_hz,
        "sensor": boot.sensor,
        "host": platform.platform(),
    }
    paths.bench_json.write_text(json.dumps(result, indent=2) + "\n")
    log(f"[bench] wrote {paths.bench_json}")
    return result


def memory_figures(paths: ModelPaths) -> dict:
    """Planned arena vs TFLM's arena for the same .tflite, and model flash vs raw weight bytes."""
    from app.tflm_arena import measure

    g = tflite_reader.load(paths.tflite)
    c = compiler.compile_model(g, pipeline.compile_meta(load_card(paths), g))
    tflm = measure(paths.tflite.read_bytes())
    return {
        "arena_bytes": c.arena_bytes,  # activations + kernel scratch; model input/output are the caller's
        "activation_bytes": c.arena_bytes + c.io_bytes,  # + input and output: comparable with TFLM's head
        "arena_first_fit_bytes": c.arena_first_fit_bytes + c.io_bytes,  # first fit, no in-place/overlap, + I/O
        "tflm_arena_bytes": tflm.head_bytes,  # TFLM's planned activations (incl. input/output) + scratch
        "tflm_arena_total_bytes": tflm.total_bytes,  # + persistent tail (host 64-bit struct sizes)
        "model_const_bytes": c.const_bytes,
        "model_weight_bytes": c.weight_bytes,
        "model_flash_ratio": c.const_bytes / max(c.weight_bytes, 1),
        "macs": c.macs,
    }


def _renode_line(r: dict) -> str:
    ren = r.get("renode") or {}
    if "skipped" in ren or not ren:
        return f"  Renode: not measured ({ren.get('skipped', 'no figures')})"
    return (f"  Renode 1.15.3: {ren['windows_per_s']:.1f} windows/s ({ren['wall_s']:.1f} s for {ren['windows']}, "
            f"boot {ren['boot_s']:.1f} s); PRED lines equal to the embedded board's: "
            f"{ren['pred_equal_embedded'] * 100:.0f}%")


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
        f"  CPU load {r['cpu_load'] * 100:.3f}% at the sensor ODR; last sample -> PRED "
        f"{r['latency_ms']:.3f} ms ({r['latency_cycles']} cycles)",
        _renode_line(r),
    ])


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")
