"""Builds sim/native/blockhook.c (with spifast.c and excfast.c: SPI register reads, exception entry/return)
with the host C compiler into a cached shared library.

The library's file name carries a hash of the source, the flags and the machine, so an edited source
is rebuilt and a stale one is never loaded. `scripts/bootstrap.sh` builds it at install time
(`python -m tinyml_disco.sim.native.build`); otherwise the first InstructionCounter builds it (with a message).

Cache: $TINYML_NATIVE_CACHE, else $XDG_CACHE_HOME/tinyml-disco/native, else ~/.cache/tinyml-disco/native.
Compiler: $CC, else `cc`, else `gcc`.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

SOURCE = Path(__file__).with_name("blockhook.c")
EXTRA_SOURCES = (Path(__file__).with_name("spifast.c"), Path(__file__).with_name("excfast.c"))
CFLAGS = ("-O2", "-fPIC", "-shared", "-std=c11", "-Wall", "-Wextra", "-Werror")


class NativeBuildError(RuntimeError):
    """The native block hook could not be compiled (the message holds the compiler's output)."""


class NoCompiler(NativeBuildError):
    """No host C compiler was found."""


def cache_dir() -> Path:
    explicit = os.environ.get("TINYML_NATIVE_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tinyml-disco" / "native"


def find_compiler() -> list[str] | None:
    """The compiler command ($CC may carry arguments, e.g. "ccache gcc"), or None if there is none."""
    cc = os.environ.get("CC")
    if cc:
        argv = shlex.split(cc)
        return argv if argv and shutil.which(argv[0]) else None
    for name in ("cc", "gcc"):
        path = shutil.which(name)
        if path:
            return [path]
    return None


def library_path(cache: Path | None = None) -> Path:
    digest = hashlib.sha256(SOURCE.read_bytes())
    for extra in EXTRA_SOURCES:
        digest.update(extra.read_bytes())
    digest.update(" ".join(CFLAGS).encode())
    digest.update(f"{sys.platform}-{platform.machine()}".encode())
    return (cache or cache_dir()) / f"blockhook-{digest.hexdigest()[:16]}.so"


def is_buildable(cache: Path | None = None) -> bool:
    """True when the library is cached already or a compiler exists to build it."""
    return library_path(cache).exists() or find_compiler() is not None


def build(cache: Path | None = None, log: Callable[[str], None] | None = None) -> Path:
    """Return the cached library, compiling it first if needed."""
    out = library_path(cache)
    if out.exists():
        return out
    compiler = find_compiler()
    if compiler is None:
        raise NoCompiler(
            "no C compiler found for the native block hook (looked at $CC, cc, gcc): "
            "install the Debian/Ubuntu package gcc (sudo apt-get install gcc; scripts/bootstrap.sh does) or set CC"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NativeBuildError(
            f"cannot create the native build cache {out.parent} ({exc}): set TINYML_NATIVE_CACHE to a "
            "writable directory"
        ) from exc
    # Build under a temporary name and rename, so concurrent processes never load a half-written file.
    fd, tmp_name = tempfile.mkstemp(prefix=out.stem + ".", suffix=".tmp", dir=out.parent)
    os.close(fd)
    cmd = [*compiler, *CFLAGS, "-o", tmp_name, str(SOURCE), *(str(p) for p in EXTRA_SOURCES)]
    (log or _stderr)(f"[tinyml_disco.sim.native] building the native block hook: {shlex.join(cmd)}")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise NativeBuildError(
                f"compiling {SOURCE} failed (exit {proc.returncode}):\n{proc.stderr.strip()}\n"
                "set TINYML_COUNTER=python to use the (slower) Python counter meanwhile"
            )
        os.replace(tmp_name, out)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return out


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def main() -> int:
    try:
        print(build(log=_stderr))
    except NativeBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
