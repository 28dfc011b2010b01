"""What the HTML report shows, gathered from a model's build folder; each part is a value or a `Missing` note.

Read, not re-measured: model.json (data), report.json (float / int8 / device confusion matrices, written by
`train`), bench.json (the runtime comparison, written by `bench`), the Robot logs under <build>/robot/.
Computed when absent and cheap: the device confusion matrix (report.json from a `train --device-per-class 0` has
none: a few saved test windows run through the firmware on the emulated board), the per-layer profile (one
inference on the bare core, written to profile.json as `tinyml-disco profile` does) and the flash / RAM
breakdown (read from the ELF). Anything else missing is a `Missing` naming the command that produces it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tinyml_disco.app.elf_breakdown import Breakdown, breakdown
from tinyml_disco.app.profile import Profile, load_profile, profile_model
from tinyml_disco.training.artifacts import ModelCard, ModelPaths, load_card

DEVICE = "device (emulated)"


@dataclass(frozen=True)
class Missing:
    what: str  # why it is not shown
    command: str  # what produces it


@dataclass
class ReportInputs:
    paths: ModelPaths
    card: ModelCard | Missing
    evaluations: dict[str, dict] | Missing  # panel name -> class_metrics (app/report.py)
    device: dict | Missing
    device_source: str  # "report.json" or how it was computed now
    profile: Profile | Missing
    memory: Breakdown | Missing
    bench: dict | Missing
    robot_logs: list[tuple[str, str]] = field(default_factory=list)  # (title, link relative to the report)
    robot_missing: Missing | None = None


def gather(paths: ModelPaths, device_per_class: int = 10, log=print) -> ReportInputs:
    name = paths.name
    try:
        # A model.json beside a different model.tflite is refused; one whose .tflite is gone still reports its figures
        card: ModelCard | Missing = load_card(paths, check_tflite=paths.tflite.exists())
    except (FileNotFoundError, ValueError, KeyError) as exc:
        card = Missing(str(exc).splitlines()[0], f"tinyml-disco train --model {name}")
    evaluations, device, source = _evaluations(paths, card, device_per_class, log)
    logs = robot_logs(paths)
    return ReportInputs(
        paths=paths, card=card, evaluations=evaluations, device=device, device_source=source,
        profile=_profile(paths, log), memory=_memory(paths), bench=_bench(paths), robot_logs=logs,
        robot_missing=None if logs else Missing(
            f"not run yet (no log.html under {paths.root.parent / 'robot'})",
            f"robot --outputdir {paths.root.parent / 'robot'} robot_tests/"))


def _evaluations(paths: ModelPaths, card: ModelCard | Missing, per_class: int,
                 log) -> tuple[dict[str, dict] | Missing, dict | Missing, str]:
    report = paths.root / "report.json"
    train = f"tinyml-disco train --model {paths.name}"
    if not report.exists():
        miss = Missing(f"{report} does not exist", train)
        return miss, miss, ""
    ev = json.loads(report.read_text())["evaluations"]
    host = {k: v for k, v in ev.items() if k != DEVICE and "confusion" in v}
    dev = ev.get(DEVICE, {})
    if "confusion" in dev:
        return host, dev, "report.json (tinyml-disco train)"
    why = dev.get("error", "report.json has no device evaluation")
    if per_class <= 0 or isinstance(card, Missing):
        return host, Missing(why, f"{train} --device-per-class 25"), ""
    if not paths.elf.exists():
        return host, Missing(f"{why}; and {paths.elf} does not exist", f"tinyml-disco build --model {paths.name}"), ""
    try:
        return host, device_evaluation(paths, card, per_class, log), \
            f"computed by tinyml-disco report: {per_class} saved test windows per class on the emulated board"
    except (FileNotFoundError, RuntimeError, OSError, ValueError) as exc:
        why = f"on-device check failed: {str(exc).splitlines()[0]}"
        return host, Missing(why, f"{train} --device-per-class 25"), ""


def device_evaluation(paths: ModelPaths, card: ModelCard, per_class: int, log=print) -> dict:
    """The first `per_class` saved test windows of each class through the firmware on the emulated board."""
    from tinyml_disco.app import pipeline
    from tinyml_disco.app.report import evaluate_device, pick_per_class
    from tinyml_disco.app.tflm_oracle import TflmOracle

    test, _ = pipeline.saved_test(paths, card)
    idx = pick_per_class(test.labels, per_class)
    log(f"[report] on-device check: {len(idx)} test windows through the emulated board")
    tflm_out = TflmOracle(paths.tflite.read_bytes()).invoke(pipeline.model_inputs(paths, test.raw[idx]))
    return evaluate_device(paths.elf, test.g[idx], test.labels[idx], tflm_out, list(card.labels))


def _profile(paths: ModelPaths, log) -> Profile | Missing:
    saved = paths.root / "profile.json"
    if saved.exists() and (not paths.elf.exists() or saved.stat().st_mtime >= paths.elf.stat().st_mtime):
        return load_profile(saved)
    if not paths.elf.exists():
        return Missing(f"{paths.elf} does not exist", f"tinyml-disco build --model {paths.name}")
    try:
        log(f"[report] profiling one inference of {paths.elf} on the bare core")
        return profile_model(paths)
    except (FileNotFoundError, RuntimeError, OSError, ValueError) as exc:
        return Missing(f"profile failed: {str(exc).splitlines()[0]}", f"tinyml-disco profile --model {paths.name}")


def _memory(paths: ModelPaths) -> Breakdown | Missing:
    if not paths.elf.exists():
        return Missing(f"{paths.elf} does not exist", f"tinyml-disco build --model {paths.name}")
    return breakdown(paths.elf)


def _bench(paths: ModelPaths) -> dict | Missing:
    cmd = f"tinyml-disco bench --model {paths.name}"
    if not paths.bench_json.exists():
        return Missing(f"{paths.bench_json} does not exist", cmd)
    return json.loads(paths.bench_json.read_text())


def robot_logs(paths: ModelPaths) -> list[tuple[str, str]]:
    """Every Robot log.html under <build>/robot/, as (output folder, link relative to build/<model>/)."""
    robot = paths.root.parent / "robot"
    found = sorted(robot.rglob("log.html")) if robot.is_dir() else []
    return [(str(p.parent.relative_to(paths.root.parent)), "../" + p.relative_to(paths.root.parent).as_posix())
            for p in found]
