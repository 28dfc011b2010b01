"""Finding and starting `renode` headless with its Robot server, as renode-test does.

renode/renode tests/robot_tests_provider.py starts `Renode.exe --robot-server-port <port> --hide-log
--disable-xwt` (options declared in Options.cs: --robot-server-port, --hide-log, --disable-xwt, --console,
-e/--execute, --plain, --pid-file), then connects Robot's Remote library to http://127.0.0.1:<port>/.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tinyml_disco.sim.backend import BackendUnavailable
from tinyml_disco.sim.renode.robot_client import RenodeRobotClient

INSTALL_HINT = (
    "install Renode 1.15.3 or newer (Linux portable package from https://github.com/renode/renode/releases, "
    "or the .deb/.rpm there), then put its `renode` on PATH or set RENODE=/path/to/renode"
)


def find_renode(env: dict[str, str] | None = None) -> str:
    """The renode launcher to run, or BackendUnavailable saying what is missing and how to install it."""
    env = dict(os.environ) if env is None else env
    explicit = env.get("RENODE")
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise BackendUnavailable(f"RENODE={explicit} is not an executable file; {INSTALL_HINT}")
    found = shutil.which("renode", path=env.get("PATH"))
    if found is None:
        raise BackendUnavailable(f"`renode` was not found (no RENODE variable, nothing on PATH); {INSTALL_HINT}")
    return found


def renode_command(renode: str, port: int) -> list[str]:
    # No --hide-log (renode-test passes it): Renode's log goes to our log file, whose tail every failure shows.
    return [renode, "--robot-server-port", str(port), "--disable-xwt"]


def _die_with_parent() -> None:
    """In the child before exec: Linux ends Renode if the Python process that started it dies (no stray Renode)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not Linux: stop() and atexit still end it


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RenodeProcess:
    """A renode we started; stop() ends exactly this process."""

    def __init__(self, renode: str, log_path: Path, start_timeout_s: float = 60.0) -> None:
        self.port = free_port()
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(renode_command(renode, self.port), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        atexit.register(self.stop)
        self.client = RenodeRobotClient(self.port, describe_failure=self.describe)
        self._wait_ready(start_timeout_s)

    def log_tail(self, chars: int = 2000) -> str:
        if not self._log.closed:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError as exc:
            return f"(could not read {self.log_path}: {exc})"

    def describe(self) -> str:
        """What became of this Renode, for error messages: running or exit code, and its log tail."""
        try:
            code = self.proc.wait(timeout=3.0)  # a dropped connection usually means it just died: let it be reaped
        except subprocess.TimeoutExpired:
            code = None
        state = f"still running (pid {self.proc.pid})" if code is None else f"exited with code {code}"
        return f"Renode {state}; last lines of its log {self.log_path}:\n{self.log_tail()}"

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                tail = self.log_tail()
                self._log.close()
                raise BackendUnavailable(f"renode exited with code {self.proc.returncode} before its Robot server "
                                         f"answered (is Mono installed? `apt-get install mono-complete`); log "
                                         f"{self.log_path}:\n{tail}")
            try:
                self.client.keyword_names()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise BackendUnavailable(f"renode's Robot server did not answer on port {self.port} within "
                                             f"{timeout_s:.0f} s; log {self.log_path}:\n{self.log_tail()}") from None
                time.sleep(0.5)

    def stop(self, timeout_s: float = 10.0) -> None:
        atexit.unregister(self.stop)
        if self.proc.poll() is None:
            try:
                self.client.stop_server()
            except Exception:  # noqa: BLE001 - the server may already be gone; the process is ended below
                pass
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        if not self._log.closed:
            self._log.close()
