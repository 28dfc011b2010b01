"""Every new kernel against TFLite Micro: single-op models with random shapes, weights and
quantization (hypothesis, derandomized: each example is a TF conversion, cached in build/.tflite_cache, and a host
build). Explicit examples cover what a few random draws may miss: kernels of 2 and 3, SAME padding on odd sizes,
stride 2, depth multiplier 2, average pooling that is not an identity. Every comparison also asserts floors on how
varied the reference outputs are (tests/informative.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests.opmodels import assert_bit_exact, converted

# (1x1 convolutions with one channel are converted to MUL/ADD with constants, so channel counts start at 2.)
SETTINGS = settings(max_examples=6, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ACTS = st.sampled_from(["linear", "relu", "relu6"])


def _run(spec: dict, build, shape: tuple[int, ...], expect: tuple[str, ...]) -> None:
    tfl = converted(spec, build, shape)
    with tempfile.TemporaryDirectory() as d:
        # Floors measured on the examples below: >= 69 distinct rows of 200, >= 52 values per output element.
        assert_bit_exact(tfl, Path(d), seed=spec["seed"], expect_ops=expect, min_distinct=60, min_column_values=30,
                         what=str(spec))


@SETTINGS
@given(h=st.integers(1, 6), w=st.integers(3, 9), c=st.integers(1, 5), oc=st.integers(2, 6), k=st.integers(1, 3),
       stride=st.integers(1, 2), padding=st.sampled_from(["same", "valid"]), act=ACTS, seed=st.integers(0, 10**6))
@example(h=5, w=7, c=3, oc=4, k=3, stride=1, padding="same", act="relu", seed=101)
@example(h=6, w=9, c=2, oc=3, k=2, stride=2, padding="valid", act="linear", seed=102)
@example(h=5, w=5, c=3, oc=5, k=3, stride=2, padding="same", act="relu6", seed=103)
def test_conv2d(h: int, w: int, c: int, oc: int, k: int, stride: int, padding: str, act: str, seed: int) -> None:
    import tensorflow as tf

    k_h = min(k, h)
    spec = dict(op="conv2d", h=h, w=w, c=c, oc=oc, k=k, k_h=k_h, stride=stride, padding=padding, act=act, seed=seed)
    _run(spec, lambda: tf.keras.Sequential([tf.keras.Input((h, w, c)), tf.keras.layers.Conv2D(
        oc, (k_h, k), strides=stride, padding=padding, activation=act)]), (h, w, c), ("CONV_2D",))


@SETTINGS
@given(w=st.integers(6, 20), c=st.integers(1, 8), oc=st.integers(2, 9), k=st.integers(2, 5),
       pool=st.booleans(), act=ACTS, seed=st.integers(0, 10**6))
@example(w=20, c=3, oc=8, k=5, pool=True, act="relu", seed=104)
@example(w=9, c=5, oc=3, k=2, pool=False, act="linear", seed=105)
def test_conv1d_and_fused_max_pool(w: int, c: int, oc: int, k: int, pool: bool, act: str, seed: int) -> None:
    """The converter's EXPAND_DIMS/RESHAPE -> CONV_2D -> RESHAPE pattern, optionally with MaxPool1D(2) fused in."""
    import tensorflow as tf

    spec = dict(op="conv1d", w=w, c=c, oc=oc, k=k, pool=pool, act=act, seed=seed)
    layers = [tf.keras.Input((w, c)), tf.keras.layers.Conv1D(oc, k, activation=act)]
    if pool:
        layers.append(tf.keras.layers.MaxPool1D(2))
    _run(spec, lambda: tf.keras.Sequential(layers), (w, c), ("CONV_2D",))


@SETTINGS
@given(h=st.integers(2, 6), w=st.integers(2, 7), c=st.integers(1, 4), mult=st.integers(1, 2), k=st.integers(1, 3),
       stride=st.integers(1, 2), padding=st.sampled_from(["same", "valid"]), act=ACTS, seed=st.integers(0, 10**6))
@example(h=5, w=6, c=3, mult=2, k=3, stride=1, padding="same", act="relu", seed=106)
@example(h=6, w=7, c=2, mult=1, k=3, stride=2, padding="valid", act="linear", seed=107)
@example(h=4, w=5, c=2, mult=2, k=2, stride=1, padding="same", act="relu6", seed=108)
def test_depthwise_conv(h: int, w: int, c: int, mult: int, k: int, stride: int, padding: str, act: str,
                        seed: int) -> None:
    import tensorflow as tf

    k = min(k, h, w)
    spec = dict(op="dw", h=h, w=w, c=c, mult=mult, k=k, stride=stride, padding=padding, act=act, seed=seed)
    _run(spec, lambda: tf.keras.Sequential([tf.keras.Input((h, w, c)), tf.keras.layers.DepthwiseConv2D(
        k, strides=stride, padding=padding, depth_multiplier=mult, activation=act)]), (h, w, c),
        ("DEPTHWISE_CONV_2D",))


