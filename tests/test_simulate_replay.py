"""`simulate --data`: sample rates resampled or refused (and said), short files refused, PRED lines streamed,
the instruction budget sized to the data (issue 10)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.app import cli, replay
from tinyml_disco.sim import resd, sensor_csv
from tinyml_disco.sim.errors import InstructionBudgetExceeded
from tinyml_disco.sim.session import DeviceSession, EmbeddedBackend
from tinyml_disco.training.artifacts import ModelPaths


def _gravity(n: int, seed: int = 0) -> np.ndarray:
    return np.array([0.0, 0.0, 1.0]) + np.random.default_rng(seed).normal(0.0, 0.05, (n, 3))


def _simulate(paths: ModelPaths, data: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    rc = cli.main(["simulate", "--model", paths.name, "--build-dir", str(paths.root.parent), "--data", str(data),
                   *extra])
    out = capsys.readouterr()
    return rc, out.out, out.err


# -- loading: no board needed ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [10.0, 1e9 / 7])  # far below the model's rate; an absurd RESD period (7 ns)
def test_rates_outside_the_range_are_refused_with_the_fix(tmp_path: Path, rate: float) -> None:
    path = tmp_path / "x.resd"
    resd.write_acceleration(path, _gravity(600), rate)
    with pytest.raises(replay.ReplayError, match=r"x\.resd: sample rate .* Hz is outside 50-1600 Hz.*Fix: record"):
        replay.load_replay(path, 100, 128)


def test_a_1khz_resd_is_resampled_to_the_model_rate_and_said(tmp_path: Path) -> None:
    path = tmp_path / "fast.resd"
    t = np.arange(2560) / 1000.0
    g = np.stack([np.sin(2 * np.pi * 2.0 * t), np.zeros_like(t), np.ones_like(t)], axis=1)
    resd.write_acceleration(path, g, 1000.0)
    data = replay.load_replay(path, 100, 128)
    assert data.windows_g.shape == (2, 128, 3)  # 0..2.559 s at 1 kHz -> 0..2.55 s at 100 Hz: 256 samples
    assert data.file_rate_hz == pytest.approx(1000.0)
    # The 100 Hz series samples the 2 Hz sine at 10 ms steps, not at the file's 1 ms steps.
    np.testing.assert_allclose(data.windows_g.reshape(-1, 3)[:, 0], np.sin(2 * np.pi * 2.0 * np.arange(256) / 100.0),
                               atol=1e-5)
    assert any("1000 Hz resampled to the model's 100 Hz" in n for n in data.notes)


def test_a_csv_at_50hz_is_upsampled_with_its_labels(tmp_path: Path) -> None:
    path = tmp_path / "slow.csv"
    sensor_csv.write_csv(path, _gravity(256), 50.0, ["idle"] * 128 + ["shake"] * 128)
    data = replay.load_replay(path, 100, 128)
    assert data.windows_g.shape[0] == 3  # 5.1 s at 100 Hz = 511 samples: 3 whole windows
    assert data.truth == ["idle", "idle", "shake"]  # window 2 ends at 2.55 s: the 2.54 s row (idle) holds


def test_a_file_shorter_than_a_window_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    sensor_csv.write_csv(path, _gravity(50), 100.0)
    with pytest.raises(replay.ReplayError, match=r"short\.csv: 50 samples .* shorter than one window of 128"):
        replay.load_replay(path, 100, 128)


def test_a_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(replay.ReplayError, match="is a folder"):
        replay.load_replay(tmp_path, 100, 128)


# -- on the emulated board ------------------------------------------------------------------------------------


def test_cli_refuses_a_10hz_csv_and_a_short_csv(trained_mlp: ModelPaths, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    slow = tmp_path / "slow.csv"
    sensor_csv.write_csv(slow, _gravity(300), 10.0)
    rc, out, err = _simulate(trained_mlp, slow, capsys)
    assert rc != 0 and "sample rate 10 Hz is outside" in err and "PRED" not in out
    short = tmp_path / "short.csv"
    sensor_csv.write_csv(short, _gravity(50), 100.0)
    rc, out, err = _simulate(trained_mlp, short, capsys)
    assert rc != 0 and "shorter than one window" in err and "Traceback" not in err


def test_the_budget_grows_with_the_data(mlp_elf: Path, trained_mlp: ModelPaths, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed board budget (here shrunk to 1 M instructions, ~16 mlp windows) must not end a long replay."""
    defaults = EmbeddedBackend.__init__.__defaults__
    assert defaults is not None
    monkeypatch.setattr(EmbeddedBackend.__init__, "__defaults__", (*defaults[:-1], 1_000_000))
    path = tmp_path / "long.csv"
    sensor_csv.write_csv(path, _gravity(30 * 128), 100.0, ["idle"] * (30 * 128))
    rc, out, err = _simulate(trained_mlp, path, capsys)
    assert rc == 0, err
    assert out.count("PRED ") == 30
    assert "accuracy" in out and "on 30 windows" in out


