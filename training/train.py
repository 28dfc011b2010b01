"""Train a Keras model (training/models.py) and convert it to a full-integer int8 .tflite.

Adam, categorical cross-entropy, as in the source post. The post's conversion snippet
(`supported_types=[tf.int8]` with no representative dataset) fails on current TensorFlow and would
not give int8 input/output anyway; here the converter gets a representative dataset and int8 I/O types.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinyml_disco.training import tf_quiet

# TensorFlow imported by the caller before this module, without TF_ENABLE_ONEDNN_OPTS=0: oneDNN's float kernels are
# on for the whole process, and trained weights differ in the last bits from a `tinyml-disco train` run (measured:
# the cnn's .tflite sha256 changes). Fixed at import, like the setting itself; train_model says so.
ONEDNN_BEFORE_IMPORT = "tensorflow" in sys.modules and os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0"
tf_quiet.quiet_env()  # before TensorFlow is imported anywhere in this process: its C++ log level is read once


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 0.005
    seed: int = 1234
    label_smoothing: float = 0.0


def _tf():  # imported lazily: TensorFlow costs ~3 s, the compiler and emulator do not need it
    import tensorflow as tf

    tf_quiet.quiet_python(tf)
    return tf


def train_model(build: Callable[..., object], x: np.ndarray, y: np.ndarray, num_classes: int, cfg: TrainConfig,
                x_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
                log: Callable[[str], None] = print, on_epoch: Callable[[int, dict], None] | None = None):
    """Train deterministically (seeded, op determinism on). Returns the Keras model.

    on_epoch(epoch, logs) after every epoch (a progress bar); without it, a `log` line every 10 epochs."""
    tf = _tf()
    if ONEDNN_BEFORE_IMPORT:
        log("[train] warning: TensorFlow was imported before tinyml_disco.training.train with oneDNN on, so this "
            "training can differ in the last bits (and in .tflite bytes) from `tinyml-disco train`; set "
            "TF_ENABLE_ONEDNN_OPTS=0 before importing TensorFlow for the same bytes")
    # Fresh Keras name counters: layer and tensor names end up in the .tflite, so a second model trained in
    # the same process would otherwise differ in bytes ("dense_2" instead of "dense").
    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()
    model = build(tuple(x.shape[1:]), num_classes)
    model.compile(optimizer=tf.keras.optimizers.Adam(cfg.learning_rate),
                  loss=tf.keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
                  metrics=["accuracy"])
    y1 = tf.keras.utils.to_categorical(y, num_classes)
    val = None
    if x_val is not None and y_val is not None:
        val = (x_val, tf.keras.utils.to_categorical(y_val, num_classes))

    class Progress(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            if on_epoch is not None:
                on_epoch(epoch, logs)
            elif (epoch + 1) % 10 == 0 or epoch == 0 or epoch + 1 == cfg.epochs:
                msg = f"  epoch {epoch + 1:3d}/{cfg.epochs} loss={logs.get('loss', 0):.4f} " \
                      f"acc={logs.get('accuracy', 0):.3f}"
                if "val_accuracy" in logs:
                    msg += f" val_acc={logs['val_accuracy']:.3f}"
                log(msg)

    model.fit(x, y1, epochs=cfg.epochs, batch_size=cfg.batch_size, shuffle=True, verbose=0,
              validation_data=val, callbacks=[Progress()])
    return model


def convert_int8(model, representative: np.ndarray, on_row: Callable[[], None] | None = None) -> bytes:
    """Full-integer quantization: int8 weights, activations, input and output. on_row() after each
    representative row the calibrator consumes (a progress bar)."""
    tf = _tf()
    # Batch 1, as the firmware runs it: a fixed batch keeps shape arithmetic (SHAPE, PACK...) out of the graph.
    single = tf.keras.models.clone_model(model, input_tensors=tf.keras.Input(shape=model.input_shape[1:], batch_size=1))
    single.set_weights(model.get_weights())
    converter = tf.lite.TFLiteConverter.from_keras_model(single)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]

    def rep_data():
        for row in representative:
            yield [row[None].astype(np.float32)]
            if on_row is not None:
                on_row()

    converter.representative_dataset = rep_data
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return bytes(converter.convert())


def predict_float(model, x: np.ndarray) -> np.ndarray:
    """The float model on a whole array in one call. Not model.predict: its tf.function is traced again for every
    model trained in the process and for the last partial batch, and TensorFlow warns about that retracing."""
    return np.asarray(model(np.asarray(x, np.float32), training=False))
