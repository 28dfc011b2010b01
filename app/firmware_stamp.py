"""What a firmware.elf was built from: `build.json` next to it, and the checks that keep a build honest.

firmware/Makefile's dependency files (.d) hold absolute paths, so objects of a copied build folder (or of a
folder whose model.h was replaced by an older file) would be linked unchanged against another model. The stamp
records the sha256 of the .tflite, of model.c/model.h, of the firmware sources and the folder they were compiled
from (and the compiled runtime's weight-stream choice); `inputs` hashes them once per build, `prepare` deletes
the objects before make whenever any of these differ, `record` writes the stamp (with the ELF's own sha256) after
a successful link, and `stale_reason` says why an ELF must not be used as it is.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from tinyml_disco.app.resources import firmware_dir
from tinyml_disco.compiler.fileio import atomic_write, sha256_file

STAMP = "build.json"
# Object folders firmware/Makefile writes under BUILD_DIR; the nn kernels do not include model.h, so a new model
# (or a copied folder) keeps them and only a change of the firmware sources deletes them too.
MODEL_OBJECT_DIRS = ("src", "model", "extra", "tflm")
OBJECT_DIRS = (*MODEL_OBJECT_DIRS, "nn")


def firmware_sources_sha256() -> str:
    """One hash over the firmware tree the Makefile compiles (sources, headers, linker script, Makefile)."""
    h = hashlib.sha256()
    root = firmware_dir()  # the checkout's firmware/ or the installed package's copy
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".c", ".h", ".inc", ".cc", ".ld", ".S", ".s") or p.name == "Makefile":
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def inputs(model_dir: Path, tflite_sha256: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """What a build in a folder is made from (hashed once per build: `prepare` compares it with the stamp,
    `record` writes it after the link). extra: other choices that shape the build (e.g. "weight_streams")."""
    return {"tflite_sha256": tflite_sha256, "model_c_sha256": sha256_file(model_dir / "model.c"),
            "model_h_sha256": sha256_file(model_dir / "model.h"), "model_dir": str(model_dir.resolve()),
            "firmware_sha256": firmware_sources_sha256(), **(extra or {})}


def read(build_dir: Path) -> dict:
    try:
        data = json.loads((build_dir / STAMP).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def prepare(build_dir: Path, new: dict[str, str]) -> bool:
    """Delete the objects in build_dir unless the stamp says they were compiled from exactly these inputs
    (`inputs`). Returns True when objects were deleted (a full rebuild follows)."""
    old = read(build_dir)
    (build_dir / STAMP).unlink(missing_ok=True)  # from here until `record`, the ELF is not vouched for
    if old and all(old.get(k) == v for k, v in new.items()):
        return False
    dirs = MODEL_OBJECT_DIRS if old.get("firmware_sha256") == new["firmware_sha256"] else OBJECT_DIRS
    cleaned = any((build_dir / d).exists() for d in dirs)
    for d in dirs:
        shutil.rmtree(build_dir / d, ignore_errors=True)
    return cleaned


def record(build_dir: Path, built_from: dict[str, str], elf: Path) -> dict:
    """Write the stamp after a successful link: the inputs `prepare` was given and the ELF's sha256."""
    stamp = {**built_from, "elf_sha256": sha256_file(elf)}
    atomic_write(build_dir / STAMP, json.dumps(stamp, indent=1) + "\n")
    return stamp


def stale_reason(elf: Path, tflite_sha256: str, weight_streams: str | None = None) -> str | None:
    """None when elf exists and its stamp ties it to this .tflite, to the firmware sources and model.c/model.h as
    they are now (and, when given, to this weight-stream choice); otherwise why it must be rebuilt."""
    if not elf.is_file():
        return f"{elf} does not exist"
    stamp = read(elf.parent)
    if not stamp:
        return f"{elf} has no build stamp ({elf.parent / STAMP}): it is not known what it was built from"
    if stamp.get("tflite_sha256") != tflite_sha256:
        return (f"{elf} was built from a different model.tflite (sha256 {str(stamp.get('tflite_sha256'))[:12]}..., "
                f"the model is {tflite_sha256[:12]}...)")
    if stamp.get("firmware_sha256") != firmware_sources_sha256():
        return f"the firmware sources ({firmware_dir()}) changed after {elf} was built"
    for name in ("model.c", "model.h"):  # the generated C next to build/<model>/firmware/ (compile_c rewrote it?)
        src = elf.parent.parent / name
        if src.is_file() and stamp.get(f"model_{name[-1]}_sha256") != sha256_file(src):
            return f"{src} changed after {elf} was built"
    if weight_streams is not None and stamp.get("weight_streams") != weight_streams:
        return (f"{elf} was built with weight streams {stamp.get('weight_streams', 'unrecorded')}, "
                f"{weight_streams} was asked for")
    if stamp.get("elf_sha256") != sha256_file(elf):
        return f"{elf} is not the file its build stamp describes (changed after the build)"
    return None
