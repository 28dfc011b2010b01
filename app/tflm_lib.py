"""TFLite Micro + CMSIS-NN as a static library for the Cortex-M4F, compiled once and cached.

Sources, in this order of preference:
  1. `TINYML_TFLM_SRC=<dir>`: a folder laid out like `tflm_cmsis_nn_src/` (`tflite-micro/` and `third_party/`
     with flatbuffers, gemmlowp, ruy, cmsis, cmsis_nn), e.g. an upstream tflite-micro checkout whose
     `tensorflow/lite/micro/tools/make/downloads/` was filled by TFLM's own download scripts (point
     `tflite-micro` and `third_party` at them with symlinks);
  2. `TINYML_TFLM_TARBALL=<file>` or `../shared/tflm/tflm-cmsis-nn-src.tar.xz` (the offline tarball of
     tflite-micro 90b983c2 + CMSIS-NN 4ab83cc3 and the third-party trees TFLM pins), unpacked once into the cache.

The cache (`TINYML_TFLM_CACHE`, default `~/.cache/tinyml-disco/tflm`) is outside the repository's tracked
files. The library lives in `lib-<key>/` where the key hashes the source identity (BUILD-INFO.txt or the
folder path), the compiler version and every flag, so changing any of them builds a new library next to
the old one and a rebuild that changes nothing compiles nothing (`stamp.json` marks a finished library).

Flags: TFLM's own `cortex_m_generic` / `cortex-m4+fp` / `OPTIMIZED_KERNEL_DIR=cmsis_nn` release build
(BUILD-INFO.txt), with TFLM's optimisation split, which is also our firmware's policy: core (interpreter,
allocator, flatbuffer parsing; init-time code) at -Os, TFLM kernels and CMSIS-NN at -O2 (the inference path).
The signal-processing ops (signal/, kissfft) are left out: no gesture model uses them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tinyml_disco.app import progress
from tinyml_disco.app.locks import exclusive
from tinyml_disco.app.resources import SHARED, require_cross_toolchain
from tinyml_disco.compiler.fileio import atomic_write

TARBALL = SHARED / "tflm" / "tflm-cmsis-nn-src.tar.xz"
CROSS = "arm-none-eabi-"
ARCH = ("-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-mthumb", "-mlittle-endian")
COMMON = (*ARCH, "-ffunction-sections", "-fdata-sections", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables",
          "-fmessage-length=0", "-fomit-frame-pointer", "-funsigned-char", "-Wno-type-limits",
          "-Wno-unused-private-field", "-DTF_LITE_STATIC_MEMORY", "-DTF_LITE_DISABLE_X86_NEON",
          "-DTF_LITE_MCU_DEBUG_LOG", "-DCMSIS_NN", "-DKERNELS_OPTIMIZED_FOR_SPEED", "-DARM_NN_ENABLE_F16=0",
          "-DARM_NN_ENABLE_F32=0", "-DCPU_M4=1", "-DARMCM4", '-DCMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE="ARMCM4.h"',
          "-DNDEBUG", "-DTF_LITE_STRIP_ERROR_STRINGS")
CXX_ONLY = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics", "-fno-use-cxa-atexit")
C_ONLY = ("-std=c17",)
OPT_CORE = "-Os"
# TINYML_TFLM_KERNEL_OPT=-Os builds everything at -Os (how the reference points were measured); the
# library key includes it, so both libraries can sit in the cache side by side.
OPT_KERNELS = os.environ.get("TINYML_TFLM_KERNEL_OPT", "-O2")
if OPT_KERNELS not in ("-O2", "-Os", "-O3", "-O1"):
    raise ValueError(f"TINYML_TFLM_KERNEL_OPT={OPT_KERNELS!r}: use -O2 (default), -Os, -O3 or -O1")
INCLUDE_DIRS = ("tflite-micro", "third_party", "third_party/gemmlowp", "third_party/flatbuffers/include",
                "third_party/ruy", "third_party/cmsis", "third_party/cmsis_nn",
                "third_party/cmsis/CMSIS/Core/Include", "third_party/cmsis_nn/Include",
                "third_party/cmsis/Cortex_DFP/Device/ARMCM4/Include")


def cache_root() -> Path:
    env = os.environ.get("TINYML_TFLM_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "tinyml-disco" / "tflm"


def source_dir() -> Path:
    """The TFLM + third-party tree: TINYML_TFLM_SRC, or the tarball unpacked once into the cache."""
    env = os.environ.get("TINYML_TFLM_SRC")
    if env:
        src = Path(env)
        if not (src / "tflite-micro" / "tensorflow" / "lite" / "micro").is_dir() or not (src / "third_party").is_dir():
            raise RuntimeError(f"TINYML_TFLM_SRC={src} has no tflite-micro/tensorflow/lite/micro or third_party/ "
                               "(see app/tflm_lib.py for the layout)")
        return src
    tarball = Path(os.environ.get("TINYML_TFLM_TARBALL", TARBALL))
    if not tarball.exists():
        raise RuntimeError(f"no TFLite Micro sources: {tarball} is missing; set TINYML_TFLM_SRC to a tree laid out "
                           "like tflm_cmsis_nn_src/ (tflite-micro/ + third_party/) or TINYML_TFLM_TARBALL")
    digest = hashlib.sha256(f"{tarball.resolve()}:{tarball.stat().st_size}".encode()).hexdigest()[:12]
    dest = cache_root() / f"src-{digest}"
    done = dest / ".unpacked"
    with exclusive(dest.with_name(dest.name + ".lock")):  # parallel suites/tests unpack it once
        if not done.exists():
            _unpack(tarball, dest, done)
    return dest / "tflm_cmsis_nn_src"


def _unpack(tarball: Path, dest: Path, done: Path) -> None:
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(tarball) as tf:
        tf.extractall(tmp, filter="data")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    atomic_write(done, str(tarball))


def _specialise(generic: list[Path], special_dir: Path) -> list[Path]:
    """TFLM's specialize_files rule: a file of the same name in the specialised folder wins."""
    special = {p.name: p for p in special_dir.glob("*.cc")} if special_dir.is_dir() else {}
    return [special.get(p.name, p) for p in generic]


