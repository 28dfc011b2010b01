"""TFLite Micro's own interpreter (the `tflite-micro` wheel): the bit-exactness oracle."""

from __future__ import annotations

import numpy as np


class TflmOracle:
    def __init__(self, model_bytes: bytes) -> None:
        try:
            from tflite_micro.python.tflite_micro import runtime
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError("tflite-micro is not installed; run scripts/bootstrap.sh "
                               "(pip install --pre tflite-micro)") from exc
        self._interp = runtime.Interpreter.from_bytes(model_bytes)
        self.input_shape = tuple(self._interp.get_input_details(0)["shape"])

    def invoke(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, dtype=np.int8)
        rows = []
        for row in x.reshape(x.shape[0], -1):
            self._interp.set_input(row.reshape(self.input_shape), 0)
            self._interp.invoke()
            rows.append(np.array(self._interp.get_output(0)).reshape(-1))
        return np.stack(rows).astype(np.int8)
