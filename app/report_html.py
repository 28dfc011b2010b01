"""`tinyml-disco report`: one self-contained HTML page per model, build/<model>/report.html.

Inline CSS, pictures as base64 PNG, no script, no external URL: it opens from disk, offline, and can be attached
to a CI run. What it shows comes from app/report_inputs.py; a part that is missing says which command makes it.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

from tinyml_disco.app import report_figures as figs
from tinyml_disco.app.elf_breakdown import Breakdown, Part
from tinyml_disco.app.profile import Profile
from tinyml_disco.app.report import pct
from tinyml_disco.app.report_inputs import Missing, ReportInputs, gather
from tinyml_disco.compiler.fileio import atomic_write
from tinyml_disco.training.artifacts import ModelCard, ModelPaths

CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0; background: #f4f5f7; color: #222; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 40px; }
h1 { font-size: 26px; margin: 8px 0 2px; } h2 { font-size: 19px; margin: 0 0 10px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
.sub { color: #666; font-size: 13px; margin-bottom: 14px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 14px 18px; margin: 14px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { flex: 1 1 140px; background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 10px 12px; }
.card .v { font-size: 22px; font-weight: bold; } .card .k { font-size: 12px; color: #666; }
table { border-collapse: collapse; font-size: 13px; margin: 4px 0 8px; }
th, td { border-bottom: 1px solid #e3e6ea; padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.cols { display: flex; flex-wrap: wrap; gap: 24px; } .cols > div { flex: 1 1 440px; min-width: 0; }
.bar { display: inline-block; height: 10px; background: #4477aa; vertical-align: middle; }
.missing { background: #fff7e6; border-left: 4px solid #f0a020; padding: 8px 12px; font-size: 14px; }
code { background: #eef0f3; padding: 1px 4px; border-radius: 3px; font-size: 13px; }
img { max-width: 100%; height: auto; display: block; }
.name { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; word-break: break-all; }
"""


def write(paths: ModelPaths, device_per_class: int = 10, log=print) -> Path:
    """Gather, render and write build/<model>/report.html."""
    inputs = gather(paths, device_per_class, log)
    out = paths.root / "report.html"
    atomic_write(out, render(inputs))
    log(f"[report] wrote {out}")
    return out


def render(r: ReportInputs) -> str:
    name = escape(r.paths.name)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>tinyml-disco report: {name}"
             f"</title><style>{CSS}</style></head><body><main>",
             f"<h1>{name}</h1><div class='sub'>{escape(_description(r.paths.name))}tinyml-disco report, {stamp}, "
             f"from {escape(str(r.paths.root))}</div>",
             _cards(r), _data(r), _confusions(r), _profile(r.profile, r.device), _memory(r.memory), _runtimes(r.bench),
             _robot(r), "</main></body></html>\n"]
    return "\n".join(parts)


def _description(name: str) -> str:
    from tinyml_disco.training.models import MODELS

    return f"{MODELS[name].description}. " if name in MODELS else ""


def _missing(m: Missing) -> str:
    return f"<p class='missing'>Not available: {escape(m.what)}. Run <code>{escape(m.command)}</code>.</p>"


def _cards(r: ReportInputs) -> str:
    cards: list[tuple[str, str]] = []
    if not isinstance(r.evaluations, Missing):
        for k, m in r.evaluations.items():
            cards.append((pct(m["accuracy"]), f"accuracy, {k} ({m['windows']} windows)"))
    if not isinstance(r.device, Missing):
        cards.append((pct(r.device["accuracy"]), f"accuracy, device ({r.device['windows']} windows)"))
    if not isinstance(r.device, Missing) and "cycles_per_inference" in r.device:
        cards.append((f"{r.device['cycles_per_inference']:,}", "cycles per inference (PRED median, emulated M4)"))
    elif not isinstance(r.profile, Missing):
        cards.append((f"{r.profile.total_instructions:,}", "cycles per inference (profile, emulated M4)"))
    if not isinstance(r.memory, Missing):
        cards += [(f"{r.memory.flash_bytes:,} B", "flash"), (f"{r.memory.ram_bytes:,} B", "RAM (incl. stack)")]
    body = "".join(f"<div class='card'><div class='v'>{escape(v)}</div><div class='k'>{escape(k)}</div></div>"
                   for v, k in cards)
    return f"<div class='cards'>{body}</div>" if cards else ""


