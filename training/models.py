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


MODELS: dict[str, ModelSpec] = {
    "mlp": ModelSpec("mlp", "mean_std", "the post's 6-feature MLP: mean/std per axis -> Dense(16) -> Dense(4)",
                     build_mlp),
}


def get(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; built-in models: {', '.join(MODELS)}") from None
