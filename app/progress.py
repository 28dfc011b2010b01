"""Progress bars with an ETA for the slow steps (training epochs, int8 calibration, emulated-board passes).

tqdm on stderr, so stdout stays for results (`--json`). On a terminal the bar redraws in place; in a log file
(stderr not a TTY, e.g. CI) it is redrawn at most ~10 times per step, so a log keeps a few lines per bar, not
thousands. TINYML_PROGRESS=0 turns bars off (tests, scripts that want silence).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")
PROGRESS_ENV = "TINYML_PROGRESS"
LOG_UPDATES = 10  # redraws per bar when stderr is not a terminal


def enabled() -> bool:
    return os.environ.get(PROGRESS_ENV, "1") not in ("0", "")


def bar(total: int, desc: str, unit: str = "it", file: TextIO | None = None) -> tqdm:
    """A bar for `total` steps; use as a context manager and call .update(n) / .set_postfix_str(...)."""
    out = file or sys.stderr
    tty = bool(getattr(out, "isatty", lambda: False)())
    return tqdm(total=total, desc=desc, unit=unit, file=out, disable=not enabled() or total <= 0,
                dynamic_ncols=tty, leave=True, mininterval=0.2 if tty else 0.0,
                miniters=None if tty else max(1, total // LOG_UPDATES), ascii=not tty,
                bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} {unit} "
                           "[{elapsed}<{remaining}{postfix}]")


def track(items: Iterable[T], total: int, desc: str, unit: str = "it", file: TextIO | None = None) -> Iterator[T]:
    """Iterate `items`, advancing a bar by one per item."""
    with bar(total, desc, unit, file) as b:
        for item in items:
            yield item
            b.update(1)


def epoch(b: tqdm, logs: dict) -> None:
    """One training epoch done: advance and show the Keras metrics."""
    b.set_postfix_str(epoch_summary(logs), refresh=False)
    b.update(1)


def epoch_summary(logs: dict) -> str:
    keys = (("loss", "loss", ".4f"), ("accuracy", "acc", ".3f"), ("val_accuracy", "val_acc", ".3f"))
    return " ".join(f"{short}={logs[k]:{fmt}}" for k, short, fmt in keys if k in logs)


def write(line: str) -> None:
    """A result line on stdout while a bar may be showing on stderr (the bar is cleared and redrawn around it)."""
    tqdm.write(line, file=sys.stdout)
    sys.stdout.flush()
