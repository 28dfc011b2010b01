"""Small C emitters: constant arrays, parameter structs with designated initializers, escaped strings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def c_array(ctype: str, name: str, values: np.ndarray, per_line: int = 16) -> str:
    vals = [str(int(v)) for v in np.asarray(values).ravel()]
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{len(vals)}] = {{\n    {body}\n}};\n"


def c_string(text: str) -> str:
    """A C string literal for any text: quotes, backslashes and control bytes escaped, non-ASCII as UTF-8 octal."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        else:  # octal escapes are at most 3 digits, so a following digit cannot join them (unlike \x)
            out.extend(f"\\{b:03o}" for b in ch.encode())
    return '"' + "".join(out) + '"'


def c_struct(ctype: str, name: str, fields: Sequence[tuple[str, object]]) -> str:
    """`static const <ctype> <name> = {.field = value, ...};` so a field cannot shift silently."""
    body = ", ".join(f".{k} = {v}" for k, v in fields)
    return f"static const {ctype} {name} = {{{body}}};\n"
