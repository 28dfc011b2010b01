"""Fuzz targets: each yields (description, thunk) pairs for harness.run_examples. A thunk returns normally when
the input was handled correctly (accepted with a sound result), raises the reader's own error for a clean
refusal, and raises SilentWrong/PartialArtifact when an accepted result or a refusal is not sound.

Seeds are the built-in models' .tflite/model.json (tests/fixtures/fuzz/<model>/, from `tinyml-disco train`) and
CSV/RESD files written by our own writers from random samples."""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import random
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

import numpy as np

from tests.fuzz import mutate
from tests.fuzz.harness import Classified, FuzzHang, PartialArtifact, SilentWrong, classify_exception

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fuzz"
SEED_MODELS = ("mlp", "cnn")
Example = tuple[str, Callable[[], None]]


def seed_model_bytes() -> dict[str, bytes]:
    return {m: (FIXTURES / m / "model.tflite").read_bytes() for m in SEED_MODELS}


def _check_graph(g: object) -> None:
    from tinyml_disco.compiler.graph import Graph

    assert isinstance(g, Graph)
    n = len(g.tensors)
    for i in list(g.inputs) + list(g.outputs):
        if not 0 <= i < n:
            raise SilentWrong(f"graph input/output index {i} outside the {n} tensors")
    for op in g.operators:
        for i in list(op.inputs) + list(op.outputs):
            if not -1 <= i < n:
                raise SilentWrong(f"operator {op.index} tensor index {i} outside the {n} tensors")


def _reader_thunk(data: bytes, meta: object) -> Callable[[], None]:
    def run() -> None:
        from tinyml_disco import compiler
        from tinyml_disco.compiler import tflite_reader

        g = tflite_reader.parse(data, "<fuzzed model.tflite>")
        compiled = compiler.compile_model(g, meta)  # type: ignore[arg-type]
        # Accepted by the reader and the compiler: the graph it compiled must be sound.
        _check_graph(g)
        if not compiled.model_c or not compiled.model_h:
            raise SilentWrong("compiled without model.c/model.h text")
    return run


def _metas() -> dict[str, object]:
    from tinyml_disco.app import pipeline
    from tinyml_disco.compiler import tflite_reader
    from tinyml_disco.training.artifacts import ModelPaths

    out: dict[str, object] = {}
    for m in SEED_MODELS:
        paths = ModelPaths(FIXTURES / m)
        out[m] = pipeline.compile_meta(pipeline.load_card(paths), tflite_reader.parse((FIXTURES / m / "model.tflite")
                                                                                       .read_bytes()))
    return out


def tflite_bytes_examples(rng: random.Random, n: int) -> Iterator[Example]:
    """Byte mutations of the built-in models' .tflite through the reader and the compiler (in memory)."""
    seeds, metas = seed_model_bytes(), _metas()
    donors = list(seeds.values())
    for i in range(n):
        name = rng.choice(SEED_MODELS)
        desc, data = mutate.bytes_mutation(rng, seeds[name], donors)
        yield f"#{i} {name} {desc}", _reader_thunk(data, metas[name])


def tflite_structure_examples(rng: random.Random, n: int) -> Iterator[Example]:
    """Structural mutations (indices, types, shapes, quantization, buffers, operators) re-serialized."""
    seeds, metas = seed_model_bytes(), _metas()
    parsed = {m: mutate.unpack_tflite(b) for m, b in seeds.items()}
    for i in range(n):
        name = rng.choice(SEED_MODELS)
        desc, data = mutate.tflite_structure_mutation(rng, parsed[name])
        yield f"#{i} {name} {desc}", _reader_thunk(data, metas[name])


def build_one(name: str, data: bytes) -> None:
    """The build step on one .tflite: app.pipeline.compile_c in a fresh build folder holding model.json and it."""
    from tinyml_disco.app import pipeline
    from tinyml_disco.training.artifacts import ModelPaths

    with tempfile.TemporaryDirectory(prefix="tinyml-fuzz-") as tmp:
        paths = ModelPaths(Path(tmp) / name)
        paths.root.mkdir()
        # the card records the .tflite it describes: here the mutant (build refuses a mixed pair before compiling)
        meta = json.loads((FIXTURES / name / "model.json").read_text())
        meta["tflite_sha256"] = hashlib.sha256(data).hexdigest()
        paths.meta_json.write_text(json.dumps(meta))
        paths.tflite.write_bytes(data)
        before = {p.name: p.read_bytes() for p in paths.root.iterdir()}
        try:
            pipeline.compile_c(paths, log=lambda _m: None)
        except Exception as exc:
            after = {p.name: p.read_bytes() for p in paths.root.iterdir() if p.is_file()}
            if after != before:
                left = ", ".join(sorted(set(after) - set(before)) or sorted(after))
                if classify_exception(exc) == "clean_error":
                    raise PartialArtifact(f"{exc} -- but left {left}") from exc
                raise Classified("traceback", f"{type(exc).__name__}: {exc} (and left {left})") from exc
            raise
        for p in (paths.model_c, paths.root / "model.h"):
            if not p.exists() or not p.read_text().strip():
                raise SilentWrong(f"build succeeded without {p.name}")


