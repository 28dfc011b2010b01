"""Robot Framework keyword library: boot the firmware on a backend, feed gestures, check predictions.

Usage in a suite:  Library    sim.robot_library.TinymlBoard    backend=${BACKEND}    model=mlp
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim import protocol
from sim.session import BackendUnavailable, DeviceSession, EmbeddedBackend, open_backend

LED_NAMES = ("green", "orange", "red", "blue")


class TinymlBoard:
    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self, backend: str = "embedded", model: str = "mlp", build_dir: str | None = None) -> None:
        from training.artifacts import ModelPaths

        self.backend_name = backend
        self.paths = ModelPaths.for_model(model, Path(build_dir) if build_dir else None)
        self.session: DeviceSession | None = None
        self.windows = None
        self.predictions: list[protocol.Prediction] = []

    # --- setup -------------------------------------------------------------------------------------
    def skip_if_backend_unavailable(self) -> None:
        """Skips the calling suite, with the reason, when the chosen backend cannot run here."""
        from robot.libraries.BuiltIn import BuiltIn

        if self.backend_name == "embedded":
            return
        try:
            open_backend(self.backend_name, self.paths.elf)
        except BackendUnavailable as exc:
            BuiltIn().skip(f"backend {self.backend_name} unavailable: {exc}")

    def prepare_model(self) -> str:
        """Trains (if build/<model> has no model yet), compiles and builds firmware.elf; returns the ELF path."""
        from training import pipeline

        if not self.paths.meta_json.exists():
            pipeline.train(self.paths)
            pipeline.export_device_data(self.paths)
        pipeline.compile_c(self.paths)
        return str(pipeline.build_firmware(self.paths))

    def boot_board(self, sensor: str = "lis3dsh") -> dict[str, object]:
        """Resets the board with the given sensor (lis3dsh or none) and returns the BOOT fields."""
        backend = open_backend(self.backend_name, self.paths.elf, sensor=sensor)
        self.session = DeviceSession(backend)
        boot = self.session.start()
        return {"fw": boot.fw, "model": boot.model, "sensor": boot.sensor, "bus": boot.bus,
                "clock_hz": boot.clock_hz}

    def _session(self) -> DeviceSession:
        if self.session is None:
            raise AssertionError("board not booted: call 'Boot Board' first")
        return self.session

    # --- checks ------------------------------------------------------------------------------------
    def uart_should_contain_line(self, regex: str) -> str:
        import re

        for line in self._session().lines:
            if re.search(regex, line):
                return line
        raise AssertionError(f"no UART line matches {regex!r}; lines: {self._session().lines!r}")

    def generate_held_out_windows(self, per_class: int = 5, seed: int | None = None) -> int:
        """Synthetic windows of every gesture from a seed that training never used."""
        from training import pipeline

        self.windows = pipeline.device_windows(self.paths, int(per_class),
                                               int(seed) if seed is not None else pipeline.DEVICE_SEED)
        return len(self.windows)

    def load_windows_from_file(self, path: str) -> int:
        """Windows (with labels) from a CSV written by `tinyml-disco train` (build/<model>/data)."""
        from sim import sensor_csv
        from training.artifacts import load_meta_json
        from training.synth import SensorSpec, Windows, to_raw

        meta = load_meta_json(self.paths)
        n = int(meta["window"])
        rec = sensor_csv.read_csv(Path(path), require_label=True)
        usable = rec.samples_g.shape[0] // n * n
        names = tuple(meta["labels"])
        labels = np.array([names.index(lab) for lab in (rec.labels or [])[n - 1:usable:n]])
        spec = SensorSpec()
        raw = to_raw(rec.samples_g[:usable], spec).reshape(-1, n, 3)
        self.windows = Windows(raw, labels, names, spec, int(meta["sample_rate_hz"]))
        return len(self.windows)

    def feed_windows_and_collect_predictions(self) -> int:
        if self.windows is None:
            raise AssertionError("no windows: call 'Generate Held Out Windows' first")
        self.predictions = []
        s = self._session()
        for win in self.windows.g:
            self.predictions += s.classify(win[None])
            self._check_led(self.predictions[-1].cls)
        return len(self.predictions)

    def _check_led(self, cls: int) -> None:
        backend = self._session().backend
        if isinstance(backend, EmbeddedBackend):
            lit = [name for name, on in backend.leds().items() if on]
            if lit != [LED_NAMES[cls]]:
                raise AssertionError(f"after PRED class={cls} expected only the {LED_NAMES[cls]} LED lit, got {lit}")

    def accuracy_should_be_at_least(self, minimum: float) -> float:
        assert self.windows is not None
        pred = np.array([p.cls for p in self.predictions])
        acc = float((pred == self.windows.labels).mean())
        per_class = {name: float((pred[self.windows.labels == i] == i).mean())
                     for i, name in enumerate(self.windows.label_names)}
        if acc < float(minimum):
            raise AssertionError(f"on-device accuracy {acc:.3f} < {minimum}; per class {per_class}")
        return acc

    def predictions_should_match_tflm(self) -> None:
        """Class and score of every PRED equal TFLite Micro's output for the same window."""
        from training import pipeline
        from training.tflm_oracle import TflmOracle

        assert self.windows is not None
        q = pipeline.model_inputs(self.paths, self.windows.raw)
        ref = TflmOracle(self.paths.tflite.read_bytes()).invoke(q)
        for i, p in enumerate(self.predictions):
            cls = int(ref[i].argmax())
            score = int(ref[i, cls]) + 128
            if (p.cls, p.score) != (cls, score):
                raise AssertionError(f"window {i}: device PRED class={p.cls} score={p.score}, "
                                     f"TFLM class={cls} score={score}")

    def predictions_should_be_numbered_from(self, first: int = 0) -> None:
        seqs = [p.seq for p in self.predictions]
        expected = list(range(int(first), int(first) + len(seqs)))
        if seqs != expected:
            raise AssertionError(f"PRED seq numbers {seqs} != {expected}")

    def infer_should_match_tflm(self, count: int = 50, seed: int = 1) -> None:
        """Random int8 input tensors through the INFER command; outputs must equal TFLM's bytes."""
        from training.tflm_oracle import TflmOracle

        oracle = TflmOracle(self.paths.tflite.read_bytes())
        n_in = int(np.prod(oracle.input_shape))
        x = np.random.default_rng(int(seed)).integers(-128, 128, size=(int(count), n_in)).astype(np.int8)
        ref = oracle.invoke(x)
        for i in range(len(x)):
            out = np.frombuffer(self._session().infer(x[i]).output, np.int8)
            if not np.array_equal(out, ref[i]):
                raise AssertionError(f"INFER {x[i].tobytes().hex()}: device {out.tolist()} != TFLM {ref[i].tolist()}")

    def send_line(self, text: str) -> list[str]:
        """Sends one raw line on the board's RX and returns the lines it answered."""
        s = self._session()
        s.backend.write((text + "\n").encode())
        before = len(s.lines)
        s._pump()
        return s.lines[before:]
