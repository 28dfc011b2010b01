"""The Cortex-M4 cycle estimate: a hand-written Thumb-2 fixture (fixtures/board/estimate.S) whose cost is added
up here from the TRM table, the decoder's classes, the ART flash model alone, and the estimate of a built mlp."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.sim.art_flash import ArtFlash
from tinyml_disco.sim.m4_timing import Trace, estimate
from tinyml_disco.sim.thumb import instruction_offsets
from tinyml_disco.sim.thumb_decode import decode
from tinyml_disco.training.artifacts import ModelPaths

try:
    from tests.test_board_firmware_build import build_firmware
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from test_board_firmware_build import build_firmware  # type: ignore[no-redef]

NO_WAIT = 0  # flash wait states off: the core's own timing only


@pytest.fixture(scope="module")
def estimate_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_firmware(tmp_path_factory.mktemp("estimate_fw"), "estimate", ["estimate.S"])


def _mix_trace(elf: Path) -> Trace:
    from tinyml_disco.sim.bare_core import SCRATCH_BASE, BareCore

    core = BareCore(elf)
    core.write(SCRATCH_BASE, bytes(range(64)))
    return core.trace("mix", [SCRATCH_BASE])


def test_fixture_mix_costs_what_the_trm_table_says(estimate_elf: Path) -> None:
    e = estimate(_mix_trace(estimate_elf), ArtFlash(wait_states=NO_WAIT))
    p = 2  # pipeline refill of a taken branch
    expected = (
        (1 + 3)  # push {r4, r5, lr}
        + 2 + 9 * 1  # ten LDRs back to back: the first 2, the other nine pipelined
        + 1  # movs r4, #4
        + 4 * 1 + 4 * 1 + 3 * p  # loop: subs x4, bne x4 (taken 3 times, falls through once)
        + 1 + p + 1  # b.n to a 32-bit instruction on a halfword address
        + 1 + 1 + 1  # add.w, movs, movs
        + 12  # sdiv: the worst case of 2..12
        + 1  # smlad
        + 1 + 0  # cmp; ite folded after a 16-bit instruction
        + 1 + 1  # movgt executed, movle condition failed
        + 1 + (2 + 1)  # adds r0; ldr r1, [r0]: its address waits for the ALU result
        + 1  # str r1, [r0, #4]
        + 2  # str r1, [r0, r4]
        + (1 + 3) + p  # pop {r4, r5, pc}: return
    )
    assert e.cycles == expected == 66
    assert e.instructions == 35
    assert e.classes["load"] == {"count": 11, "cycles": 2 + 9 + 3}
    assert e.classes["div"] == {"count": 1, "cycles": 12}
    assert e.classes["condition_failed"] == {"count": 1, "cycles": 1}
    assert e.adjustments["pipelined_loads"] == 9
    assert e.adjustments["address_dependency_stalls"] == 1
    assert e.adjustments["branches_taken"] == 5 and e.adjustments["branches_not_taken"] == 1
    assert e.adjustments["unaligned_target_cycles"] == 1
    assert e.adjustments["folded_it"] == 1


def test_fixture_retired_count_equals_the_block_counter(estimate_elf: Path) -> None:
    """The trace fills in the instruction an IT skips (Unicorn runs no code hook for it): same count as the
    exact block counter the profile and the board use."""
    from tinyml_disco.sim.bare_core import SCRATCH_BASE, BareCore

    core = BareCore(estimate_elf)
    core.write(SCRATCH_BASE, bytes(64))
    total = [0]
    core.call("mix", [SCRATCH_BASE], lambda _a, n: total.__setitem__(0, total[0] + n))
    trace = _mix_trace(estimate_elf)
    assert len(trace.steps) == total[0] - 1  # movle never reaches the hook
    assert estimate(trace).instructions == total[0]


def test_fixture_with_flash_wait_states_costs_more(estimate_elf: Path) -> None:
    trace = _mix_trace(estimate_elf)
    art = ArtFlash()
    cold = estimate(trace, art)
    warm = estimate(trace, art)
    assert cold.cycles == 66 + cold.flash["fetch_stall_cycles"] + cold.flash["data_stall_cycles"]
    assert cold.flash["icache_misses"] >= 1 and cold.flash["data_stall_cycles"] == 0  # data in SRAM
    assert warm.flash["icache_misses"] == 0 and warm.cycles == 66  # 5 lines: all cached the second time


def test_decoder_classes(estimate_elf: Path) -> None:
    from tinyml_disco.sim.bare_core import BareCore

    core = BareCore(estimate_elf)
    sym = core.function("classes")
    code = core.read(sym.address & ~1, sym.size)
    got = [decode(code[off : off + 4]).cls for off in instruction_offsets(code)]
    assert got == [
        "alu", "alu", "alu", "alu", "alu",
        "mul", "mul", "mul", "mul", "mul", "mul",
        "div", "div",
        "load", "load", "load", "load",
        "store", "store",
        "load_dual", "store_dual",
        "load_multiple", "load_multiple", "store_multiple", "store_multiple",
        "branch", "branch", "branch", "branch", "branch", "alu", "table_branch",
        "it", "alu",
        "fp", "fp_mac", "fp_div", "fp_div", "fp_load", "fp_store", "fp_multiple", "fp_move2", "fp",
        "system", "system",
    ]  # fmt: skip
    pop = decode(code[instruction_offsets(code)[22] :][:4])
    assert pop.registers == 6 and pop.writes_pc


def test_art_flash_model() -> None:
    art = ArtFlash()  # 5 wait states
    base = 0x0800_1000
    assert art.fetch(base, 2, 0) == 5  # cold line: a full flash read
    assert art.fetch(base + 2, 4, 1) == 0  # same line
    # the next line was being prefetched since cycle 5, ready at 5 + 6 = 11
    assert art.fetch(base + 16, 2, 8) == 3
    assert art.fetch(base + 32, 2, 30) == 0  # prefetched long ago
    assert art.fetch(base, 2, 40) == 0  # back to a cached line (a loop)
    assert art.fetch(0x2000_0000, 4, 50) == 0  # SRAM: no wait states
    assert art.load(0x0800_8000) == 5 and art.load(0x0800_8004) == 0  # D-cache line of 16 bytes
    for i in range(8):  # 8 more lines evict the first (LRU, 8 lines)
        art.load(0x0800_9000 + 16 * i)
    assert art.load(0x0800_8000) == 5
    assert art.load(0x2000_0000) == 0
    far = ArtFlash()
    for i in range(65):  # 65 lines through a 64-line I-cache, far apart (no prefetch help)
        far.fetch(0x0800_0000 + 64 * i, 2, 100 * i)
    assert far.fetch(0x0800_0000, 2, 10_000) == 5 and far.fetch(0x0800_0000 + 64 * 64, 2, 10_100) == 0


def test_mlp_estimate_is_above_retired_instructions(trained_mlp: ModelPaths, mlp_elf: Path) -> None:
    from tinyml_disco.app.estimate import bench_keys, estimate_model, format_estimate
    from tinyml_disco.app.profile import profile_elf
    from tinyml_disco.training.artifacts import load_card

    e = estimate_model(trained_mlp, mlp_elf)
    x = np.random.default_rng(0).integers(-128, 128, size=load_card(trained_mlp).n_inputs).astype(np.int8)
    p = profile_elf(mlp_elf, trained_mlp.root, x, 4, "mlp")
    assert e["retired_instructions"] == p.total_instructions
    assert p.total_instructions <= e["cycles_estimate_m4"] <= 3 * p.total_instructions
    assert e["cycles_estimate_m4_warm"] <= e["cycles_estimate_m4"]
    assert sum(r["count"] for r in e["instruction_classes"].values()) == p.total_instructions
    parts = sum(r["cycles"] for r in e["instruction_classes"].values()) + e["pipeline"]["refill_cycles"]
    assert parts + e["flash"]["fetch_stall_cycles"] + e["flash"]["data_stall_cycles"] == e["cycles_estimate_m4"]
    keys = bench_keys(trained_mlp, mlp_elf)
    assert keys["cycles_estimate_m4"] == e["cycles_estimate_m4"] and keys["estimate_model"]
    assert "mul" in keys["instruction_classes"]
    assert "estimated Cortex-M4 cycles" in format_estimate("mlp", e)


def test_a_stale_elf_is_rebuilt_before_the_estimate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`estimate` without --elf estimates the firmware of this model.tflite: an ELF its build stamp does not tie
    to it is rebuilt first, a stamped one is used as it is (the build and the trace are recorders here)."""
    from tests.test_saved_test import fake_model_dir
    from tinyml_disco.app import estimate, firmware_stamp, pipeline
    from tinyml_disco.training.artifacts import load_card

    paths = fake_model_dir(tmp_path)
    paths.firmware_dir.mkdir()
    paths.elf.write_bytes(b"firmware.elf of an earlier training")  # no build stamp
    built: list[ModelPaths] = []
    traced: list[tuple[Path, np.ndarray]] = []

    def build(p: ModelPaths, log: object = print) -> Path:
        built.append(p)
        return p.elf

    def trace(elf: Path, x: np.ndarray) -> dict:
        traced.append((elf, x))
        return {"cycles_estimate_m4": 1}

    monkeypatch.setattr(pipeline, "build_firmware", build)
    monkeypatch.setattr(estimate, "estimate_elf", trace)
    logs: list[str] = []
    assert estimate.estimate_model(paths, log=logs.append) == {"cycles_estimate_m4": 1}
    assert built == [paths] and any("no build stamp" in m and "rebuilding" in m for m in logs)
    assert traced[0][0] == paths.elf and traced[0][1].shape == (load_card(paths).n_inputs,)
    for name in ("model.c", "model.h"):
        (paths.root / name).write_text("/* generated */\n")
    firmware_stamp.record(paths.firmware_dir, firmware_stamp.inputs(paths.root, load_card(paths).tflite_sha256),
                          paths.elf)
    built.clear()
    estimate.estimate_model(paths, log=logs.append)
    assert built == [] and len(traced) == 2 and traced[1][0] == paths.elf
    # model.c rewritten after the build (compile_c without a build) and firmware sources edited: both rebuild
    (paths.root / "model.c").write_text("/* generated again */\n")
    estimate.estimate_model(paths, log=logs.append)
    assert built == [paths] and "model.c changed after" in logs[-1]
    (paths.root / "model.c").write_text("/* generated */\n")
    monkeypatch.setattr(firmware_stamp, "firmware_sources_sha256", lambda: "edited")
    estimate.estimate_model(paths, log=logs.append)
    assert built == [paths, paths] and "firmware sources" in logs[-1]


