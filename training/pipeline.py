"""The main job, step by step: train -> compile -> firmware -> emulated board -> figures."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from training import compiler, features, models, synth, tflite_model
from training.artifacts import META_FORMAT, REPO, ModelPaths, load_meta_json, model_meta
from training.hostlib import build_host_model

Log = Callable[[str], None]

TRAIN_SEED_OFFSETS = {"train": 0, "val": 1, "test": 2}
# Windows for the Robot suites and the on-device check come from a seed that training never saw.
DEVICE_SEED = 777_001


def _input_quant(g: tflite_model.Graph) -> tuple[float, int]:
    t = g.tensors[g.inputs[0]]
    return float(t.scale[0]), int(t.zero_point[0])


def train(paths: ModelPaths, seed: int = 1234, per_class: int = 600, epochs: int | None = None,
          log: Log = print) -> dict:
    """Generate data, train the model named by paths, convert to int8, write model.tflite + model.json + C."""
    from training import train as tr  # TensorFlow is imported only here

    spec = models.get(paths.name)
    pipe = features.get(spec.pipeline)
    epochs = epochs or spec.epochs
    cfg = synth.SynthConfig()
    t0 = time.time()
    log(f"[train] generating synthetic gestures (seed {seed}, {per_class} windows/class for training)")
    sets = {name: synth.generate(per_class if name == "train" else max(per_class // 4, 50), seed + off, cfg)
            for name, off in TRAIN_SEED_OFFSETS.items()}
    feats = {k: pipe.float_features(w.raw, cfg.sensor.lsb_g) for k, w in sets.items()}
    log(f"[train] training {spec.name} ({spec.description}) for {epochs} epochs")
    tcfg = tr.TrainConfig(epochs=epochs, batch_size=spec.batch_size, learning_rate=spec.learning_rate, seed=seed)
    model = tr.train_model(spec.build, feats["train"], sets["train"].labels, len(cfg.labels), tcfg,
                           feats["val"], sets["val"].labels, log=log)
    acc_float = float((tr.predict_float(model, feats["test"]).argmax(1) == sets["test"].labels).mean())
    log("[train] converting to full-integer int8 (representative dataset: 300 training windows)")
    tfl = tr.convert_int8(model, feats["train"][:300])
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.tflite.write_bytes(tfl)
    g = tflite_model.parse(tfl, str(paths.tflite))
    in_scale, in_zp = _input_quant(g)
    out_t = g.tensors[g.outputs[0]]
    fq = pipe.feature_quant(cfg.sensor.lsb_g, cfg.window, in_scale, in_zp)
    from training.tflm_oracle import TflmOracle

    q_test = pipe.quantized(sets["test"].raw, fq)
    acc_int8 = float((TflmOracle(tfl).invoke(q_test).argmax(1) == sets["test"].labels).mean())
    meta = {
        "format": META_FORMAT,
        "name": paths.name,
        "labels": list(cfg.labels),
        "sample_rate_hz": cfg.sample_rate_hz,
        "window": cfg.window,
        "hop": cfg.window,
        "features": {"id": pipe.id, "shape": list(pipe.input_shape(cfg.window)), "unit": "g"},
        "sensor": {"name": cfg.sensor.name, "full_scale_g": cfg.sensor.full_scale_g,
                   "lsb_ug": cfg.sensor.lsb_ug},
        "input": {"scale": in_scale, "zero_point": in_zp, "dtype": "int8"},
        "output": {"scale": float(out_t.scale[0]), "zero_point": int(out_t.zero_point[0]), "dtype": "int8"},
        "accuracy": {"float": acc_float, "int8_host": acc_int8, "test_windows": len(sets["test"])},
        "training": {"seed": seed, "per_class": per_class, **asdict(tcfg),
                     "seeds": {k: seed + v for k, v in TRAIN_SEED_OFFSETS.items()}},
    }
    paths.meta_json.write_text(json.dumps(meta, indent=2) + "\n")
    log(f"[train] float accuracy {acc_float:.3f}, int8 (TFLM) accuracy {acc_int8:.3f} on "
        f"{len(sets['test'])} test windows ({time.time() - t0:.1f} s)")
    compile_c(paths, log)
    return meta


def compile_c(paths: ModelPaths, log: Log = print) -> compiler.CompiledModel:
    meta = model_meta(load_meta_json(paths))
    g = tflite_model.load(paths.require(paths.tflite, f"tinyml-disco train --model {paths.name}"))
    compiled = compiler.compile_model(g, meta)
    compiler.write(compiled, paths.root)
    log(f"[compile] {paths.model_c}: ops {', '.join(compiled.ops)}; arena {compiled.arena_bytes} B, "
        f"constants {compiled.const_bytes} B")
    return compiled


def build_firmware(paths: ModelPaths, log: Log = print) -> Path:
    """Cross-compile firmware.elf for this model with arm-none-eabi-gcc (via firmware/Makefile)."""
    if shutil.which("arm-none-eabi-gcc") is None:
        raise RuntimeError("arm-none-eabi-gcc not found: run scripts/bootstrap.sh "
                           "(installs Debian packages gcc-arm-none-eabi and libnewlib-arm-none-eabi)")
    if not paths.model_c.exists():
        compile_c(paths, log)
    cmd = ["make", "-s", "-C", str(REPO / "firmware"), f"MODEL_DIR={paths.root}",
           f"BUILD_DIR={paths.firmware_dir}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"firmware build failed ({' '.join(cmd)}):\n{proc.stdout}\n{proc.stderr}")
    log(f"[build] {paths.elf}")
    return paths.elf


def device_windows(paths: ModelPaths, per_class: int, seed: int = DEVICE_SEED) -> synth.Windows:
    """Held-out windows for on-device checks (a seed training never used)."""
    meta = load_meta_json(paths)
    return synth.generate(per_class, seed, synth.SynthConfig(labels=tuple(meta["labels"])))


def host_model(paths: ModelPaths):
    meta = load_meta_json(paths)
    n_in = int(np.prod(meta["features"]["shape"]))
    return build_host_model(paths.root, paths.host_dir, n_in, len(meta["labels"]))


def feature_quant(paths: ModelPaths) -> features.FeatureQuant:
    meta = load_meta_json(paths)
    return features.get(meta["features"]["id"]).feature_quant(
        meta["sensor"]["lsb_ug"] * 1e-6, int(meta["window"]), float(meta["input"]["scale"]),
        int(meta["input"]["zero_point"]))


def model_inputs(paths: ModelPaths, raw: np.ndarray) -> np.ndarray:
    """The int8 input tensors the firmware computes from these raw windows (bit-exact host twin)."""
    meta = load_meta_json(paths)
    return features.get(meta["features"]["id"]).quantized(raw, feature_quant(paths))


def export_device_data(paths: ModelPaths, per_class: int = 5, seed: int = DEVICE_SEED) -> dict[str, Path]:
    """Held-out windows as CSV (with labels) and RESD, plus a JSON index, for the suites and Renode."""
    from sim import resd, sensor_csv

    w = device_windows(paths, per_class, seed)
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    g = w.g.reshape(-1, 3)
    labels = [w.label_names[lab] for lab in w.labels for _ in range(w.raw.shape[1])]
    csv_path = paths.data_dir / "device_windows.csv"
    resd_path = paths.data_dir / "device_windows.resd"
    sensor_csv.write_csv(csv_path, g, w.sample_rate_hz, labels)
    resd.write_acceleration(resd_path, g, w.sample_rate_hz)
    index = paths.data_dir / "device_windows.json"
    index.write_text(json.dumps({"seed": seed, "window": int(w.raw.shape[1]), "sample_rate_hz": w.sample_rate_hz,
                                 "labels": [w.label_names[lab] for lab in w.labels]}, indent=2) + "\n")
    return {"csv": csv_path, "resd": resd_path, "index": index}