@SETTINGS
@given(kind=st.sampled_from(["max", "avg"]), h=st.integers(2, 6), w=st.integers(2, 8), c=st.integers(2, 4),
       k=st.integers(1, 3), stride=st.integers(1, 3), padding=st.sampled_from(["same", "valid"]),
       seed=st.integers(0, 10**6))
@example(kind="avg", h=4, w=6, c=3, k=2, stride=2, padding="valid", seed=109)
@example(kind="avg", h=5, w=7, c=2, k=3, stride=1, padding="same", seed=110)
@example(kind="avg", h=5, w=5, c=4, k=2, stride=1, padding="same", seed=111)
@example(kind="max", h=5, w=7, c=2, k=2, stride=2, padding="same", seed=112)
@example(kind="max", h=6, w=6, c=3, k=3, stride=2, padding="valid", seed=113)
def test_pooling(kind: str, h: int, w: int, c: int, k: int, stride: int, padding: str, seed: int) -> None:
    import tensorflow as tf

    k = min(k, h, w)
    layer = tf.keras.layers.MaxPool2D if kind == "max" else tf.keras.layers.AveragePooling2D
    spec = dict(op="pool", kind=kind, h=h, w=w, c=c, k=k, stride=stride, padding=padding, seed=seed)
    # A conv in front gives the pool a quantized activation input with random scale and zero point.
    _run(spec, lambda: tf.keras.Sequential([tf.keras.Input((h, w, c)), tf.keras.layers.Conv2D(c, 1),
                                            layer(k, strides=stride, padding=padding)]), (h, w, c),
         ("MAX_POOL_2D",) if kind == "max" else ("AVERAGE_POOL_2D",))


@SETTINGS
@given(dims=st.sampled_from([1, 2]), n=st.integers(1, 40), c=st.integers(2, 16), seed=st.integers(0, 10**6))
def test_mean_global_average_pooling(dims: int, n: int, c: int, seed: int) -> None:
    import tensorflow as tf

    shape = (n, c) if dims == 1 else (max(n // 4, 1), 4, c)
    gap = tf.keras.layers.GlobalAveragePooling1D if dims == 1 else tf.keras.layers.GlobalAveragePooling2D
    conv = tf.keras.layers.Conv1D(c, 1) if dims == 1 else tf.keras.layers.Conv2D(c, 1)
    spec = dict(op="mean", shape=shape, seed=seed)
    # The conv's int8 outputs are summed inside the conv kernel: MEAN is fused away (compiler/passes.py fuse_conv_mean).
    _run(spec, lambda: tf.keras.Sequential([tf.keras.Input(shape), conv, gap()]), shape, ("CONV_2D",))


@SETTINGS
@given(dims=st.sampled_from([1, 2]), n=st.integers(1, 40), c=st.integers(2, 16), seed=st.integers(0, 10**6))
def test_mean_kernel_on_a_non_conv_input(dims: int, n: int, c: int, seed: int) -> None:
    """tdnn_mean_s8 itself: the MEAN reads an element-wise ADD's output, so nothing fuses it."""
    import tensorflow as tf

    shape = (n, c) if dims == 1 else (max(n // 4, 1), 4, c)
    gap = tf.keras.layers.GlobalAveragePooling1D if dims == 1 else tf.keras.layers.GlobalAveragePooling2D

    def build_one():
        i = tf.keras.Input(shape)
        return tf.keras.Model(i, gap()(tf.keras.layers.Add()([i, i])))

    spec = dict(op="mean_alone", shape=shape, seed=seed)
    _run(spec, build_one, shape, ("MEAN",))


@SETTINGS
@given(n=st.integers(1, 24), c=st.integers(2, 6), act=ACTS, seed=st.integers(0, 10**6))
def test_add(n: int, c: int, act: str, seed: int) -> None:
    import tensorflow as tf

    def build():
        inp = tf.keras.Input((n, c))
        a = tf.keras.layers.Conv1D(c, 1)(inp)
        b = tf.keras.layers.Conv1D(c, 1)(inp)
        out = tf.keras.layers.Add()([a, b])
        if act != "linear":
            out = tf.keras.layers.Activation(act)(out)
        return tf.keras.Model(inp, out)

    _run(dict(op="add", n=n, c=c, act=act, seed=seed), build, (n, c), ("ADD",))


@SETTINGS
@given(n_in=st.integers(1, 12), n_out=st.integers(1, 12), seed=st.integers(0, 10**6))
def test_logistic(n_in: int, n_out: int, seed: int) -> None:
    import tensorflow as tf

    spec = dict(op="logistic", n_in=n_in, n_out=n_out, seed=seed)
    _run(spec, lambda: tf.keras.Sequential([tf.keras.Input((n_in,)), tf.keras.layers.Dense(n_out),
                                            tf.keras.layers.Activation("sigmoid")]), (n_in,), ("LOGISTIC",))
