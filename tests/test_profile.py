"""Per-layer profile: one call per compiled op, and the sum equals the firmware's own cycle count."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.artifacts import ModelPaths


def test_profile_matches_dwt_cycles(trained_mlp: ModelPaths, mlp_elf: Path) -> None:
    from app.profile import profile_elf, profile_model
    from sim.session import embedded_session

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


def test_m4_estimate_weighs_every_profiled_instruction(trained_mlp: ModelPaths, mlp_elf: Path) -> None:
    from app.m4_estimate import estimate_elf
    from app.profile import profile_elf

    x = np.random.default_rng(2).integers(-128, 128, size=6).astype(np.int8)
    e = estimate_elf(mlp_elf, x)
    assert e.instructions == profile_elf(mlp_elf, trained_mlp.root, x, 4, "mlp").total_instructions
    assert e.instructions < e.cycles < 3 * e.instructions
    assert sum(n for n, _ in e.by_class.values()) == e.instructions


def test_m4_estimate_classes() -> None:
    from app.m4_estimate import Instr, _cost, classify

    assert classify("smlad", "r0, r1, r2, r3") == "multiply"
    assert classify("ldrd", "r0, r1, [r2, #8]") == "ldrd_strd"
    assert classify("ldr.w", "pc, [r4, #32]") == "ldr_pc"
    assert classify("ldmia.w", "sp!, {r4, r5, r6, pc}") == "pop_pc"
    assert classify("bne.n", "8001a44 <x>") == "branch"
    assert classify("bic.w", "r3, r3, r3, asr #31") == "alu"
    assert classify("movlt", "r3, r1") == "alu"
    assert _cost(Instr("ldm", "r0, {r1, r2, r3, r4}", "ldm_stm"), "", False) == 5
    assert _cost(Instr("pop", "{r4, r5, r6, r7, pc}", "pop_pc"), "", True) == 1 + 5 + 2
    assert _cost(Instr("ldr", "r0, [r1]", "load_store"), "load_store", False) == 1
    assert _cost(Instr("b", "x", "branch"), "alu", False) == 1
