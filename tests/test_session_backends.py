"""Backend selection: unknown names, unavailable backends skip whole suites with the reason (Robot's Skip)."""

from __future__ import annotations

from pathlib import Path

import pytest
from robot import run
from robot.api import ExecutionResult

from tinyml_disco.sim.backend import LEDS, SENSOR, BackendUnavailable
from tinyml_disco.sim.session import BACKENDS, check_backend, open_backend

SUITE = Path(__file__).resolve().parent.parent / "robot_tests" / "gestures.robot"


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown backend 'qemu'; choose embedded, renode, serial"):
        check_backend("qemu")
    with pytest.raises(ValueError, match="unknown backend"):
        open_backend("qemu", Path("fw.elf"))
    assert BACKENDS == ("embedded", "renode", "serial")


def test_embedded_is_always_available(mlp_elf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded backend needs nothing outside this process: no renode, no port; it boots the ELF and can feed
    the sensor and read the LEDs (in the same environment the renode and serial backends are unavailable)."""
    monkeypatch.setenv("PATH", str(mlp_elf.parent))
    monkeypatch.delenv("RENODE", raising=False)
    assert check_backend("embedded") is None
    with pytest.raises(BackendUnavailable):
        check_backend("renode")
    with pytest.raises(BackendUnavailable):
        check_backend("serial", None)
    monkeypatch.undo()
    backend = open_backend("embedded", mlp_elf)
    assert backend.capabilities >= {SENSOR, LEDS}
    backend.begin()
    assert any(line.startswith("BOOT ") for line in backend.run_until_idle())


def test_missing_elf_is_unavailable_for_renode(tmp_path: Path) -> None:
    from tinyml_disco.sim.renode.backend import RenodeConnection

    connection = RenodeConnection.__new__(RenodeConnection)  # no process: board() checks the ELF first
    with pytest.raises(BackendUnavailable, match="does not exist; build the firmware"):
        connection.board(tmp_path / "missing.elf")


def _run_suite(tmp_path: Path, *variables: str) -> ExecutionResult:
    with open(tmp_path / "console.txt", "w") as console:
        rc = run(str(SUITE), outputdir=str(tmp_path), output="out.xml", log=None, report=None, stdout=console,
                 variable=list(variables))
    assert rc == 0  # skips are not failures
    return ExecutionResult(str(tmp_path / "out.xml"))


def _statuses(result: ExecutionResult) -> list[tuple[str, str]]:
    tests = []
    stack = [result.suite]
    while stack:
        suite = stack.pop()
        stack.extend(suite.suites)
        tests += [(t.status, t.message) for t in suite.tests]
    return tests


def test_renode_suite_skips_with_reason_when_renode_is_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.delenv("RENODE", raising=False)
    statuses = _statuses(_run_suite(tmp_path, "BACKEND:renode"))
    assert statuses and all(status == "SKIP" for status, _ in statuses)
    assert all("backend renode unavailable: `renode` was not found" in msg for _, msg in statuses)


def test_serial_suite_skips_with_reason_without_a_port(tmp_path: Path) -> None:
    statuses = _statuses(_run_suite(tmp_path, "BACKEND:serial", "SERIAL_PORT:/dev/ttyNOPE9"))
    assert statuses and all(status == "SKIP" for status, _ in statuses)
    assert all("/dev/ttyNOPE9 does not exist" in msg for _, msg in statuses)