def _data(r: ReportInputs) -> str:
    head = "<section id='data'><h2>Data</h2>"
    if isinstance(r.card, Missing):
        return head + _missing(r.card) + "</section>"
    c: ModelCard = r.card
    d = c.data
    rows = [("source", d.get("source", "-")), ("classes", ", ".join(c.labels)),
            ("sensor", f"{c.sensor.name} ±{c.sensor.full_scale_g} g, {c.sensor.lsb_ug} µg/LSB"),
            ("window", f"{c.window} samples at {c.sample_rate_hz} Hz ({c.window / c.sample_rate_hz:.2f} s), "
                       f"hop {c.hop}"),
            ("features", f"{c.features_id}, input shape {'x'.join(map(str, c.features_shape))}")]
    if d.get("source") == "recordings":
        rows.append(("recordings", d.get("dir", "-")))
        for split, files in (d.get("files") or {}).items():
            rows.append((f"{split} files", ", ".join(files)))
    elif d.get("seeds"):
        rows.append(("seeds", ", ".join(f"{k} {v}" for k, v in d["seeds"].items())))
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    windows = d.get("windows", {})
    per_split = "".join(f"<tr><td>{escape(k)}</td><td class='n'>{v:,}</td></tr>" for k, v in windows.items())
    split_table = (f"<table><tr><th>split</th><th class='n'>windows</th></tr>{per_split}</table>" if windows
                   else "<p>windows per split: not recorded in model.json (trained with an older version)</p>")
    return (f"{head}<div class='cols'><div><table>{table}</table></div><div><h3>Windows per split</h3>"
            f"{split_table}</div></div></section>")


def _confusions(r: ReportInputs) -> str:
    head = "<section id='confusion'><h2>Confusion matrices (rows: true class; colour: share of the row)</h2>"
    if isinstance(r.evaluations, Missing):
        return head + _missing(r.evaluations) + "</section>"
    panels = dict(r.evaluations)
    note = ""
    if isinstance(r.device, Missing):
        note = _missing(r.device)
    else:
        panels["device (emulated)"] = r.device
        note = (f"<p class='sub'>Device: the firmware ELF on the emulated board, PRED lines; {escape(r.device_source)}"
                f". PRED equal to TFLM (class and score): {pct(r.device.get('pred_matches_tflm'))}.</p>")
    labels = next(iter(panels.values()))["per_class"].keys()
    img = f"<img alt='confusion matrices' src='{figs.confusions_png(panels, list(labels))}'>"
    heads = "".join(f"<th class='n' colspan='3'>{escape(k)}</th>" for k in panels)
    sub = "".join("<th class='n'>P</th><th class='n'>R</th><th class='n'>F1</th>" for _ in panels)
    rows = "".join(
        f"<tr><td>{escape(lab)}</td>" + "".join(
            f"<td class='n'>{m['per_class'][lab][k]:.2f}</td>" for m in panels.values()
            for k in ("precision", "recall", "f1")) + "</tr>"
        for lab in labels)
    table = f"<table><tr><th></th>{heads}</tr><tr><th>class</th>{sub}</tr>{rows}</table>"
    return f"{head}{img}{note}<h3>Per class: precision / recall / F1</h3>{table}</section>"


def _profile(p: Profile | Missing, device: dict | Missing) -> str:
    head = "<section id='profile'><h2>Cycles per layer (one inference, emulated Cortex-M4)</h2>"
    if isinstance(p, Missing):
        return head + _missing(p) + "</section>"
    pred = ""
    if not isinstance(device, Missing) and "cycles_per_inference" in device:
        pred = (f" The PRED lines report {device['cycles_per_inference']:,} (median, max "
                f"{device['cycles_per_inference_max']:,}): DWT CYCCNT around the whole model_invoke call on real "
                "windows, this profile counts one random input from inside it.")
    return (f"{head}<img alt='cycles per layer' style='max-width:820px' src='{figs.profile_png(p)}'>"
            f"<p class='sub'>Retired instructions per kernel call of <code>model_invoke</code> (= DWT cycles on the "
            f"emulated board); glue = argument setup inside model_invoke.{escape(pred)} Same figures: "
            f"<code>tinyml-disco profile --model {escape(p.model)}</code>.</p></section>")


def _symbols(title: str, parts: list[Part]) -> str:
    top = max((p.size for p in parts), default=1)
    rows = "".join(f"<tr><td class='name'>{escape(p.name)}</td><td>{escape(p.detail)}</td><td class='n'>{p.size:,}"
                   f"</td><td><span class='bar' style='width:{120 * p.size // top}px'></span></td></tr>" for p in parts)
    return (f"<div><h3>{escape(title)}</h3><table><tr><th>symbol</th><th>section</th><th class='n'>bytes</th><th>"
            f"</th></tr>{rows}</table></div>")


