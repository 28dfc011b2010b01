"""The Renode-style suites (robot_tests/renode/, for renode-test): consistent, self-contained, and skipped by
plain `robot` (this project's CI has no Renode). Their keywords are checked against Renode's keyword names."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from robot import run
from robot.api import ExecutionResult
from robot.api import TestSuite as RobotSuite

from tests.renode_fake import KEYWORDS
from tinyml_disco.sim import resd

HERE = Path(__file__).resolve().parent.parent / "robot_tests" / "renode"
SUITES = sorted(p for p in HERE.glob("*.robot") if p.name != "__init__.robot")
SETTINGS = """*** Settings ***
Suite Setup       Setup
Suite Teardown    Teardown
Test Setup        Reset Emulation
Test Teardown     Test Teardown
Resource          ${RENODEKEYWORDS}
"""
# renode-keywords.robot (Setup, Teardown, Test Teardown) and LED/UART keywords not used by the driver.
RENODE_EXTRA = {"Setup", "Teardown", "Test Teardown", "Create LED Tester", "Assert LED State"}
BUILTIN = {"Should Match Regexp", "Evaluate", "Should Be True"}


def _words(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name)


def test_every_suite_has_the_same_settings_block() -> None:
    assert len(SUITES) >= 2
    for suite in SUITES:
        assert SETTINGS in suite.read_text(), f"{suite.name}: settings block differs from the others"


def test_paths_are_relative_to_the_suite_and_exist() -> None:
    for suite in SUITES:
        for rel in re.findall(r"\$\{CURDIR\}/(\S+)", suite.read_text()):
            target = (HERE / rel).resolve()
            if "build/" in rel:
                continue  # the firmware is built by the user (scripts/demo.sh)
            assert target.exists(), f"{suite.name}: {rel} does not exist"


def test_keywords_are_renode_keywords_or_local() -> None:
    known = {_words(k) for k in KEYWORDS} | RENODE_EXTRA | BUILTIN
    for path in SUITES:
        suite = RobotSuite.from_file_system(str(path))
        local = {kw.name for kw in suite.resource.keywords}
        used = {step.name for test in suite.tests for step in test.body if getattr(step, "name", None)}
        used |= {step.name for kw in suite.resource.keywords for step in kw.body if getattr(step, "name", None)}
        unknown = {name for name in used if name.lower() not in {k.lower() for k in known | local}}
        assert not unknown, f"{path.name}: keywords not in Renode's set: {unknown}"


def test_data_file_is_three_still_windows() -> None:
    samples, rate = resd.read_acceleration(HERE / "data" / "still_3_windows.resd")
    assert rate == 100.0 and samples.shape == (3 * 128, 3)
    assert np.all(np.abs(samples[:, 2] - 1.0) < 0.01) and np.all(np.abs(samples[:, :2]) < 0.02)


def test_plain_robot_skips_them_with_the_reason(tmp_path: Path) -> None:
    with open(tmp_path / "console.txt", "w") as console:
        rc = run(str(HERE), outputdir=str(tmp_path), output="out.xml", log=None, report=None, stdout=console)
    assert rc == 0
    result = ExecutionResult(str(tmp_path / "out.xml"))
    stats = result.statistics.total
    assert stats.skipped >= 8 and stats.passed == 0 and stats.failed == 0
    assert "ERROR" not in (tmp_path / "console.txt").read_text()
