"""Evaluation report after a training run: build/<model>/report.json + report.md + confusion.png.

Per-class precision / recall / F1 and confusion matrices of the float (Keras) and int8 (TFLite Micro on the
host) models on the whole test set, the on-device accuracy on a few of those windows (the firmware ELF on
the emulated board), model size and cycles. JSON for CI, Markdown and PNG for people.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tinyml_disco.app import progress
from tinyml_disco.app.compare import pred_matches
from tinyml_disco.compiler.fileio import atomic_write
from tinyml_disco.sim import footprint
from tinyml_disco.sim.session import embedded_session, timed_classify

Log = Callable[[str], None]


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    """Rows: true class, columns: predicted class."""
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)), 1)
    return cm


def class_metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]) -> dict:
    """Accuracy, macro F1, per-class precision / recall / F1 / support, and the confusion matrix."""
    cm = confusion(y_true, y_pred, len(labels))
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    actual = cm.sum(axis=1).astype(np.float64)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    total = int(cm.sum())
    return {
        "windows": total,
        "accuracy": float(tp.sum() / total) if total else 0.0,
        "macro_f1": float(f1[actual > 0].mean()) if (actual > 0).any() else 0.0,
        "per_class": {lab: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                            "support": int(actual[i])} for i, lab in enumerate(labels)},
        "confusion": cm.tolist(),
    }


def confusion_figure(panels: dict[str, dict], labels: Sequence[str], title: str):
    """One confusion-matrix panel per evaluated model: counts as numbers, colour = share of the true class's row
    (panels with different window counts read alike). Returns a matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg")  # no display in CI
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(3.9 * len(panels), 4.0), squeeze=False)
    for k, (ax, (name, m)) in enumerate(zip(axes[0], panels.items(), strict=True)):
        cm = np.array(m["confusion"])
        rows = cm.sum(axis=1, keepdims=True)
        share = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
        ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center", color="white" if share[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels if k == 0 else [])
        ax.tick_params(left=k == 0)
        ax.set_xlabel("predicted")
        if k == 0:
            ax.set_ylabel("true")
        ax.set_title(f"{name}\n{pct(m['accuracy'])} of {m['windows']} windows", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusions(panels: dict[str, dict], labels: Sequence[str], path: Path, title: str) -> Path:
    """confusion_figure written as a PNG (atomically)."""
    import matplotlib.pyplot as plt

    fig = confusion_figure(panels, labels, title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return atomic_write(path, buf.getvalue())


def evaluate_device(elf: Path, windows_g: np.ndarray, labels: np.ndarray, tflm_out: np.ndarray,
                    names: Sequence[str]) -> dict:
    """Feed windows through the emulated sensor into the unchanged firmware; compare with truth and TFLM."""

    session = embedded_session(elf)
    boot = session.start()
    with progress.bar(len(windows_g), "[report] windows on the emulated board", "window") as bar:
        preds, wall = timed_classify(session, windows_g, lambda: bar.update(1))
    cls = np.array([p.cls for p in preds])
    cycles = np.array([p.cycles for p in preds])
    fp = footprint.measure_footprint(elf)
    return {
        **class_metrics(labels, cls, names),
        "pred_matches_tflm": float(pred_matches(preds, tflm_out).mean()),
        "cycles_per_inference": int(np.median(cycles)),
        "cycles_per_inference_max": int(cycles.max()),
        "flash_bytes": fp.flash_bytes,
        "ram_bytes": fp.ram_bytes,
        "sensor": boot.sensor,
        "emulator_s_per_window": wall / max(len(preds), 1),
    }


def pick_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first `per_class` windows of every class (keeps the test order, deterministic)."""
    idx = [np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(idx)) if idx else np.array([], dtype=np.int64)


def pct(v: float | None) -> str:
    """A rate as a percentage with one decimal (report.md, report.html); "-" when there is none."""
    return "-" if v is None else f"{v * 100:.1f}%"


def to_markdown(r: dict) -> str:
    labels = r["labels"]
    ev = r["evaluations"]
    lines = [f"# Evaluation report: {r['model']}", "",
             f"Features `{r['features']}`, {len(labels)} classes ({', '.join(labels)}), data: {r['data_summary']}.",
             "", "| model | windows | accuracy | macro F1 |", "|---|---|---|---|"]
    for name, m in ev.items():
        if "error" in m:
            lines.append(f"| {name} | - | not run: {m['error']} | - |")
        else:
            lines.append(f"| {name} | {m['windows']} | {pct(m['accuracy'])} | {m['macro_f1']:.3f} |")
    lines += ["", "| class | " + " | ".join(f"{n} P / R / F1" for n in ev if "error" not in ev[n]) + " |",
              "|---|" + "---|" * sum(1 for m in ev.values() if "error" not in m)]
    for lab in labels:
        cells = [f"{m['per_class'][lab]['precision']:.2f} / {m['per_class'][lab]['recall']:.2f} / "
                 f"{m['per_class'][lab]['f1']:.2f}" for m in ev.values() if "error" not in m]
        lines.append(f"| {lab} | " + " | ".join(cells) + " |")
    size = r["size"]
    lines += ["", "| figure | value |", "|---|---|",
              f"| .tflite | {size['tflite_bytes']} B |",
              f"| weights + biases | {size['weight_bytes']} B |",
              f"| generated constants (flash) | {size['const_bytes']} B |",
              f"| activation arena | {size['arena_bytes']} B |"]
    dev = ev.get("device (emulated)", {})
    if "error" not in dev and dev:
        lines += [f"| firmware flash / RAM | {dev['flash_bytes']} B / {dev['ram_bytes']} B |",
                  f"| cycles per inference (median / max) | {dev['cycles_per_inference']} / "
                  f"{dev['cycles_per_inference_max']} |",
                  f"| device PRED = TFLM (class and score) | {pct(dev['pred_matches_tflm'])} |"]
    lines += ["", "![confusion matrices](confusion.png)", ""]
    return "\n".join(lines)


def write(root: Path, report: dict, panels: dict[str, dict], log: Log = print) -> dict[str, Path]:
    """report.json, report.md and confusion.png in root."""
    paths = {"json": root / "report.json", "md": root / "report.md", "png": root / "confusion.png"}
    atomic_write(paths["json"], json.dumps(report, indent=2) + "\n")
    atomic_write(paths["md"], to_markdown(report))
    plot_confusions(panels, report["labels"], paths["png"], f"{report['model']} ({report['features']})")
    log(f"[report] {paths['md']} ({paths['json'].name}, {paths['png'].name})")
    return paths
