"""Built-in models: which feature pipeline feeds them, how to build them, how to train them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    name: str
    pipeline: str  # training/features.py pipeline id
    description: str
    build: Callable[..., object]  # (input_shape, num_classes) -> keras.Model
    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 0.005
    # Calibration windows for int8 conversion. Min/max calibration on too few windows clips activation ranges:
    # the CNN lost ~2 points of accuracy with 300 and none with 1500 (measured on the synthetic test set).
    representative: int = 300
    per_class: int = 600  # synthetic training windows per gesture
    label_smoothing: float = 0.0  # smaller logits: fewer int8 near-ties flip (CNN: int8 97.0% vs 94.7% without)


def build_mlp(input_shape: tuple[int, ...], num_classes: int, hidden: int = 16):
    """The source post's network: Dense(16, relu) -> Dense(classes, softmax)."""
    import tensorflow as tf

    return tf.keras.Sequential(
        [
            tf.keras.Input(shape=input_shape, name="features"),
            tf.keras.layers.Dense(hidden, activation="relu"),
            tf.keras.layers.Dense(num_classes, activation="softmax"),
        ],
        name="mlp",
    )


def build_cnn(input_shape: tuple[int, ...], num_classes: int):
    """1-D CNN on the raw window: Conv1D(8,5) -> MaxPool(2) -> Conv1D(16,5) -> global average -> Dense.

    About 52,000 MACs on a 128x3 window. The converter emits CONV_2D on [1, 1, W, C] views, which the
    compiler folds; the max pool is fused into the first convolution.
    """
    import tensorflow as tf

    return tf.keras.Sequential(
        [
            tf.keras.Input(shape=input_shape, name="window"),
            tf.keras.layers.Conv1D(8, 5, activation="relu"),
            tf.keras.layers.MaxPool1D(2),
            tf.keras.layers.Conv1D(16, 5, activation="relu"),
            tf.keras.layers.GlobalAveragePooling1D(),
            tf.keras.layers.Dense(num_classes, activation="softmax"),
        ],
        name="cnn",
    )


def build_cnn_deep(input_shape: tuple[int, ...], num_classes: int):
    """A third convolution for accuracy: Conv1D(8,5) -> MaxPool(2) -> Conv1D(16,5) -> MaxPool(2) ->
    Conv1D(16,3) -> global average -> Dense. About 73,000 MACs."""
    import tensorflow as tf

    layers = tf.keras.layers
    return tf.keras.Sequential(
        [
            tf.keras.Input(shape=input_shape, name="window"),
            layers.Conv1D(8, 5, activation="relu"),
            layers.MaxPool1D(2),
            layers.Conv1D(16, 5, activation="relu"),
            layers.MaxPool1D(2),
            layers.Conv1D(16, 3, activation="relu"),
            layers.GlobalAveragePooling1D(),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name="cnn_deep",
    )


MODELS: dict[str, ModelSpec] = {
    "mlp": ModelSpec("mlp", "mean_std", "the post's 6-feature MLP: mean/std per axis -> Dense(16) -> Dense(4)",
                     build_mlp),
    "mlp_robust": ModelSpec("mlp_robust", "mag_res", "the post's network size on orientation-robust features: "
                            "statistics of |a| and of the gravity-removed signal -> Dense(16) -> Dense(4)",
                            build_mlp),
    "cnn": ModelSpec("cnn", "raw", "1-D CNN on the raw 128x3 window: Conv1D(8,5) -> MaxPool(2) -> Conv1D(16,5) "
                     "-> global average pooling -> Dense(4), about 52,000 MACs", build_cnn,
                     epochs=30, batch_size=32, learning_rate=0.003, representative=1500, per_class=1500,
                     label_smoothing=0.1),
    "cnn_deep": ModelSpec("cnn_deep", "raw", "1-D CNN with a third convolution: Conv1D(8,5) -> MaxPool(2) -> "
                          "Conv1D(16,5) -> MaxPool(2) -> Conv1D(16,3) -> global average pooling -> Dense(4), about "
                          "73,000 MACs", build_cnn_deep, epochs=30, batch_size=32, learning_rate=0.003,
                          representative=1500, per_class=1500, label_smoothing=0.1),
}


def get(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; built-in models: {', '.join(MODELS)}") from None
