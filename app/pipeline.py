"""The main job, step by step: train -> compile -> firmware -> emulated board -> figures."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from tinyml_disco import compiler
from tinyml_disco.app import firmware_stamp, progress
from tinyml_disco.app import report as rp
from tinyml_disco.app.hostlib import build_host_model
from tinyml_disco.app.interrupts import deferred_interrupt
from tinyml_disco.app.resources import firmware_dir, require_cross_toolchain
from tinyml_disco.compiler import tflite_reader
from tinyml_disco.compiler.fileio import atomic_path, atomic_write, check_writable, sha256_bytes
from tinyml_disco.compiler.model import MANIFEST
from tinyml_disco.sim import resd, sensor_csv
from tinyml_disco.training import features, models, recordings, synth, tf_quiet
from tinyml_disco.training.artifacts import META_FORMAT, ArtifactMismatchError, ModelCard, ModelPaths, load_card

Log = Callable[[str], None]

TRAIN_SEED_OFFSETS = {"train": 0, "val": 1, "test": 2}
# Windows for the Robot suites and the on-device check come from a seed that training never saw.
DEVICE_SEED = 777_001


def _input_quant(g: compiler.Graph) -> tuple[float, int]:
    t = g.tensors[g.inputs[0]]
    return float(t.scale[0]), int(t.zero_point[0])


def compile_meta(card: ModelCard, g: compiler.Graph) -> compiler.ModelMeta:
    """What the compiler needs from model.json, with the feature stage bound to the graph's input quantization."""
    fin = features.feature_input(card.features_id, card.window, card.sensor.lsb_ug, *_input_quant(g))
    return compiler.ModelMeta(name=card.name, labels=card.labels, window=card.window, hop=card.hop,
                              sample_rate_hz=card.sample_rate_hz, sensor_full_scale_g=card.sensor.full_scale_g,
                              sensor_lsb_ug=card.sensor.lsb_ug, features=fin)


