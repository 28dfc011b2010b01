"""The pictures of the HTML report, as self-contained `data:image/png;base64,...` URIs (no files, no network).

Confusion matrices and per-layer cycles reuse the figures of report.png / profile.png (app/report.py,
app/profile.py); the memory and runtime figures are drawn here.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from tinyml_disco.app.elf_breakdown import Breakdown
from tinyml_disco.app.profile import Profile, profile_figure
from tinyml_disco.app.report import confusion_figure

# One colour per purpose of the bytes (app/flash_split.py CATEGORIES), colour-blind safe (Paul Tol's "bright").
PURPOSE_COLOURS = {"app": "#4477aa", "model": "#ee6677", "kernels": "#228833", "runtime": "#ccbb44",
                   "libc": "#66ccee", "other": "#bbbbbb"}
RUNTIME_COLOURS = {"compiled": "#4477aa", "tflm": "#ee6677"}


def data_uri(fig, dpi: int = 100) -> str:
    """The figure as an inline PNG (closed afterwards)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.08)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def confusions_png(panels: dict[str, dict], labels: Sequence[str]) -> str:
    return data_uri(confusion_figure(panels, labels, ""))


def profile_png(p: Profile) -> str:
    return data_uri(profile_figure(p))


def memory_png(b: Breakdown) -> str:
    """Flash and static RAM as one stacked bar each, split by purpose (linker map) or else by section."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if b.flash_split:
        rows = {"flash": b.flash_split, "RAM (static)": b.ram_static_split}
        colours = PURPOSE_COLOURS
    else:
        rows = {"flash": {p.name: p.size for p in b.flash_sections},
                "RAM": {p.name: p.size for p in b.ram_sections}}
        names = list(dict.fromkeys(n for parts in rows.values() for n in parts))
        colours = dict(zip(names, plt.get_cmap("tab10").colors, strict=False))
    fig, axes = plt.subplots(len(rows), 1, figsize=(7.0, 1.1 * len(rows) + 0.8), squeeze=False)
    for ax, (row, parts) in zip(axes[:, 0], rows.items(), strict=True):
        total = sum(parts.values())
        left = 0
        for name, size in parts.items():
            if size <= 0:
                continue
            ax.barh([0], [size], left=left, color=colours.get(name, "#999999"), label=name, height=0.6)
            if size / max(total, 1) > 0.08:
                ax.text(left + size / 2, 0, f"{name}\n{size:,}", ha="center", va="center", fontsize=8)
            left += size
        ax.set_xlim(0, max(total, 1))
        ax.set_yticks([])
        ax.set_title(f"{row}: {total:,} B", fontsize=10, loc="left")
        ax.tick_params(axis="x", labelsize=8)
    handles, names = [], []
    for ax in axes[:, 0]:
        for h, n in zip(*ax.get_legend_handles_labels(), strict=True):
            if n not in names:
                handles.append(h)
                names.append(n)
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return data_uri(fig)


def runtimes_png(runtimes: dict[str, dict]) -> str:
    """Compiled vs TFLite Micro: cycles, flash and RAM used side by side (bench.json "runtimes")."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = {k: v for k, v in runtimes.items() if "cycles_per_inference" in v}
    metrics = (("cycles_per_inference", "cycles per inference"), ("flash_bytes", "flash (B)"),
               ("ram_used_bytes", "RAM used (B)"))
    fig, axes = plt.subplots(1, len(metrics), figsize=(9.0, 2.8))
    for ax, (key, title) in zip(axes, metrics, strict=True):
        names = list(measured)
        values = [measured[n][key] for n in names]
        bars = ax.bar(names, values, color=[RUNTIME_COLOURS.get(n, "#999999") for n in names])
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.margins(y=0.2)
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    return data_uri(fig)