def _worker_loop(conn: Connection) -> None:
    """In the worker process: run build_one for each (name, data) received, answer (outcome, message)."""
    # TFLite Micro prints its own complaints about broken models ("Node SOFTMAX failed to prepare"): not ours.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    while True:
        try:
            name, data = conn.recv()
        except EOFError:
            return
        try:
            build_one(name, data)
            conn.send(("ok", ""))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            text = str(exc) if isinstance(exc, Classified) else f"{type(exc).__name__}: {exc}"
            conn.send((classify_exception(exc), (text.splitlines() or [""])[0][:300]))


class BuildWorker:
    """A spawned worker process for the build step: a crash in native code (the TFLM interpreter measures the
    arena) or a hang cannot take the fuzz run down; the worker is replaced after either. Spawned, not forked, so
    it is safe in a pytest process that has TensorFlow's threads."""

    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        if self._proc is None or not self._proc.is_alive() or self._conn is None:
            parent, child = self._ctx.Pipe()
            self._proc = self._ctx.Process(target=_worker_loop, args=(child,), daemon=True)
            self._proc.start()
            child.close()
            self._conn = parent
        return self._conn

    def stop(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(5)
        self._proc, self._conn = None, None

    def run(self, name: str, data: bytes, timeout_s: float) -> None:
        conn = self._start()
        try:
            conn.send((name, data))
            if not conn.poll(timeout_s):
                raise FuzzHang(f"no result within {timeout_s} s")
            outcome, message = conn.recv()
        except EOFError:
            code = self._proc.exitcode if self._proc is not None else None
            self.stop()
            raise Classified("traceback", f"the build process died (exit code {code})") from None
        except BaseException:
            self.stop()   # a hang (or an interrupt here): the worker may still answer this request, so replace it
            raise
        if outcome != "ok":
            raise Classified(outcome, message)


def build_examples(rng: random.Random, n: int, timeout_s: float = 20.0) -> Iterator[Example]:
    """The build command's compile step (app.pipeline.compile_c: reader, compiler, model.c/model.h, TFLM arena
    measurement) on mutated .tflite files in a build folder: nothing may be written when it fails."""
    seeds = seed_model_bytes()
    donors = list(seeds.values())
    parsed = {m: mutate.unpack_tflite(b) for m, b in seeds.items()}
    worker = BuildWorker()
    try:
        for i in range(n):
            name = rng.choice(SEED_MODELS)
            if rng.random() < 0.5:
                desc, data = mutate.bytes_mutation(rng, seeds[name], donors)
            else:
                desc, data = mutate.tflite_structure_mutation(rng, parsed[name])
            limit = timeout_s + (30.0 if i == 0 else 0.0)

            def run(data: bytes = data, name: str = name, limit: float = limit) -> None:
                worker.run(name, data, limit)
            yield f"#{i} {name} {desc}", run
    finally:
        worker.stop()


def _random_samples(rng: random.Random) -> tuple[np.ndarray, float]:
    n = rng.randint(1, 300)
    gen = np.random.default_rng(rng.randrange(1 << 32))
    samples = np.round(gen.normal(0.0, 1.0, (n, 3)) + np.array([0.0, 0.0, 1.0]), 6)
    return samples, float(rng.choice((25, 50, 100, 200, 400)))


def csv_examples(rng: random.Random, n: int) -> Iterator[Example]:
    """Mutations of CSV files written by tinyml_disco.sim.sensor_csv.write_csv, read back with read_csv."""
    from tinyml_disco.sim import sensor_csv

    work = Path(tempfile.mkdtemp(prefix="tinyml-fuzz-csv-"))
    try:
        for i in range(n):
            samples, rate = _random_samples(rng)
            clean = work / "clean.csv"
            sensor_csv.write_csv(clean, samples, rate)
            desc, data, benign = mutate.csv_text_mutation(rng, clean.read_text())
            path = work / f"f{i % 4}.csv"
            path.write_bytes(data)

            def run(path: Path = path, samples: np.ndarray = samples, benign: bool = benign) -> None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rec = sensor_csv.read_csv(path)
                t, s = rec.timestamps_s, rec.samples_g
                if s.ndim != 2 or s.shape[1] != 3 or len(t) != len(s) or len(s) == 0:
                    raise SilentWrong(f"shapes: timestamps {t.shape}, samples {s.shape}")
                if not (np.all(np.isfinite(t)) and np.all(np.isfinite(s))):
                    raise SilentWrong("accepted a non-finite timestamp or sample")
                if np.any(np.diff(t) <= 0):
                    raise SilentWrong("accepted timestamps that do not increase")
                if benign and not np.allclose(s, samples, rtol=0, atol=1e-6):
                    raise SilentWrong("a benign change (line ends, blank lines, BOM, spaces) changed the samples")
            yield f"#{i} {desc}", run
    finally:
        shutil.rmtree(work, ignore_errors=True)


def recording_examples(rng: random.Random, n: int) -> Iterator[Example]:
    """Mutations of labelled CSV recordings through tinyml_disco.training.recordings.load_recording (what `train --data`
    reads per file: segments, resampling to the model rate, windows per label run)."""
    from tinyml_disco.sim import sensor_csv
    from tinyml_disco.training import recordings
    from tinyml_disco.training.synth import SensorSpec

    work = Path(tempfile.mkdtemp(prefix="tinyml-fuzz-rec-"))
    window = 32
    try:
        for i in range(n):
            samples, rate = _random_samples(rng)
            samples = samples[: max(2, len(samples))]
            labels = [rng.choice(("shake", "idle")) for _ in range(2)]
            cut = rng.randrange(len(samples) + 1)
            per_sample = [labels[0]] * cut + [labels[1]] * (len(samples) - cut)
            clean = work / "clean.csv"
            sensor_csv.write_csv(clean, samples, rate, labels=per_sample)
            desc, data, benign = mutate.csv_text_mutation(rng, clean.read_text())
            path = work / f"r{i % 4}.csv"
            path.write_bytes(data)

            def run(path: Path = path, clean: Path = clean, benign: bool = benign) -> None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rec = recordings.load_recording(path, 100, window, window, SensorSpec())
                    ref = recordings.load_recording(clean, 100, window, window, SensorSpec()) if benign else None
                if rec.raw.ndim != 3 or rec.raw.shape[1:] != (window, 3) or len(rec.labels) != len(rec.raw):
                    raise SilentWrong(f"windows of shape {rec.raw.shape} for {len(rec.labels)} labels")
                if any(not lab or "," in lab or "\n" in lab for lab in rec.labels):
                    raise SilentWrong(f"a window label is empty or holds a separator: {sorted(set(rec.labels))!r}")
                if ref is not None and (not np.array_equal(rec.raw, ref.raw) or rec.labels != ref.labels):
                    raise SilentWrong("a benign change (line ends, blank lines, BOM, spaces) changed the windows")
            yield f"#{i} {desc}", run
    finally:
        shutil.rmtree(work, ignore_errors=True)


def resd_examples(rng: random.Random, n: int) -> Iterator[Example]:
    """Byte mutations of RESD files written by sim.resd.encode_acceleration, read back with read_acceleration."""
    from tinyml_disco.sim import resd

    work = Path(tempfile.mkdtemp(prefix="tinyml-fuzz-resd-"))
    try:
        for i in range(n):
            samples, rate = _random_samples(rng)
            clean = resd.encode_acceleration(samples, rate)
            mutated = rng.random() < 0.9
            desc, data = mutate.bytes_mutation(rng, clean) if mutated else ("unmutated", clean)
            path = work / f"f{i % 4}.resd"
            path.write_bytes(data)

            def run(path: Path = path, samples: np.ndarray = samples, rate: float = rate,
                    mutated: bool = mutated) -> None:
                got, got_rate = resd.read_acceleration(path)
                if got.ndim != 2 or got.shape[1] != 3 or len(got) == 0:
                    raise SilentWrong(f"samples of shape {got.shape}")
                if not (np.all(np.isfinite(got)) and math.isfinite(got_rate) and got_rate > 0):
                    raise SilentWrong(f"non-finite samples or rate {got_rate}")
                if not mutated and (not np.allclose(got, samples, rtol=0, atol=1e-6) or
                                    abs(got_rate - rate) > 1e-6 * rate):
                    raise SilentWrong("an unmutated file did not read back as written")
            yield f"#{i} {desc}", run
    finally:
        shutil.rmtree(work, ignore_errors=True)
