"""One process at a time on a shared folder: an advisory lock file (fcntl.flock, released when the process dies).

Parallel Robot suites (pabot) and parallel test runs share build/<model>/ and the per-user caches; whatever
prepares such a folder holds its lock, and whoever comes second finds it ready.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file` (created if missing) for the duration of the block."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
