"""Train / validation / test splits of recordings that keep every class in every split.

Whole files go to one split where the data allows it (windows of one session in two splits would leak). A class
found in fewer than 3 files cannot reach three splits as whole files: its windows are split by time instead,
inside each file: the first ~70 % to train, the next ~15 % to validation, the last ~15 % to test, with the
windows that overlap a neighbouring part dropped at each boundary. A class too short even for that is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SPLITS = ("train", "val", "test")


class SplitError(ValueError):
    """The recordings cannot give every class to every split; the message says what to record."""


@dataclass
class Part:
    """Windows of one file that go to one split: indices into that file's windows (time order)."""

    file: int
    split: str
    index: list[int]
    label: str | None = None  # set when a time segment of one class, None for a whole file's other windows


@dataclass
class SplitPlan:
    parts: list[Part]
    time_split: dict[str, list[int]] = field(default_factory=dict)  # class -> files split by time


def _time_parts(file: int, index: list[int], gap: int, label: str) -> list[Part] | None:
    """One class's windows of one file (time order) -> train / val / test segments, `gap` windows dropped at
    each boundary; None if too few windows."""
    n = len(index)
    usable = n - 2 * gap
    if usable < 3:
        return None
    n_test = max(1, round(0.15 * usable))
    n_val = max(1, round(0.15 * usable))
    n_train = usable - n_test - n_val
    a = n_train
    b = a + gap + n_val
    return [Part(file, "train", index[:a], label), Part(file, "val", index[a + gap:b], label),
            Part(file, "test", index[b + gap:], label)]


def plan_split(labels: list[list[str]], names: list[str], seed: int, gap: int,
               fractions: tuple[float, float] = (0.15, 0.15)) -> SplitPlan:
    """labels[f]: the window labels of file f in time order. Whole files to splits (seeded), every class in
    every split; classes in fewer than 3 files split by time inside their files."""
    files_of = {c: [f for f, labs in enumerate(labels) if c in labs] for c in names}
    poor = {c for c, fs in files_of.items() if len(fs) < len(SPLITS)}
    rich = [c for c in names if c not in poor]
    order = [int(i) for i in np.random.default_rng(seed).permutation(len(labels))]
    total = sum(len(labs) for labs in labels)
    assign: dict[int, str] = {}

    def rich_of(f: int) -> set[str]:
        return set(labels[f]) & set(rich)

    def left_for_train(c: str, taking: int) -> int:
        return sum(1 for f in files_of[c] if f != taking and f not in assign)

    for split, share in (("test", fractions[1]), ("val", fractions[0])):
        covered: set[str] = set()
        size = 0
        for f in order:
            if f in assign or not rich_of(f):
                continue
            new = rich_of(f) - covered
            want = bool(new) or size < share * total
            # never take a class's last file still free for train (and, for test, one more for validation)
            need = 2 if split == "test" else 1
            if want and all(left_for_train(c, f) >= need for c in rich_of(f)):
                assign[f] = split
                covered |= rich_of(f)
                size += sum(1 for lab in labels[f] if lab in rich)
    for f in range(len(labels)):
        assign.setdefault(f, "train")
    for c in rich:  # the greedy pass could not spread this class's files over all splits: split it by time
        if {assign[f] for f in files_of[c]} != set(SPLITS):
            poor.add(c)
    parts: list[Part] = []
    time_split: dict[str, list[int]] = {}
    for f, labs in enumerate(labels):
        whole = [i for i, lab in enumerate(labs) if lab not in poor]
        if whole:
            parts.append(Part(f, assign[f], whole))
        for c in sorted(poor & set(labs)):
            cut = _time_parts(f, [i for i, lab in enumerate(labs) if lab == c], gap, c)
            if cut is not None:
                parts += cut
                time_split.setdefault(c, []).append(f)
    plan = SplitPlan(parts, time_split)
    _check_every_class(plan, labels, names, files_of)
    return plan


def _check_every_class(plan: SplitPlan, labels: list[list[str]], names: list[str],
                       files_of: dict[str, list[int]]) -> None:
    for c in names:
        for split in SPLITS:
            if not any(p.split == split and any(labels[p.file][i] == c for i in p.index) for p in plan.parts):
                windows = sum(labs.count(c) for labs in labels)
                raise SplitError(
                    f"class {c!r} has {windows} window(s) in {len(files_of[c])} file(s): too few to put it in "
                    f"train, validation and test (the {split} split would have none). Record more of {c!r}: "
                    "3 or more files, or a longer recording (at least 5 windows in one file)")


def check_given(labels_by_split: dict[str, list[str]], names: list[str]) -> None:
    """A layout the user gave (train/ test/ [val/]): every class in train and test, and in val if it has files."""
    for split, labs in labels_by_split.items():
        if split == "val" and not labs:
            continue
        missing = [c for c in names if c not in labs]
        if missing:
            raise SplitError(f"the given {split}/ folder has no window of {', '.join(missing)}: add a recording "
                             f"of {', '.join(missing)} to {split}/, or remove the train/ and test/ folders to let "
                             "train split the files itself")
