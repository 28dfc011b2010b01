#!/usr/bin/env python3
"""Run import-linter (`.importlinter`) on the tinyml_disco.* packages of this checkout.

grimp, which builds import-linter's graph, finds a root package's modules by walking the folder that the package
is imported from. In the checkout `tinyml_disco/` holds only __init__.py: app/, compiler/, training/ and sim/ are
mapped under it by setup.py (setuptools' editable finder), which grimp cannot see. So this builds the installed
layout as symlinks in a temporary folder (tinyml_disco/__init__.py, tinyml_disco/app -> app/, ...; grimp follows
symlinks) and runs `lint-imports` (config: .importlinter) with that folder first on the path. Arguments go to
lint-imports.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "compiler", "training", "sim")


def main(argv: list[str]) -> int:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        print("error: lint-imports not found: install the test extra (pip install -e '.[test]')", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tinyml-lint-") as tmp:
        view = Path(tmp) / "tinyml_disco"
        view.mkdir()
        (view / "__init__.py").symlink_to(ROOT / "tinyml_disco" / "__init__.py")
        for pkg in PACKAGES:
            (view / pkg).symlink_to(ROOT / pkg, target_is_directory=True)
        env = dict(os.environ)
        # the checkout second: in the tree before the rename the old top-level names (app, sim...) resolve there
        env["PYTHONPATH"] = os.pathsep.join(p for p in (tmp, str(ROOT), env.get("PYTHONPATH", "")) if p)
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ through the symlinks
        # cwd is the view: lint-imports puts the working directory first on sys.path, and the checkout's own
        # tinyml_disco/ (only __init__.py) must not shadow the view's.
        args = [*argv, *([] if any(a.endswith((".importlinter", ".cfg", ".toml")) for a in argv)
                         else [str(ROOT / ".importlinter")])]
        return subprocess.run([exe, *args], cwd=tmp, env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
