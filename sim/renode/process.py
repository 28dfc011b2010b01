"""Finding and starting `renode` headless with its Robot server, as renode-test does.

renode/renode tests/robot_tests_provider.py starts `Renode.exe --robot-server-port <port> --hide-log
--disable-xwt` (options declared in Options.cs: --robot-server-port, --hide-log, --disable-xwt, --console,
-e/--execute, --plain, --pid-file), then connects Robot's Remote library to http://127.0.0.1:<port>/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from sim.backend import BackendUnavailable
from sim.renode.robot_client import RenodeRobotClient

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
    return [renode, "--robot-server-port", str(port), "--hide-log", "--disable-xwt"]


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
                                     stdin=subprocess.DEVNULL)
        self.client = RenodeRobotClient(self.port)
        self._wait_ready(start_timeout_s)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                self._log.close()
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise BackendUnavailable(f"renode exited with code {self.proc.returncode} before its Robot server "
                                         f"answered; log {self.log_path}:\n{tail}")
            try:
                self.client.keyword_names()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise BackendUnavailable(f"renode's Robot server did not answer on port {self.port} within "
                                             f"{timeout_s:.0f} s; log {self.log_path}") from None
                time.sleep(0.5)

    def stop(self, timeout_s: float = 10.0) -> None:
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
        self._log.close()