def _synthetic_sets(cfg: synth.SynthConfig, seed: int, per_class: int) -> dict[str, synth.Windows]:
    return {name: synth.generate(per_class if name == "train" else max(per_class // 4, 50), seed + off, cfg)
            for name, off in TRAIN_SEED_OFFSETS.items()}


def load_data(cfg: synth.SynthConfig, seed: int, per_class: int, data_dir: Path | None,
              log: Log = print, units: str = "auto") -> tuple[dict[str, synth.Windows], dict]:
    """Train/val/test windows (raw counts) and a description for model.json: synthetic or the user's CSVs."""
    if data_dir is None:
        log(f"[data] synthetic gestures (seed {seed}, {per_class} windows/class for training, "
            f"{cfg.sensor.name} +/-{cfg.sensor.full_scale_g} g, {cfg.sensor.lsb} ug/LSB, {cfg.sample_rate_hz} Hz, "
            f"classes {', '.join(cfg.class_labels)})")
        sets = _synthetic_sets(cfg, seed, per_class)
        info = {"source": "synthetic", "generator": synth.config_to_dict(cfg),
                "seeds": {k: seed + v for k, v in TRAIN_SEED_OFFSETS.items()}}
    else:
        log(f"[data] recordings in {data_dir}: resampling to {cfg.sample_rate_hz} Hz, windows of {cfg.window}")
        splits = recordings.load_dir(data_dir, cfg.sample_rate_hz, cfg.window, cfg.sensor, seed, units=units)
        sets = {"train": splits.train, "val": splits.val, "test": splits.test}
        log(f"[data] split: {splits.layout}" + "".join(f"; {c} split by time in {', '.join(fs)}"
                                                       for c, fs in splits.time_split.items()))
        # What the data is, not how the synthetic generator would make it: no generator settings or seeds.
        info = {"source": "recordings", "dir": str(Path(data_dir).resolve()), "labels": list(splits.train.label_names),
                "sample_rate_hz": cfg.sample_rate_hz, "resampling": "linear interpolation to sample_rate_hz",
                "units": units, "split": {"layout": splits.layout, "seed": seed, "time_split": splits.time_split},
                "files": splits.files, "file_info": splits.file_info}
    info["windows"] = {k: len(w) for k, w in sets.items()}
    log("[data] windows: " + ", ".join(f"{k} {len(w)}" for k, w in sets.items()))
    return sets, info


def _save_test_windows(paths: ModelPaths, w: synth.Windows, float_pred: np.ndarray) -> Path:
    """The test set and the float model's predictions on it (for device checks and `report_again`)."""
    out = paths.data_dir / "test_windows.npz"
    buf = io.BytesIO()
    np.savez_compressed(buf, raw=w.raw, labels=w.labels, label_names=np.array(w.label_names), float_pred=float_pred)
    return atomic_write(out, buf.getvalue())


def train(paths: ModelPaths, seed: int = 1234, per_class: int | None = None, epochs: int | None = None,
          log: Log = print, synth_config: synth.SynthConfig | None = None, data_dir: Path | None = None,
          device_per_class: int = 0, report: bool = True, units: str = "auto") -> dict:
    """Data -> train the model named by paths -> int8 -> model.tflite + model.json + C -> evaluation report.

    device_per_class: test windows per class run on the emulated board for the report (0, the default for
    library callers and test fixtures: no firmware build; `tinyml-disco train` uses 25).
    """
    from tinyml_disco.training import train as tr  # TensorFlow is imported only here

    spec = models.get(paths.name)
    pipe = features.get(spec.pipeline)
    epochs = spec.epochs if epochs is None else epochs
    per_class = spec.per_class if per_class is None else per_class
    if epochs < 1 or per_class < 1:
        raise ValueError(f"epochs ({epochs}) and windows per class ({per_class}) must be at least 1")
    check_writable(paths.root)  # before the long part: a read-only folder fails now, not after training
    cfg = synth_config or synth.SynthConfig()
    t0 = time.time()
    sets, data_info = load_data(cfg, seed, per_class, data_dir, log, units)
    names = sets["train"].label_names
    lsb_g = cfg.sensor.lsb_g
    log(f"[features] {pipe.id} on {sum(len(w) for w in sets.values())} windows")
    feats = {k: pipe.float_features(w.raw, lsb_g) for k, w in sets.items()}
    log(f"[train] {spec.name} ({spec.description}) for {epochs} epochs")
    tcfg = tr.TrainConfig(epochs=epochs, batch_size=spec.batch_size, learning_rate=spec.learning_rate, seed=seed,
                          label_smoothing=spec.label_smoothing)
    has_val = len(sets["val"]) > 0
    last: dict = {}
    with tf_quiet.captured_output() as err, progress.bar(epochs, f"[train] {spec.name}", "epoch", err) as bar:
        model = tr.train_model(spec.build, feats["train"], sets["train"].labels, len(names), tcfg,
                               feats["val"] if has_val else None, sets["val"].labels if has_val else None, log=log,
                               on_epoch=lambda _e, logs: (last.update(logs), progress.epoch(bar, logs)))
        float_pred = tr.predict_float(model, feats["test"]).argmax(1)
    log(f"[train] {epochs} epochs: {progress.epoch_summary(last)}")
    test = sets["test"]
    acc_float = float((float_pred == test.labels).mean())
    n_rep = min(spec.representative, len(feats["train"]))
    log(f"[train] converting to full-integer int8 (representative dataset: {n_rep} training windows)")
    with tf_quiet.captured_output() as err, progress.bar(n_rep, "[train] int8 calibration", "window", err) as bar:
        tfl = tr.convert_int8(model, feats["train"][:n_rep], on_row=lambda: bar.update(1))
    g = tflite_reader.parse(tfl, str(paths.tflite))
    in_scale, in_zp = _input_quant(g)
    out_t = g.tensors[g.outputs[0]]
    fq = pipe.feature_quant(lsb_g, cfg.window, in_scale, in_zp)
    from tinyml_disco.app.tflm_oracle import TflmOracle

    tflm_out = TflmOracle(tfl).invoke(pipe.quantized(test.raw, fq))
    acc_int8 = float((tflm_out.argmax(1) == test.labels).mean())
    meta = {
        "format": META_FORMAT,
        "name": paths.name,
        "tflite_sha256": sha256_bytes(tfl),
        "labels": list(names),
        "sample_rate_hz": cfg.sample_rate_hz,
        "window": cfg.window,
        "hop": cfg.window,
        "features": {"id": pipe.id, "shape": list(pipe.input_shape(cfg.window)), "unit": "g"},
        "sensor": {"name": cfg.sensor.name, "full_scale_g": cfg.sensor.full_scale_g, "lsb_ug": cfg.sensor.lsb},
        "input": {"scale": in_scale, "zero_point": in_zp, "dtype": "int8"},
        "output": {"scale": float(out_t.scale[0]), "zero_point": int(out_t.zero_point[0]), "dtype": "int8"},
        "accuracy": {"float": acc_float, "int8_host": acc_int8, "test_windows": len(test)},
        "training": {"seed": seed, **asdict(tcfg), **({} if data_dir else {  # synthetic data only
            "per_class": per_class, "seeds": {k: seed + v for k, v in TRAIN_SEED_OFFSETS.items()}})},
        "data": data_info,
    }
    card = ModelCard.from_dict(meta)
    compiled = compile_bytes(tfl, card, str(paths.tflite), log)
    # The model's files are committed together, with Ctrl-C held back: model.tflite, model.c/.h (which record its
    # sha256) and model.json (also its sha256) last. A crash in between leaves a pair the readers refuse.
    with deferred_interrupt():
        atomic_write(paths.tflite, tfl)
        compiler.write(compiled, paths.root)
        _save_test_windows(paths, test, float_pred)
        atomic_write(paths.meta_json, json.dumps(meta, indent=2) + "\n")
    log(f"[train] float accuracy {acc_float:.3f}, int8 (TFLM) accuracy {acc_int8:.3f} on "
        f"{len(test)} test windows ({time.time() - t0:.1f} s)")
    if report:
        write_report(paths, card, test, float_pred, tflm_out, compiled, len(tfl), device_per_class, log)
    return meta


def report_again(paths: ModelPaths, device_per_class: int = 10, log: Log = print) -> dict:
    """Rewrite the evaluation report of a trained model from its saved test set (no TensorFlow needed)."""
    from tinyml_disco.app.tflm_oracle import TflmOracle

    card = load_card(paths)
    test, float_pred = saved_test(paths, card)
    tfl = paths.tflite.read_bytes()
    tflm_out = TflmOracle(tfl).invoke(model_inputs(paths, test.raw))
    compiled = compile_c(paths, log)
    return write_report(paths, card, test, float_pred, tflm_out, compiled, len(tfl), device_per_class, log)


def data_summary(card: ModelCard) -> str:
    """One line saying what a model's test data is (report.md, demo)."""
    data = card.data
    if data.get("source", "synthetic") == "synthetic":
        return f"synthetic (seed {card.training['seed']}, {data['windows']['test']} test windows)"
    split = data.get("split", {})
    by_time = "".join(f"; {c} split by time in {', '.join(fs)}" for c, fs in split.get("time_split", {}).items())
    return (f"recordings in {data['dir']} ({split.get('layout', 'seeded')} split; test files: "
            f"{', '.join(data['files']['test'])}{by_time})")


def write_report(paths: ModelPaths, card: ModelCard, test: synth.Windows, float_pred: np.ndarray, tflm_out: np.ndarray,
                 compiled: compiler.CompiledModel, tflite_bytes: int, device_per_class: int, log: Log = print) -> dict:
    """report.json / report.md / confusion.png: float vs int8 host vs on-device, per class, size, cycles."""
    names = list(card.labels)
    ev = {"float (Keras)": rp.class_metrics(test.labels, float_pred, names),
          "int8 host (TFLM)": rp.class_metrics(test.labels, tflm_out.argmax(1), names)}
    panels = dict(ev)
    if device_per_class > 0:
        idx = rp.pick_per_class(test.labels, device_per_class)
        log(f"[report] on-device check: {len(idx)} test windows through the emulated board")
        try:
            elf = build_firmware(paths, log)
            dev = rp.evaluate_device(elf, test.g[idx], test.labels[idx], tflm_out[idx], names)
            # Same windows on the host, so the float/int8/device columns compare like with like.
            dev["int8_host_same_windows"] = float((tflm_out[idx].argmax(1) == test.labels[idx]).mean())
            dev["float_same_windows"] = float((float_pred[idx] == test.labels[idx]).mean())
            ev["device (emulated)"] = dev
            panels["device (emulated)"] = dev
        except (RuntimeError, OSError, ValueError) as exc:  # no cross compiler, fault, protocol: say so, keep the model
            ev["device (emulated)"] = {"error": str(exc).splitlines()[0]}
            log(f"[report] on-device check not run: {exc}")
    else:
        ev["device (emulated)"] = {"error": "skipped (no device windows requested: --device-per-class 0)"}
    summary = data_summary(card)
    report = {
        "model": card.name, "tflite_sha256": card.tflite_sha256, "features": card.features_id, "labels": names,
        "data_summary": summary,
        "seed": card.training["seed"], "evaluations": ev,
        "accuracy": {"float": ev["float (Keras)"]["accuracy"], "int8_host": ev["int8 host (TFLM)"]["accuracy"],
                     "device": ev.get("device (emulated)", {}).get("accuracy"),
                     "device_windows": ev.get("device (emulated)", {}).get("windows", 0)},
        "size": {"tflite_bytes": tflite_bytes, "weight_bytes": compiled.weight_bytes,
                 "const_bytes": compiled.const_bytes, "arena_bytes": compiled.arena_bytes},
        "sensor": card.raw["sensor"],
    }
    rp.write(paths.root, report, panels, log)
    return report


def compile_bytes(tfl: bytes, card: ModelCard, source: str, log: Log = print,
                  weight_streams: str = "auto") -> compiler.CompiledModel:
    """Validate (the whole flatbuffer), compile and measure against TFLM's arena; writes nothing. The model is
    compiled with RAM streams first (compiler.prepare_model: every op emitted, so a clean error before TFLM sees a
    model it may fail on); TFLM's arena head is then the budget of weight_streams "auto" (compiler/model.py
    flash_stream_policy), and the RAM-stream compile is the result unless flash streams are chosen."""
    g = tflite_reader.parse(tfl, source)
    meta = dataclasses.replace(compile_meta(card, g), tflite_sha256=sha256_bytes(tfl))
    prepared = compiler.prepare_model(g, meta)
    from tinyml_disco.app.tflm_arena import measure

    tflm = measure(tfl)
    compiled = compiler.compile_prepared(prepared, arena_budget=tflm.head_bytes, weight_streams=weight_streams)
    flash = sum(r.kernel == "tdnn_convolve_s8_quad_flash" for r in compiled.manifest)
    log(f"[compile] {card.name}: ops {', '.join(compiled.ops)}; arena {compiled.arena_bytes} B "
        f"(+ {compiled.io_bytes} B input/output = {compiled.arena_bytes + compiled.io_bytes} B; TFLM arena head "
        f"{tflm.head_bytes} B, total {tflm.total_bytes} B), constants {compiled.const_bytes} B "
        f"({compiled.const_bytes / max(compiled.weight_bytes, 1):.2f}x the {compiled.weight_bytes} B of weights); "
        f"weight streams {weight_streams}: {flash} conv layer(s) with flash streams")
    return compiled


def compile_c(paths: ModelPaths, log: Log = print, weight_streams: str = "auto",
              card: ModelCard | None = None) -> compiler.CompiledModel:
    """model.tflite -> model.c/model.h/manifest; nothing is written unless the model validates, compiles and
    TFLM's arena measurement succeeds, and only for the model.tflite that model.json describes (card: the caller's
    load_card(paths), when it has it). Files whose content did not change are left as they are (make skips them)."""
    card = load_card(paths) if card is None else card  # refuses a model.json that describes another model.tflite
    tfl = paths.tflite.read_bytes()
    if sha256_bytes(tfl) != card.tflite_sha256:
        raise ArtifactMismatchError(f"{paths.tflite} changed while it was read; run the command again")
    check_writable(paths.root)
    compiled = compile_bytes(tfl, card, str(paths.tflite), log, weight_streams)
    compiler.write(compiled, paths.root)
    log(f"[compile] wrote {paths.model_c}")
    return compiled


def _manifest(paths: ModelPaths) -> dict:
    """model_manifest.json ({} when missing or unreadable): which .tflite and weight-stream choice model.c/model.h
    were generated from, and the compile's memory figures."""
    try:
        manifest = json.loads((paths.root / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _manifest_sha(paths: ModelPaths) -> str:
    """The tflite_sha256 model_manifest.json records: which .tflite model.c/model.h were generated from."""
    return str(_manifest(paths).get("tflite_sha256", ""))


def _c_is_current(paths: ModelPaths, card: ModelCard, weight_streams: str | None) -> bool:
    manifest = _manifest(paths)
    return (manifest.get("tflite_sha256") == card.tflite_sha256 and paths.model_c.is_file()
            and (paths.root / "model.h").is_file()
            and (weight_streams is None or manifest.get("weight_streams", "auto") == weight_streams))


def _card_or_none(paths: ModelPaths) -> ModelCard | None:
    """The model card, checked against model.tflite; None for a folder with only generated C and no model card
    (model.json absent or without "format": hand-built by tests and tools), which is built as it is."""
    try:
        raw = json.loads(paths.meta_json.read_text())
    except (OSError, ValueError):
        raw = None
    if not isinstance(raw, dict) or "format" not in raw:
        if not paths.model_c.is_file():
            raise FileNotFoundError(f"{paths.meta_json} does not exist; run `tinyml-disco train --model "
                                    f"{paths.name}` first")
        return None
    return load_card(paths)


def build_firmware(paths: ModelPaths, log: Log = print, weight_streams: str | None = None) -> Path:
    """Cross-compile firmware.elf for this model with arm-none-eabi-gcc (via firmware/Makefile). model.c/model.h
    are (re)generated first when missing or generated from another model.tflite, or, with weight_streams, from
    another weight-stream choice (None: the C as it is, any choice; a missing one compiles with "auto")."""
    require_cross_toolchain()
    card = _card_or_none(paths)
    if card is not None and not _c_is_current(paths, card, weight_streams):
        compile_c(paths, log, weight_streams or "auto", card)
    return _make_firmware(paths, card.tflite_sha256 if card is not None else _manifest_sha(paths), log)


def _make_firmware(paths: ModelPaths, source_sha: str, log: Log) -> Path:
    """make for the model.c/model.h in paths.root, between firmware_stamp.prepare and record (one set of inputs)."""
    built_from = firmware_stamp.inputs(paths.root, source_sha,
                                       {"weight_streams": str(_manifest(paths).get("weight_streams", "auto"))})
    if firmware_stamp.prepare(paths.firmware_dir, built_from):
        log(f"[build] {paths.firmware_dir}: objects were compiled from other model files; rebuilding all")
    cmd = ["make", "-s", "-C", str(firmware_dir()), f"MODEL_DIR={paths.root}",
           f"BUILD_DIR={paths.firmware_dir}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"firmware build failed ({' '.join(cmd)}):\n{proc.stdout}\n{proc.stderr}")
    firmware_stamp.record(paths.firmware_dir, built_from, paths.elf)
    log(f"[build] {paths.elf}")
    return paths.elf


def current_elf(paths: ModelPaths, log: Log = print) -> Path:
    """The compiled-runtime firmware.elf of this model: reused when its build stamp ties it to model.tflite (with
    the weight-stream choice it was built with), rebuilt otherwise (a stale ELF from an earlier training is never
    run)."""
    card = load_card(paths)
    reason = firmware_stamp.stale_reason(paths.elf, card.tflite_sha256)
    if reason is None:
        return paths.elf
    if paths.elf.exists():
        log(f"[build] {reason}; rebuilding")
    return build_firmware(paths, log)


RUNTIMES = ("compiled", "tflm", "auto")


def build_runtime(paths: ModelPaths, runtime: str = "compiled", log: Log = print,
                  weight_streams: str = "auto") -> tuple[str, Path]:
    """Firmware for `runtime` -> (the runtime built, its ELF). compiled: our model compiler (default); tflm:
    TFLite Micro + CMSIS-NN (app/tflm_runtime.py); auto: compiled, or TFLM when the compiler lacks an op.
    weight_streams: where the compiled runtime's conv weight streams live (compiler/model.py WEIGHT_STREAMS)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    if runtime in ("compiled", "auto"):
        card = load_card(paths)
        try:
            compile_c(paths, log, weight_streams, card)
        except compiler.UnsupportedModelError as exc:
            if runtime == "compiled":
                raise ValueError(f"{exc}. The TFLite Micro runtime runs it: pass --runtime tflm (or --runtime auto "
                                 "to fall back to it whenever our compiler lacks an op)") from exc
            log(f"[build] our compiler cannot take this model ({exc}); --runtime auto: using TFLite Micro")
        else:
            require_cross_toolchain()
            return "compiled", _make_firmware(paths, card.tflite_sha256, log)
    from tinyml_disco.app.tflm_runtime import build_firmware_tflm

    g = tflite_reader.load(paths.require(paths.tflite, f"tinyml-disco train --model {paths.name}"))
    return "tflm", build_firmware_tflm(paths, compile_meta(load_card(paths), g), log).elf


def sensor_spec(card: ModelCard) -> synth.SensorSpec:
    """The sensor a model was trained for (model.json "sensor"), as the generator's SensorSpec."""
    return synth.SensorSpec(name=card.sensor.name, full_scale_g=card.sensor.full_scale_g, lsb_ug=card.sensor.lsb_ug)


def generator_config(card: ModelCard) -> synth.SynthConfig:
    """The generator settings a model was trained with (model.json "data"), or the defaults for its labels."""
    if card.generator is None:
        return synth.SynthConfig(labels=card.labels)
    return synth.config_from_dict(card.generator)


def device_windows(paths: ModelPaths, per_class: int, seed: int = DEVICE_SEED) -> synth.Windows:
    """Held-out windows for on-device checks: synthetic from a seed training never used, with the model's own
    generator settings (sensor, unknown class...); for a model trained on recordings, its test recordings."""
    card = load_card(paths)
    if card.data_source == "recordings":
        test, _ = saved_test(paths, card)
        idx = rp.pick_per_class(test.labels, per_class)
        return dataclasses.replace(test, raw=test.raw[idx], labels=test.labels[idx])
    return synth.generate(per_class, seed, generator_config(card))


def saved_test(paths: ModelPaths, card: ModelCard) -> tuple[synth.Windows, np.ndarray]:
    """The test set `train` saved (data/test_windows.npz) as windows of the model's own sensor and sample rate
    (model.json, whatever the data source), and the float model's predictions on it."""
    how = f"tinyml-disco train --model {paths.name}" + (" --data DIR" if card.data_source == "recordings" else "")
    with np.load(paths.require(paths.data_dir / "test_windows.npz", how)) as saved:
        names = tuple(str(x) for x in saved["label_names"]) if "label_names" in saved.files else card.labels
        if names != card.labels:
            raise ArtifactMismatchError(f"{paths.data_dir / 'test_windows.npz'} has labels {', '.join(names)}, "
                                        f"model.json {', '.join(card.labels)}; run `{how}` again")
        test = synth.Windows(saved["raw"], saved["labels"], names, sensor_spec(card), card.sample_rate_hz)
        return test, saved["float_pred"]


def host_model(paths: ModelPaths):
    card = load_card(paths)
    return build_host_model(paths.root, paths.host_dir, card.n_inputs, len(card.labels))


def feature_quant(paths: ModelPaths) -> features.FeatureQuant:
    card = load_card(paths)
    return features.get(card.features_id).feature_quant(card.sensor.lsb_ug * 1e-6, card.window, card.input.scale,
                                                        card.input.zero_point)


def model_inputs(paths: ModelPaths, raw: np.ndarray) -> np.ndarray:
    """The int8 input tensors the firmware computes from these raw windows (bit-exact host twin)."""
    return features.get(load_card(paths).features_id).quantized(raw, feature_quant(paths))


def export_device_data(paths: ModelPaths, per_class: int = 5, seed: int = DEVICE_SEED) -> dict[str, Path]:
    """Held-out windows as CSV (with labels) and RESD, plus a JSON index, for the suites and Renode."""
    w = device_windows(paths, per_class, seed)
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    g = w.g.reshape(-1, 3)
    labels = [w.label_names[lab] for lab in w.labels for _ in range(w.raw.shape[1])]
    csv_path = paths.data_dir / "device_windows.csv"
    resd_path = paths.data_dir / "device_windows.resd"
    with atomic_path(csv_path) as tmp:
        sensor_csv.write_csv(tmp, g, w.sample_rate_hz, labels)
    with atomic_path(resd_path) as tmp:
        resd.write_acceleration(tmp, g, w.sample_rate_hz)
    index = paths.data_dir / "device_windows.json"
    card = load_card(paths)
    atomic_write(index, json.dumps({
        "model": paths.name, "source": card.data_source, "seed": seed,
        "window": int(w.raw.shape[1]), "sample_rate_hz": w.sample_rate_hz, "classes": list(w.label_names),
        "sensor": card.raw["sensor"], "labels": [w.label_names[lab] for lab in w.labels]}, indent=2) + "\n")
    return {"csv": csv_path, "resd": resd_path, "index": index}
