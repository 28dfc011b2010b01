"""The native (C) block hook against the Python reference counter: same counts, stops and faults.

Runs small Thumb programs on a bare Unicorn with each counter, the real firmware on the board with each,
and checks the builder (cache key, clear errors, fallback without a compiler).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unicorn import (
    UC_ARCH_ARM,
    UC_HOOK_MEM_WRITE,
    UC_MODE_MCLASS,
    UC_MODE_THUMB,
    UC_PROT_EXEC,
    UC_PROT_READ,
    Uc,
    UcError,
)
from unicorn.arm_const import UC_ARM_REG_PC, UC_CPU_ARM_CORTEX_M4

from tinyml_disco.app import pipeline
from tinyml_disco.sim.counter import InstructionCounter, NativeCounter, PythonCounter
from tinyml_disco.sim.native import blockhook, build
from tinyml_disco.sim.session import embedded_session
from tinyml_disco.sim.thumb import count_instructions
from tinyml_disco.training.artifacts import ModelPaths

CODE = 0x0800_0000
MMIO = 0x4000_0000
BACKENDS = ("native", "python")

# A loop with 16- and 32-bit instructions, an FPU instruction, then an undefined one (ends the run).
LOOP_FPU_S = """
    movs r0, #0
1:  adds r0, #1
    add.w r1, r0, r0
    cmp r0, #20
    bne 1b
    nop
    vadd.f32 s0, s0, s0
    nop
    udf #0
"""
# Five stores to MMIO inside one loop body (a block that is stopped in the middle), then udf.
MMIO_S = """
    ldr r2, =0x40000000
    movs r0, #0