def test_predictions_are_printed_before_a_failure(mlp_elf: Path, trained_mlp: ModelPaths, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The board gives up in the 4th window: the 3 PRED lines before it are printed, then a one-line error."""
    real = DeviceSession.classify
    fed = {"n": 0}

    def classify(self: DeviceSession, windows_g: np.ndarray) -> list:
        fed["n"] += len(windows_g)
        if fed["n"] > 3:
            raise InstructionBudgetExceeded("instruction budget of 1 exhausted at pc 0x0", 0)
        return real(self, windows_g)

    monkeypatch.setattr(DeviceSession, "classify", classify)
    path = tmp_path / "six.csv"
    sensor_csv.write_csv(path, _gravity(6 * 128), 100.0, ["idle"] * (6 * 128))
    rc, out, err = _simulate(trained_mlp, path, capsys)
    assert rc != 0 and "instruction budget" in err
    assert out.count("PRED ") == 3
    assert "stopped after 3 of 6 windows" in out


def test_a_hang_is_caught_within_one_window(mlp_elf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each window may use WINDOW_BUDGET more instructions, no more: a tiny one stops the first window."""
    from tinyml_disco.sim.session import embedded_session

    session = embedded_session(mlp_elf, instruction_budget=replay.BOOT_BUDGET)
    session.start()
    with pytest.raises(InstructionBudgetExceeded):
        list(replay.stream_predictions(session, _gravity(128)[None], window_budget=1_000))


def _timestamped_resd(path: Path, times_ns: np.ndarray, samples_g: np.ndarray) -> None:
    """One arbitrary-timestamp ACCELERATION block (sim/resd.py's layout; the writer makes constant-rate ones)."""
    rows = b"".join(resd.U64.pack(int(t)) + np.rint(s * 1e6).astype("<i4").tobytes()
                    for t, s in zip(times_ns, samples_g, strict=True))
    body = resd.ARBITRARY_TIMESTAMP_SUBHEADER.pack(0) + resd.U64.pack(0) + rows
    path.write_bytes(resd.FILE_HEADER.pack(resd.MAGIC, resd.VERSION, b"\0\0\0")
                     + resd.BLOCK_HEADER.pack(resd.BLOCK_ARBITRARY_TIMESTAMP, resd.SAMPLE_ACCELERATION, 0, len(body))
                     + body)


def test_a_timestamped_resd_is_resampled_on_its_times(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    times = np.arange(600) * 5_000_000 + rng.integers(-500_000, 500_000, 600)  # 200 Hz, +/-0.5 ms jitter
    times[0] = 0
    g = np.stack([np.sin(2 * np.pi * 1.0 * times * 1e-9), np.zeros(600), np.ones(600)], axis=1)
    path = tmp_path / "ts.resd"
    _timestamped_resd(path, times, g)
    data = replay.load_replay(path, 100, 128)
    assert data.windows_g.shape == (2, 128, 3) and 190 < data.file_rate_hz < 210
    np.testing.assert_allclose(data.windows_g.reshape(-1, 3)[:, 0], np.sin(2 * np.pi * np.arange(256) / 100.0),
                               atol=2e-3)
    times[10] = times[9]
    _timestamped_resd(path, times, g)
    with pytest.raises(replay.ReplayError, match=r"ts\.resd: sample 10 of channel 0 is not later"):
        replay.load_replay(path, 100, 128)
