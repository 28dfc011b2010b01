"""scripts/install_renode.sh refuses bad packages with one clear line, before touching apt or .renode/."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "install_renode.sh"


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "TINYML_RENODE_DIR": str(tmp_path / "renode")}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60,
                          check=False)


def test_no_package_names_the_fix(tmp_path: Path) -> None:
    r = _run(tmp_path)
    assert r.returncode == 2 and "no package given" in r.stderr and "releases" in r.stderr


def test_missing_and_corrupt_packages_are_refused(tmp_path: Path) -> None:
    r = _run(tmp_path, str(tmp_path / "nope.tar.xz"))
    assert r.returncode == 2 and "does not exist" in r.stderr
    bad = tmp_path / "renode.tar.xz"
    bad.write_bytes(b"\xfd7zXZ\x00 this is not really a tarball")
    r = _run(tmp_path, str(bad))
    assert r.returncode == 2 and "not a readable tar archive" in r.stderr
    assert not (tmp_path / "renode").exists()  # nothing unpacked