1:  str r0, [r2]
    adds r0, #1
    nop
    str r0, [r2, #4]
    cmp r0, #5
    bne 1b
    udf #0
    .ltorg
"""


@pytest.fixture(scope="module")
def assemble(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    gas, objcopy = shutil.which("arm-none-eabi-as"), shutil.which("arm-none-eabi-objcopy")
    if gas is None or objcopy is None:
        pytest.skip("arm-none-eabi binutils missing: run scripts/bootstrap.sh")
    out = tmp_path_factory.mktemp("asm")

    def run(source: str) -> bytes:
        src, obj, binary = out / "x.S", out / "x.o", out / "x.bin"
        src.write_text(".syntax unified\n.thumb\n" + source)
        subprocess.run([gas, "-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-o", obj, src], check=True)
        subprocess.run([objcopy, "-O", "binary", obj, binary], check=True)
        return binary.read_bytes()

    return run


def _uc(code: bytes) -> Uc:
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(UC_CPU_ARM_CORTEX_M4)
    uc.mem_map(CODE, 0x1_0000, UC_PROT_READ | UC_PROT_EXEC)
    uc.mem_write(CODE, code)
    return uc


def _run(uc: Uc, counter: InstructionCounter, limit: int) -> tuple[object, ...]:
    counter.arm(limit)
    error = None
    try:
        uc.emu_start(uc.reg_read(UC_ARM_REG_PC) | 1, 0xFFFF_FFFF)
    except UcError as exc:
        error = exc.errno
    counter.settle()
    return (counter.retired, counter.stop_reason, counter.fpu_violation_pc, uc.reg_read(UC_ARM_REG_PC), error,
            counter.hook_error)


# -- selection -------------------------------------------------------------------------------------------
def test_selection_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    uc = _uc(b"\x00\xbf" * 4)
    monkeypatch.delenv("TINYML_COUNTER", raising=False)
    assert type(InstructionCounter(uc)) is NativeCounter  # a compiler exists here: native by default
    monkeypatch.setenv("TINYML_COUNTER", "python")
    assert type(InstructionCounter(uc)) is PythonCounter
    assert type(InstructionCounter(uc, backend="native")) is NativeCounter
    monkeypatch.setenv("TINYML_COUNTER", "fast")
    with pytest.raises(ValueError, match="TINYML_COUNTER='fast': choose native, python or auto"):
        InstructionCounter(uc)


def test_no_compiler_falls_back_to_python_with_a_warning(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TINYML_NATIVE_CACHE", str(tmp_path))  # nothing cached
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.delenv("TINYML_COUNTER", raising=False)
    with pytest.warns(RuntimeWarning, match="no C compiler for the native instruction counter"):
        counter = InstructionCounter(_uc(b"\x00\xbf"))
    assert type(counter) is PythonCounter
    monkeypatch.setenv("TINYML_COUNTER", "native")  # asked for explicitly: an error, not a fallback
    with pytest.raises(build.NoCompiler, match="no C compiler found .* install gcc"):
        InstructionCounter(_uc(b"\x00\xbf"))


def test_build_is_keyed_by_the_source_and_reports_compiler_errors(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    original = build.library_path(tmp_path)
    edited = tmp_path / "blockhook.c"
    edited.write_text(build.SOURCE.read_text() + "\nint tc_broken(void) { return undeclared; }\n")
    monkeypatch.setattr(build, "SOURCE", edited)
    assert build.library_path(tmp_path) != original
    with pytest.raises(build.NativeBuildError, match=r"(?s)compiling .*blockhook.c failed.*undeclared"):
        build.build(tmp_path, log=lambda _m: None)
    assert not list(tmp_path.glob("*.so")) and not list(tmp_path.glob("*.tmp"))


def test_prototypes_match_the_installed_unicorn_header() -> None:
    import unicorn

    include = Path(unicorn.__file__).parent / "include"
    compiler = build.find_compiler()
    if not (include / "unicorn" / "unicorn.h").is_file() or compiler is None:
        pytest.skip("this unicorn wheel ships no headers (or no C compiler): nothing to check against")
    cmd = [*compiler, "-fsyntax-only", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
           "-DTC_CHECK_AGAINST_UNICORN_H", f"-I{include}", str(build.SOURCE)]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# -- same results as the reference -----------------------------------------------------------------------
@pytest.mark.parametrize("fpu_enabled", [True, False])
def test_every_limit_stops_at_the_same_place(assemble, fpu_enabled: bool) -> None:  # noqa: ANN001
    code = assemble(LOOP_FPU_S)

    def trace(backend: str) -> list[tuple[object, ...]]:
        out = []
        for limit in range(0, 110, 3):
            uc = _uc(code)
            uc.reg_write(UC_ARM_REG_PC, CODE | 1)
            counter = InstructionCounter(uc, backend=backend)
            counter.fpu_enabled = fpu_enabled
            first = _run(uc, counter, limit)
            out += [first, _run(uc, counter, limit + 7)]  # resume from where it stopped
        return out

    native, python = trace("native"), trace("python")
    assert native == python
    final = python[-1]
    if fpu_enabled:
        assert final[1] is None and final[4] is not None  # ran into udf
    else:
        assert final[1] == "fpu" and final[2] == CODE + code.index(bytes.fromhex("30ee000a"))


def test_mmio_clock_and_stop_requests_match(assemble) -> None:  # noqa: ANN001
    code = assemble(MMIO_S)

    def trace(backend: str) -> tuple[list[int], list[tuple[object, ...]]]:
        uc = _uc(code)
        uc.reg_write(UC_ARM_REG_PC, CODE | 1)
        counter = InstructionCounter(uc, backend=backend)
        clocks: list[int] = []

        def on_write(u: Uc, offset: int, _size: int, _value: int, _user: object) -> None:
            clocks.append(counter.retired_before_current(u))
            if len(clocks) % 3 == 0:
                counter.request_stop("line")

        uc.mmio_map(MMIO, 0x1000, lambda *_a: 0, None, on_write, None)
        uc.hook_add(UC_HOOK_MEM_WRITE, lambda *_a: None, begin=MMIO, end=MMIO + 0xFFF)  # exact PC in callbacks
        runs = [_run(uc, counter, 1 << 40) for _ in range(5)]
        return clocks, runs

    native, python = trace("native"), trace("python")
    assert native == python
    clocks, runs = python
    assert len(clocks) == 10 and clocks == sorted(clocks) and len(set(clocks)) == 10
    assert [r[1] for r in runs[:3]] == ["line", "line", "line"] and runs[-1][4] is not None


@settings(max_examples=60, deadline=None)
@given(code=st.binary(min_size=0, max_size=1500), start=st.integers(0, 40))
def test_native_decoder_counts_like_sim_thumb(code: bytes, start: int) -> None:
    """Ranges longer than the C decoder's 512-byte read chunk, odd lengths, wide instructions cut off."""
    start = min(start, len(code)) & ~1
    uc = _uc(code)
    hook = blockhook.NativeBlockHook(uc, blockhook.load_library())
    hook.state.retired = 10_000
    hook.state.block_addr, hook.state.block_end = CODE, CODE + len(code)
    uc.reg_write(UC_ARM_REG_PC, CODE + start)
    expected = count_instructions(code[start:]) if start < len(code) else 0
    assert hook.retired_before_current() == 10_000 - expected


def test_register_batch_matches_the_binding() -> None:
    from unicorn.arm_const import UC_ARM_REG_CONTROL, UC_ARM_REG_LR, UC_ARM_REG_MSP, UC_ARM_REG_R0, UC_ARM_REG_R12

    from tinyml_disco.sim.regbatch import RegisterBatch

    uc = _uc(b"\x00\xbf")
    regs = RegisterBatch(uc)
    ids = (UC_ARM_REG_R0, UC_ARM_REG_R12, UC_ARM_REG_LR, UC_ARM_REG_MSP, UC_ARM_REG_CONTROL)
    regs.write([(UC_ARM_REG_R0, 0xDEAD_BEEF), (UC_ARM_REG_R12, 7), (UC_ARM_REG_LR, -1), (UC_ARM_REG_R0, 5)])
    assert regs.read(ids) == tuple(uc.reg_read_batch(ids))
    assert regs.read(ids)[:3] == (5, 7, 0xFFFF_FFFF)  # in order: the second R0 write wins
    uc.reg_write(UC_ARM_REG_MSP, 0x2000_1000)
    assert regs.read(ids)[3] == 0x2000_1000  # the prepared batch is read afresh


# -- the real firmware -----------------------------------------------------------------------------------
class LockstepCounter:
    """Both counters on one Unicorn, fed the same blocks by a single hook (Unicorn skips a block's other
    hooks once one calls uc_emu_stop, so two registered hooks would not see the same blocks). Every read
    compares the two; writes go to both."""

    def __init__(self, uc: Uc) -> None:
        self.__dict__["checks"] = 0
        self.__dict__["py"] = PythonCounter(uc)
        self.__dict__["nat"] = NativeCounter(uc)
        self.nat._hook.detach()
        python_hook, native = self.py._on_block, self.nat._hook

        def both(u: Uc, address: int, size: int, user: object) -> None:
            native.enter_block(address, size)
            python_hook(u, address, size, user)

        self.py._on_block = both

    def _same(self, what: str, a: object, b: object) -> object:
        self.__dict__["checks"] += 1
        assert a == b, f"counters diverge on {what}: native {a!r}, python {b!r}"
        return a

    def __getattr__(self, name: str) -> object:
        return self._same(name, getattr(self.nat, name), getattr(self.py, name))

    def __setattr__(self, name: str, value: object) -> None:
        setattr(self.nat, name, value)
        setattr(self.py, name, value)

    def arm(self, limit: int) -> None:
        self.nat.arm(limit)
        self.py.arm(limit)

    def request_stop(self, reason: str) -> None:
        self.nat.request_stop(reason)
        self.py.request_stop(reason)

    def settle(self) -> None:
        self.nat.settle()
        self.py.settle()
        for name in ("retired", "stop_reason", "fpu_violation_pc"):
            self._same(name, getattr(self.nat, name), getattr(self.py, name))

    def retired_before_current(self, uc: Uc) -> int:
        return int(self._same("clock", self.nat.retired_before_current(uc), self.py.retired_before_current(uc)))


def test_real_firmware_counters_agree_on_every_block(
    trained_mlp: ModelPaths, mlp_elf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tinyml_disco.sim.core

    monkeypatch.setattr(tinyml_disco.sim.core, "InstructionCounter", LockstepCounter)  # the core builds the counter
    s = embedded_session(mlp_elf)
    s.start()
    # 3 windows per class: the FIFO firmware wakes 8 times per window, so one per class checks too few blocks.
    s.classify(pipeline.device_windows(trained_mlp, 3, seed=12).g)
    for x in np.random.default_rng(4).integers(-128, 128, size=(5, 6)).astype(np.int8):
        s.infer(x)
    counter = s.backend.board._counter
    assert isinstance(counter, LockstepCounter) and counter.checks > 1000


def test_real_firmware_same_uart_and_counts_with_both(
    trained_mlp: ModelPaths, mlp_elf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    windows = pipeline.device_windows(trained_mlp, 2, seed=11)
    inputs = np.random.default_rng(3).integers(-128, 128, size=(10, 6)).astype(np.int8)

    def run(backend: str) -> tuple[list[str], list[int]]:
        monkeypatch.setenv("TINYML_COUNTER", backend)
        s = embedded_session(mlp_elf)
        assert s.backend.board._counter.backend == backend
        counts = [s.backend.instructions]
        s.start()
        counts.append(s.backend.instructions)
        s.classify(windows.g)
        counts.append(s.backend.instructions)
        for x in inputs:
            s.infer(x)
            counts.append(s.backend.instructions)
        return s.lines, counts

    native = run("native")
    assert native == run("python")
    assert native == run("native")  # and run after run
    assert sum(ln.startswith("PRED ") for ln in native[0]) == len(windows.g)