def library_sources(src: Path) -> tuple[list[Path], list[Path]]:
    """(core sources at -Os, kernel sources at -O2), as TFLM's Makefile lists them, minus signal/."""
    tf = src / "tflite-micro" / "tensorflow"
    micro = tf / "lite" / "micro"
    core = sorted(micro.glob("*.cc")) + sorted(micro.glob("arena_allocator/*.cc")) \
        + sorted(micro.glob("memory_planner/*.cc")) + sorted(micro.glob("tflite_bridge/*.cc"))
    core = _specialise(core, micro / "cortex_m_generic")
    skip = (tf / "lite" / "micro", tf / "lite" / "experimental")
    tfl = sorted(p for p in tf.rglob("*") if p.suffix in (".cc", ".c") and not any(s in p.parents for s in skip)
                 and p.name != "array.cc")
    kernels = _specialise(sorted(micro.glob("kernels/*.cc")), micro / "kernels" / "cmsis_nn")
    nn = src / "third_party" / "cmsis_nn" / "Source"
    cmsis = sorted(p for p in nn.glob("*/*.c") if not p.name.endswith(("_f16.c", "_f32.c"))
                   and p.name != "arm_nntables_flt.c")
    return core + tfl, kernels + cmsis


@dataclass(frozen=True)
class TflmLibrary:
    src: Path
    lib: Path  # libtflm.a
    include_flags: tuple[str, ...]
    cxx_flags: tuple[str, ...]  # for our glue: the library's defines and ABI flags
    key: str
    compiled: int  # objects compiled by this call (0: cache hit)


def _compiler_id() -> str:
    out = subprocess.run([CROSS + "gcc", "--version"], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0]


def _source_id(src: Path) -> str:
    info = src / "BUILD-INFO.txt"
    return hashlib.sha256(info.read_bytes()).hexdigest() if info.exists() else str(src.resolve())


def build_library(jobs: int | None = None, log=print) -> TflmLibrary:
    """Compile libtflm.a into the cache unless a finished one with the same key is there."""
    require_cross_toolchain(CROSS + "g++")
    src = source_dir()
    includes = tuple(f"-I{src / d}" for d in INCLUDE_DIRS)
    core, kernels = library_sources(src)
    key_text = json.dumps([_source_id(src), _compiler_id(), COMMON, CXX_ONLY, C_ONLY, OPT_CORE, OPT_KERNELS,
                           INCLUDE_DIRS, [str(p.relative_to(src)) for p in core + kernels]])
    key = hashlib.sha256(key_text.encode()).hexdigest()[:16]
    out = cache_root() / f"lib-{key}"
    lib = out / "libtflm.a"
    stamp = out / "stamp.json"
    result = TflmLibrary(src, lib, includes, (*COMMON, *CXX_ONLY), key, 0)
    if stamp.exists() and lib.exists():
        return result
    objs_dir = out / "obj"
    objs_dir.mkdir(parents=True, exist_ok=True)

    def command(path: Path, opt: str) -> tuple[list[str], Path]:
        rel = path.relative_to(src)
        obj = objs_dir / (str(rel).replace("/", "__") + ".o")
        if path.suffix == ".c":
            return [CROSS + "gcc", *C_ONLY, *COMMON, opt, *includes, "-c", str(path), "-o", str(obj)], obj
        return [CROSS + "g++", *CXX_ONLY, *COMMON, opt, *includes, "-c", str(path), "-o", str(obj)], obj

    cmds = [command(p, OPT_CORE) for p in core] + [command(p, OPT_KERNELS) for p in kernels]
    todo = [(c, o) for c, o in cmds if not o.exists()]
    log(f"[tflm] compiling {len(todo)} of {len(cmds)} TFLite Micro + CMSIS-NN objects into {out}")

    def run(item: tuple[list[str], Path]) -> str:
        cmd, obj = item
        if obj.exists():  # another build process sharing the cache made it meanwhile
            return ""
        tmp = f"{obj}.{os.getpid()}.tmp"  # unique per process: concurrent builds never mix partial objects
        proc = subprocess.run([*cmd[:-1], tmp], capture_output=True, text=True)
        if proc.returncode != 0:
            return f"{' '.join(cmd)}\n{proc.stderr}"
        os.replace(tmp, obj)
        return ""

    with ThreadPoolExecutor(max_workers=jobs or min(4, os.cpu_count() or 1)) as pool:
        results = progress.track(pool.map(run, todo), len(todo), "[tflm] compiling the TFLite Micro library", "file")
        errors = [e for e in results if e]
    if errors:
        raise RuntimeError(f"TFLite Micro library build failed ({len(errors)} objects):\n{errors[0]}")
    tmp_lib = lib.with_suffix(f".a.{os.getpid()}.tmp")
    tmp_lib.unlink(missing_ok=True)
    subprocess.run([CROSS + "ar", "rcs", str(tmp_lib), *(str(o) for _, o in cmds)], check=True)
    os.replace(tmp_lib, lib)
    atomic_write(stamp, json.dumps({"key": key, "src": str(src), "compiler": _compiler_id(), "core_opt": OPT_CORE,
                                 "kernel_opt": OPT_KERNELS, "objects": len(cmds)}, indent=1))
    return TflmLibrary(src, lib, includes, (*COMMON, *CXX_ONLY), key, len(todo))
