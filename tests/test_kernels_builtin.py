"""The built-in MLP against TFLite Micro on 10,000+ inputs (the CNN's twin is in test_cnn.py): real held-out windows
and blends of them (random int8 rows would mostly give saturated one-hot outputs, see tests/informative.py)."""

from __future__ import annotations

import numpy as np

from tests import informative
from tinyml_disco.training.artifacts import ModelPaths


def test_mlp_host_bit_exact_on_10000_inputs(trained_mlp: ModelPaths) -> None:
    from tinyml_disco.app import pipeline
    from tinyml_disco.app.tflm_oracle import TflmOracle
    from tinyml_disco.training.artifacts import load_meta_json

    w = pipeline.device_windows(trained_mlp, 25)
    real = pipeline.model_inputs(trained_mlp, w.raw).reshape(len(w.raw), -1)
    zp = int(load_meta_json(trained_mlp)["input"]["zero_point"])
    x = np.concatenate([real, informative.blended(real, zp, 10_000, seed=21)])
    ours = pipeline.host_model(trained_mlp).invoke(x)
    ref = TflmOracle(trained_mlp.tflite.read_bytes()).invoke(x)
    informative.assert_informative(ref, 2000, 4, "built-in mlp, host")
    assert (ours == ref).all(), f"{int((ours != ref).any(axis=1).sum())} of {len(x)} rows differ"
