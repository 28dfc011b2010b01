"""tinyml_disco.app.locks.exclusive: parallel Robot suites (pabot) preparing one build/<model>/ take turns."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tinyml_disco.app.locks import exclusive

PROBE = """import fcntl, sys
fh = open(sys.argv[1], "a")
try:
    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    sys.exit(3)
"""


def test_lock_is_exclusive_across_processes(tmp_path: Path) -> None:
    lock = tmp_path / "build" / ".mlp.lock"
    with exclusive(lock):
        assert subprocess.run([sys.executable, "-c", PROBE, str(lock)]).returncode == 3
    assert subprocess.run([sys.executable, "-c", PROBE, str(lock)]).returncode == 0
