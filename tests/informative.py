"""Inputs that exercise a model's output range, and a floor on how much the reference outputs can tell apart.

A bit-exactness test only catches a kernel error that changes some reference output. If the reference rows are
a handful of saturated one-hot vectors (random int8 inputs into a softmax model do that), an error that keeps the
winning class passes. So every bit-exactness test (1) feeds inputs that do not saturate: real windows, blends of
two real windows of different gestures scaled around the input zero point, or random inputs at several spreads
around the zero point; and (2) asserts floors on the number of distinct reference rows and of winning classes.
"""

from __future__ import annotations

import os

import numpy as np


def blended(x: np.ndarray, zero_point: int, n: int, seed: int) -> np.ndarray:
    """n int8 rows from real input tensors x: a random blend of two rows, scaled around the input zero point by
    0.3-1.5, plus a little noise, rounded and clipped (between gestures: near the decision boundaries)."""
    rng = np.random.default_rng(seed)
    xf = x.reshape(len(x), -1).astype(np.float64)
    i, j = rng.integers(0, len(x), n), rng.integers(0, len(x), n)
    a = rng.uniform(0.0, 1.0, (n, 1))
    scale = rng.uniform(0.3, 1.5, (n, 1))
    mix = a * xf[i] + (1 - a) * xf[j]
    out = zero_point + (mix - zero_point) * scale + rng.normal(0.0, 1.5, mix.shape)
    return np.clip(np.rint(out), -128, 127).astype(np.int8)


def spread(zero_point: int, n: int, n_in: int, seed: int) -> np.ndarray:
    """n random int8 rows around the input zero point, each with its own spread (1 to 128 LSB, log-uniform):
    narrow rows keep a softmax model off saturation, wide ones reach the clamps."""
    rng = np.random.default_rng(seed)
    sigma = np.exp(rng.uniform(0.0, np.log(128.0), (n, 1)))
    out = zero_point + rng.normal(0.0, 1.0, (n, n_in)) * sigma
    return np.clip(np.rint(out), -128, 127).astype(np.int8)


def informative_counts(ref: np.ndarray) -> tuple[int, int, int]:
    """(distinct output rows, distinct winning positions (argmax), median over output columns of the number of
    distinct values a column takes)."""
    rows = ref.reshape(len(ref), -1)
    per_column = [len(np.unique(col)) for col in rows.T]
    return len(np.unique(rows, axis=0)), len(np.unique(rows.argmax(axis=1))), int(np.median(per_column))


def assert_informative(ref: np.ndarray, min_distinct: int, min_winners: int, what: str = "",
                       min_column_values: int = 0) -> None:
    """Fail when the reference outputs of a bit-exactness test are too uniform for the comparison to mean much.

    min_winners is for class scores (a softmax head): an error that keeps the winning class must still show. For
    outputs that are not class scores (an op's activations, a linear head) min_column_values bounds the median
    number of distinct values an output element takes (a clamped or dead output takes one)."""
    distinct, winners, column_values = informative_counts(ref)
    if os.environ.get("TINYML_INFORMATIVE_LOG"):
        with open(os.environ["TINYML_INFORMATIVE_LOG"], "a") as log:
            log.write(f"{what}\t{len(ref)}\t{distinct}\t{winners}\t{column_values}\n")
    assert distinct >= min_distinct and winners >= min_winners and column_values >= min_column_values, (
        f"{what}: the reference outputs are not informative enough for a bit-exactness test: {distinct} distinct "
        f"rows (floor {min_distinct}), {winners} winning positions (floor {min_winners}), median {column_values} "
        f"distinct values per output element (floor {min_column_values}); feed inputs that do not saturate the model")