_OBJDUMP_LINE = re.compile(r"\s*[0-9a-f]+:\s+([0-9a-f]{4})(?: ([0-9a-f]{4}))?\s+([a-z][a-z0-9.]*)")
_CONDS = "eq|ne|cs|cc|hs|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le"
_BY_MNEMONIC = (  # objdump mnemonic (no condition, no .w/.n) -> timing class; first match wins
    (r"(b|bl|bx|blx|cbn?z)", "branch"), (r"tb[bh]", "table_branch"), (r"it[te]*", "it"),
    (r"ldrd", "load_dual"), (r"strd", "store_dual"), (r"(ldm(ia|db)?|pop)", "load_multiple"),
    (r"(stm(ia|db)?|push)", "store_multiple"), (r"ldr.*", "load"), (r"str.*", "store"), (r"[su]div", "div"),
    (r"(mul|mla|mls|sml.*|smul.*|umul.*|umla.*|smmul.*|smmla.*|smuad.*|smusd.*|usad.*)s?", "mul"),
    (r"(nop|dsb|dmb|isb|wfi|wfe|cpsi[ed]|mrs|msr|bkpt|svc|udf)", "system"),
    (r"vldr", "fp_load"), (r"vstr", "fp_store"), (r"(vpush|vpop|vldm.*|vstm.*)", "fp_multiple"),
    (r"v(n?ml[as]|fn?m[as])", "fp_mac"), (r"v(div|sqrt)", "fp_div"), (r"vmov", None), (r"v.*", "fp"), (r".*", "alu"),
)  # fmt: skip


