"""Per-layer profile: one call per compiled op, and the sum equals the firmware's own cycle count."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyml_disco.training.artifacts import ModelPaths


def test_profile_matches_dwt_cycles(trained_mlp: ModelPaths, mlp_elf: Path) -> None:
    from tinyml_disco.app.profile import profile_elf, profile_model
    from tinyml_disco.sim.session import embedded_session

    x = np.random.default_rng(2).integers(-128, 128, size=6).astype(np.int8)
    p = profile_elf(mlp_elf, trained_mlp.root, x, 4, "mlp")
    assert [layer.op for layer in p.layers] == ["FULLY_CONNECTED", "FULLY_CONNECTED", "SOFTMAX"]
    assert all(layer.instructions > 0 for layer in p.layers)
    assert p.layers[0].kernel == "tdnn_fc_packed_op0"  # the packed FC instantiated for op 0 in model.c
    session = embedded_session(mlp_elf)
    session.start()
    dwt = session.infer(x).cycles
    # DWT brackets model_invoke with a few instructions of its own.
    assert 0 <= dwt - p.total_instructions <= 16, (dwt, p.total_instructions)
    profile_model(trained_mlp)
    assert (trained_mlp.root / "profile.json").stat().st_size > 0
    assert (trained_mlp.root / "profile.png").read_bytes()[:4] == b"\x89PNG"
