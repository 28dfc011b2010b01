"""scripts/namespace_codemod.py: rewrites module paths to tinyml_disco.*, leaves everything else, and is idempotent."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("namespace_codemod", REPO / "scripts" / "namespace_codemod.py")
assert _spec and _spec.loader
codemod = importlib.util.module_from_spec(_spec)
sys.modules["namespace_codemod"] = codemod
_spec.loader.exec_module(codemod)

KIDS = {"app": {"cli", "robot_library", "pipeline"}, "sim": {"board", "renode", "periph", "native"},
        "training": {"artifacts"}, "compiler": {"ops", "model"}}
MOD = codemod.Codemod(KIDS)

PY_BEFORE = '''"""Uses sim.board (see sim/board.py); the compiler. compiler.py is a file name."""
import compiler
import sim as s
from app import pipeline
from training.artifacts import ModelPaths
import sim.board

x = sim.board.Board  # a sim.periph model
y = self.sim.board
z = importlib.import_module(f"compiler.ops.{name}")
cmd = [sys.executable, "-m", "sim.renode.platform"]
w = sim.Board  # an attribute of the package, not a module
v = "tinyml_disco.sim.board"
'''

PY_AFTER = '''"""Uses tinyml_disco.sim.board (see sim/board.py); the compiler. compiler.py is a file name."""
from tinyml_disco import compiler
import tinyml_disco.sim as s
from tinyml_disco.app import pipeline
from tinyml_disco.training.artifacts import ModelPaths
import tinyml_disco.sim.board

x = tinyml_disco.sim.board.Board  # a tinyml_disco.sim.periph model
y = self.sim.board
z = importlib.import_module(f"tinyml_disco.compiler.ops.{name}")
cmd = [sys.executable, "-m", "tinyml_disco.sim.renode.platform"]
w = sim.Board  # an attribute of the package, not a module
v = "tinyml_disco.sim.board"
'''


def test_python_rewrites_and_leaves_the_rest() -> None:
    assert MOD.rewrite(PY_BEFORE, ".py") == PY_AFTER
    assert MOD.rewrite(PY_AFTER, ".py") == PY_AFTER  # idempotent


def test_robot_shell_and_docs() -> None:
    robot = ("Library           app.robot_library.TinymlBoard    backend=${BACKEND}\n"
             "${P}  ${CURDIR}/../sim/renode/x.repl\n")
    assert MOD.rewrite(robot, ".robot") == ("Library           tinyml_disco.app.robot_library.TinymlBoard    "
                                            "backend=${BACKEND}\n${P}  ${CURDIR}/../sim/renode/x.repl\n")
    sh = '"$VENV/bin/python" -m sim.native.build >/dev/null\n'
    assert MOD.rewrite(sh, ".sh") == '"$VENV/bin/python" -m tinyml_disco.sim.native.build >/dev/null\n'
    md = "Run `python -m sim.renode.platform`; the app. The training/ folder; training.artifacts; sim.py.\n"
    once = MOD.rewrite(md, ".md")
    assert once == ("Run `python -m tinyml_disco.sim.renode.platform`; the app. The training/ folder; "
                    "tinyml_disco.training.artifacts; sim.py.\n")
    assert MOD.rewrite(once, ".md") == once


def test_importlinter_and_pyproject() -> None:
    ini = ("[importlinter]\nroot_packages =\n    app\n    compiler\n    training\n    sim\n"
           "include_external_packages = True\n\n[importlinter:contract:layers]\nname = app above sim\n"
           "layers =\n    app\n    training | sim\n    compiler\nignore_imports =\n    # sim/x.py reason\n"
           "    training.artifacts -> sim.board\nforbidden_modules =\n    tensorflow\n")
    out = MOD.rewrite(ini, ".importlinter")
    assert out == ("[importlinter]\nroot_packages =\n    tinyml_disco\ninclude_external_packages = True\n\n"
                   "[importlinter:contract:layers]\nname = app above sim\nlayers =\n    tinyml_disco.app\n"
                   "    tinyml_disco.training | tinyml_disco.sim\n    tinyml_disco.compiler\nignore_imports =\n"
                   "    # sim/x.py reason\n    tinyml_disco.training.artifacts -> tinyml_disco.sim.board\n"
                   "forbidden_modules =\n    tensorflow\n")
    assert MOD.rewrite(out, ".importlinter") == out
    toml = 'tinyml-disco = "app.cli:main"\npackage-dir = {"tinyml_disco.app" = "app"}\n'
    assert MOD.rewrite(toml, ".toml") == ('tinyml-disco = "tinyml_disco.app.cli:main"\n'
                                          'package-dir = {"tinyml_disco.app" = "app"}\n')


def test_prose_that_would_overflow_keeps_the_short_name_but_code_never_does() -> None:
    pad = "x" * 100
    prose = f'def f():\n    """{pad} sim.board"""\n    return 1  # {pad} sim.board\n'
    assert MOD.rewrite(prose, ".py") == prose
    code = f'CALL = ("{pad}", "sim.board")\n'
    assert MOD.rewrite(code, ".py") == f'CALL = ("{pad}", "tinyml_disco.sim.board")\n'


def test_check_mode_on_this_tree_is_clean_or_reports(tmp_path: Path) -> None:
    """--check never writes: the tree is the same before and after."""
    before = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True).stdout
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "namespace_codemod.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    after = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True).stdout
    assert before == after

