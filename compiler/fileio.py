"""Artifact files: written whole or not at all, and identified by their sha256.

`atomic_write` writes a temporary file next to the target and renames it over the target (`os.replace`, atomic
on POSIX), so an interruption leaves either the old file or the new one, never a half-written one. Every
artifact of the pipeline goes through it (model.tflite, model.json, model.c/.h, reports, bench.json...). It lives
in the lowest layer (the compiler) so `training` and `app` can use it too.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write data (str is UTF-8) to path via a temporary file in the same folder and os.replace."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def write_if_changed(path: str | Path, data: bytes | str) -> bool:
    """atomic_write unless path already holds exactly data (then the file, and its mtime, stay as they are: make
    sees a regenerated but identical model.c as up to date). True when it wrote."""
    p = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        if p.is_file() and p.stat().st_size == len(raw) and p.read_bytes() == raw:
            return False
    except OSError:
        pass  # unreadable: write it
    atomic_write(p, raw)
    return True


class NotWritableError(OSError):
    """An output folder cannot be written; the message names it and the fix."""


def check_writable(folder: str | Path) -> Path:
    """Create folder if needed and prove it takes a new file (a probe file is written and removed), so a command
    fails before its long work, not after it. Works as root too (a read-only mount, a path under a file)."""
    p = Path(folder)
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-probe.", dir=p)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        blocker = next((a for a in (p, *p.parents) if a.exists()), None)
        if blocker is not None and not blocker.is_dir():
            why = f"{blocker} is a file, not a folder"
        raise NotWritableError(f"cannot write to {p} ({why}); pass a writable --build-dir / --out, or fix the "
                               "folder's permissions") from None
    return p


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """For writers that take a path (CSV, RESD): yields a temporary path next to `path`, renamed over it when the
    block ends normally, removed otherwise."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    finally:
        Path(tmp).unlink(missing_ok=True)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    return sha256_bytes(Path(path).read_bytes())