def _objdump_class(mnemonic: str) -> str | None:
    m = mnemonic.split(".")[0]
    for pattern, cls in _BY_MNEMONIC:
        if re.fullmatch(pattern, m) or (cls == "branch" and re.fullmatch(f"b({_CONDS})", m)) or (
            re.fullmatch(f"({pattern})({_CONDS})", m) and cls != "alu"
        ):
            return cls
    return "alu"


def test_decoder_agrees_with_objdump_on_the_mlp_firmware(mlp_elf: Path) -> None:
    """Every instruction of a real firmware: the decoder's class equals the one its objdump mnemonic names."""
    objdump = shutil.which("arm-none-eabi-objdump")
    if objdump is None:
        pytest.skip("arm-none-eabi-objdump is not installed (apt install binutils-arm-none-eabi)")
    text = subprocess.run([objdump, "-d", str(mlp_elf)], capture_output=True, text=True, check=True).stdout
    checked, wrong = 0, []
    for line in text.splitlines():
        m = _OBJDUMP_LINE.match(line)
        if not m:
            continue
        code = bytes.fromhex(m[1])[::-1] + (bytes.fromhex(m[2])[::-1] if m[2] else b"\0\0")
        want = _objdump_class(m[3])
        if want is None:
            continue
        checked += 1
        if decode(code).cls != want:
            wrong.append(line.strip())
    assert checked > 500
    assert not wrong, wrong[:10]