def _memory(b: Breakdown | Missing) -> str:
    head = "<section id='memory'><h2>Flash and RAM</h2>"
    if isinstance(b, Missing):
        return head + _missing(b) + "</section>"
    how = ("by purpose, from the linker map (app/flash_split.py)" if b.flash_split
           else "by section (no firmware.map next to the ELF)")
    secs = "".join(f"<tr><td>{region}</td><td class='name'>{escape(p.name)}</td><td class='n'>{p.size:,}</td>"
                   f"<td>{escape(p.detail)}</td></tr>"
                   for region, parts in (("flash", b.flash_sections), ("RAM", b.ram_sections)) for p in parts)
    use = (f"flash {b.flash_bytes:,} of {b.flash_limit:,} B ({pct(b.flash_bytes / b.flash_limit)}), RAM "
           f"{b.ram_bytes:,} of {b.ram_limit:,} B ({pct(b.ram_bytes / b.ram_limit)}) of the STM32F407VG")
    return (f"{head}<p>{escape(use)}; {escape(how)}.</p><div class='cols'><div style='flex: 2 1 600px'>"
            f"<img alt='flash and RAM' src='{figs.memory_png(b)}'></div><div style='flex: 1 1 320px'><h3>Sections</h3>"
            f"<table><tr><th>region</th><th>section</th><th class='n'>bytes</th><th></th></tr>{secs}</table>"
            f"<p class='sub'>.data is in both: its initial image is stored in flash.</p></div></div>"
            f"<div class='cols'>{_symbols('Largest symbols in flash', b.flash_symbols)}"
            f"{_symbols('Largest symbols in RAM', b.ram_symbols)}</div>"
            f"<p class='sub'>From {escape(str(b.elf))} (pyelftools; "
            f"<code>tinyml-disco footprint</code> prints the same sections).</p></section>")


def _runtimes(bench: dict | Missing) -> str:
    head = "<section id='runtimes'><h2>Runtimes: compiled model vs TensorFlow Lite Micro + CMSIS-NN</h2>"
    if isinstance(bench, Missing):
        return head + _missing(bench) + "</section>"
    runtimes = bench.get("runtimes") or {}
    cmd = f"tinyml-disco bench --model {bench.get('model', '')}"
    if not runtimes:
        return head + _missing(Missing("bench.json predates the runtime comparison (no \"runtimes\")", cmd)) + \
            "</section>"
    rows, notes = [], []
    for name, f in runtimes.items():
        if "skipped" in f:
            notes.append(f"<p class='missing'>{escape(name)}: not measured ({escape(f['skipped'])}).</p>")
            continue
        sp = f.get("flash_split") or {}
        split = " / ".join(f"{sp.get(k, 0):,}" for k in ("app", "model", "kernels", "runtime", "libc")) if sp else "-"
        rows.append(f"<tr><td>{escape(name)}</td><td class='n'>{f['cycles_per_inference']:,}</td>"
                    f"<td class='n'>{f['flash_bytes']:,}</td><td class='n'>{split}</td>"
                    f"<td class='n'>{f['ram_used_bytes']:,}</td>"
                    f"<td class='n'>{pct(f['bitexact_rate_device'])}</td>"
                    f"<td class='n'>{pct(f['device_pred_matches_tflm'])}</td></tr>")
    ratios = bench.get("ratios") or {}
    if ratios:
        rows.append(f"<tr><th>TFLM / compiled</th><th class='n'>x{ratios['cycles_per_inference']:.2f}</th>"
                    f"<th class='n'>x{ratios['flash_bytes']:.2f}</th><th></th>"
                    f"<th class='n'>x{ratios['ram_used_bytes']:.2f}</th><th></th><th></th></tr>")
    measured = sum("cycles_per_inference" in f for f in runtimes.values())
    img = f"<img alt='runtimes' src='{figs.runtimes_png(runtimes)}'>" if measured else ""
    table = ("<table><tr><th>runtime</th><th class='n'>cycles</th><th class='n'>flash B</th>"
             "<th class='n'>app / model / kernels / runtime / libc</th><th class='n'>RAM used B</th>"
             "<th class='n'>INFER bit-exact</th><th class='n'>PRED = TFLM</th></tr>" + "".join(rows) + "</table>")
    return (f"{head}{img}{table}{''.join(notes)}<p class='sub'>From bench.json (<code>{escape(cmd)}</code>): the "
            "same windows and INFER inputs on the same emulated board; RAM used = static + measured stack.</p>"
            "</section>")


def _robot(r: ReportInputs) -> str:
    head = "<section id='robot'><h2>Robot Framework logs</h2>"
    if not r.robot_logs:
        return head + (_missing(r.robot_missing) if r.robot_missing else "<p>not run yet</p>") + "</section>"
    items = "".join(f"<li><a href='{escape(href)}'>{escape(title)}/log.html</a></li>" for title, href in r.robot_logs)
    return f"{head}<ul>{items}</ul><p class='sub'>Links relative to this page (build/&lt;model&gt;/).</p></section>"
