#!/usr/bin/env python3
"""Move the import names of the four Python packages under one namespace: `app` -> `tinyml_disco.app`,
`sim` -> `tinyml_disco.sim`, `training` -> `tinyml_disco.training`, `compiler` -> `tinyml_disco.compiler`.

The repository folders stay where they are (pyproject.toml maps `tinyml_disco.<pkg>` to `<pkg>/`); only the
names that code, suites, scripts and docs use to reach the modules change. Mechanical and idempotent: run it
on a tree, run it again, the second run changes nothing. Usage (from anywhere):

    python scripts/namespace_codemod.py [--root DIR] [--check] [--no-ruff] [-v]

What it rewrites, in the git-tracked files of the tree:
- dotted module paths `<pkg>.<child>...` whose first child is a module or subpackage that exists in `<pkg>/`
  (so `sim.board`, `app.robot_library.TinymlBoard`, `python -m sim.renode.platform`, `"sim.periph.lis3dsh:X"`,
  `f"compiler.ops.{name}"`), in .py, .robot, .resource, .sh, .resc, .md, .toml, .cfg, .ini, .importlinter and
  .ci/ scripts; never when the name follows a word character, `.`, `/` or `-` (`self.sim.board`,
  `sim/board.py`, `tinyml_disco.sim.board`), and never `compiler.py` or prose like "the compiler." (no such child);
- in .py files: `from <pkg> import x` -> `from tinyml_disco.<pkg> import x`, a bare `import <pkg>` ->
  `from tinyml_disco import <pkg>` (the local name stays), `import <pkg> as y` -> `import tinyml_disco.<pkg> as y`;
- in .importlinter: the root packages become `tinyml_disco`, and bare package names in value lines
  (layers, source/forbidden modules, ancestors) become `tinyml_disco.<pkg>`;
- then `ruff check --select I001 --fix` on the .py files it changed (the first-party imports now sort under
  `tinyml_disco`), unless --no-ruff.
--check rewrites nothing and exits 1 when something would change (a CI guard after the rename).
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import tokenize
from collections.abc import Iterable
from pathlib import Path

NAMESPACE = "tinyml_disco"
PACKAGES = ("app", "sim", "training", "compiler")
SUFFIXES = {".py", ".robot", ".resource", ".sh", ".resc", ".md", ".toml", ".cfg", ".ini", ".importlinter"}
EXTRA_FILES = {".ci/run"}
SKIP_FILES = {"scripts/namespace_codemod.py", "tests/test_namespace_codemod.py"}
LINE_LENGTH = 120  # pyproject.toml [tool.ruff] line-length


def children(root: Path, pkg: str) -> set[str]:
    """Module and subpackage names directly inside <root>/<pkg>/."""
    base = root / pkg
    names = {p.stem for p in base.glob("*.py") if p.stem != "__init__" and p.stem != "__main__"}
    names |= {p.name for p in base.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    return names


class Codemod:
    def __init__(self, kids: dict[str, set[str]]) -> None:
        self.kids = kids
        pkgs = "|".join(PACKAGES)
        # <pkg>.<child>: not after a word char, '.', '/', '-' (paths, attributes, already-renamed names)
        self.dotted = re.compile(rf"(?<![\w./\-])({pkgs})\.([A-Za-z_]\w*)(?![\w])")
        self.from_import = re.compile(rf"^(\s*)from ({pkgs}) import\b", re.M)
        self.bare_import = re.compile(rf"^(\s*)import ({pkgs})[ \t]*(#.*)?$", re.M)
        self.import_as = re.compile(rf"^(\s*)import ({pkgs}) as\b", re.M)
        self.ini_bare = re.compile(rf"(?<![\w./\-])({pkgs})(?![\w.])")
        self.ini_roots = re.compile(rf"^root_packages\s*=\s*\n((?:[ \t]+(?:{pkgs}|{NAMESPACE})[ \t]*\n)+)", re.M)

    def _dotted(self, m: re.Match[str]) -> str:
        pkg, child = m.group(1), m.group(2)
        return f"{NAMESPACE}.{pkg}.{child}" if child in self.kids[pkg] else m.group(0)

    def rewrite(self, text: str, suffix: str) -> str:
        out = self._rewrite_py_dotted(text) if suffix == ".py" else self.dotted.sub(self._dotted, text)
        if suffix == ".py":
            out = self.from_import.sub(rf"\1from {NAMESPACE}.\2 import", out)
            out = self.import_as.sub(rf"\1import {NAMESPACE}.\2 as", out)
            out = self.bare_import.sub(lambda m: f"{m.group(1)}from {NAMESPACE} import {m.group(2)}"
                                       + (f"  {m.group(3)}" if m.group(3) else ""), out)
        if suffix == ".importlinter":
            out = self.ini_roots.sub(f"root_packages =\n    {NAMESPACE}\n", out)
            lines = []
            for line in out.splitlines(keepends=True):
                if line[:1] in (" ", "\t") and not line.lstrip().startswith(("#", ";")):
                    line = self.ini_bare.sub(rf"{NAMESPACE}.\1", line)
                lines.append(line)
            out = "".join(lines)
        return out


    def _rewrite_py_dotted(self, text: str) -> str:
        """Dotted names line by line; a line that the longer name would push past the line length keeps the
        short name when every match on it is prose (a comment or a docstring), never when one is code."""
        prose_rows, comment_col = _prose_map(text)
        lines = text.splitlines(keepends=True)
        for i, line in enumerate(lines):
            new = self.dotted.sub(self._dotted, line)
            if new == line or len(new.rstrip("\r\n")) <= LINE_LENGTH:
                lines[i] = new
                continue
            row = i + 1
            in_prose = all(row in prose_rows or m.start() >= comment_col.get(row, len(line) + 1)
                           for m in self.dotted.finditer(line) if m.group(2) in self.kids[m.group(1)])
            lines[i] = line if in_prose else new
        return "".join(lines)


def _prose_map(text: str) -> tuple[set[int], dict[int, int]]:
    """Rows inside docstrings (a string that is a statement of its own) and the column where a comment starts."""
    rows: set[int] = set()
    comments: dict[int, int] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return rows, comments
    skip = {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}
    prev = tokenize.NEWLINE
    for k, tok in enumerate(tokens):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.start[1]
        elif tok.type == tokenize.STRING and prev in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            nxt = next((t for t in tokens[k + 1:] if t.type not in skip), None)
            if nxt is None or nxt.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                rows.update(range(tok.start[0], tok.end[0] + 1))
        if tok.type not in skip:
            prev = tok.type
    return rows, comments


def tracked_files(root: Path) -> list[Path]:
    proc = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"error: {root} is not a git checkout ({proc.stderr.strip()}); pass --root <checkout>")
    files = []
    for rel in proc.stdout.split("\0"):
        if not rel or rel in SKIP_FILES:
            continue
        path = root / rel
        if (suffix_of(path) in SUFFIXES or rel in EXTRA_FILES) and path.is_file():
            files.append(path)
    return files


def suffix_of(path: Path) -> str:
    return path.suffix if path.suffix else path.name


def run(root: Path, check: bool, ruff: bool, verbose: bool) -> int:
    missing = [p for p in PACKAGES if not (root / p / "__init__.py").exists()]
    if missing:
        print(f"error: {root} has no package folder(s) {', '.join(missing)}; pass --root <checkout>", file=sys.stderr)
        return 2
    mod = Codemod({p: children(root, p) for p in PACKAGES})
    changed: list[Path] = []
    for path in tracked_files(root):
        text = path.read_text(encoding="utf-8")
        new = mod.rewrite(text, suffix_of(path))
        if new != text:
            changed.append(path)
            if verbose:
                _show(path, root, text, new)
            if not check:
                path.write_text(new, encoding="utf-8")
    if check:
        for path in changed:
            print(f"would rewrite {path.relative_to(root)}")
        return 1 if changed else 0
    py = [p for p in changed if p.suffix == ".py"]
    if py and ruff:
        _sort_imports(root, py)
    print(f"namespace codemod: {len(changed)} file(s) rewritten under {root}")
    return 0


def _sort_imports(root: Path, files: Iterable[Path]) -> None:
    exe = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(exe).exists() and not shutil.which(exe):
        print("warning: ruff not found; imports left unsorted (run `ruff check --select I001 --fix`)", file=sys.stderr)
        return
    subprocess.run([exe, "check", "-q", "--select", "I001", "--fix", *map(str, files)], cwd=root, check=False)


def _show(path: Path, root: Path, old: str, new: str) -> None:
    for a, b in zip(old.splitlines(), new.splitlines(), strict=False):
        if a != b:
            print(f"{path.relative_to(root)}: {a.strip()}  ->  {b.strip()}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent, help="checkout to rewrite")
    ap.add_argument("--check", action="store_true", help="rewrite nothing; exit 1 if something would change")
    ap.add_argument("--no-ruff", action="store_true", help="do not sort imports with ruff afterwards")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every rewritten line")
    args = ap.parse_args(argv)
    return run(args.root.resolve(), args.check, not args.no_ruff, args.verbose)


if __name__ == "__main__":
    raise SystemExit(main())
