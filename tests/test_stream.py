"""The firmware's STREAM command (raw samples for `tinyml-disco record`) on the embedded board: every fed sample
comes out once, in order, numbered, in the firmware's counts; PRED lines keep coming; STREAM off reports the count.
(tests/test_board_rehearsal.py runs the same through Renode's pty and the record command.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyml_disco.sim import protocol
from tinyml_disco.sim.board import Board
from tinyml_disco.sim.periph.lis2dw12 import firmware_counts_from_g


def test_stream_on_off_gives_every_sample(mlp_elf: Path) -> None:
    board = Board(str(mlp_elf), sensor="lis2dw12")
    board.run_until_idle()
    assert board.read_lines()[0].startswith("BOOT ")
    board.uart_write(b"STREAM on\n")
    board.run_until_idle()
    assert board.read_lines() == ["STREAM on lsb_ug=240 odr_hz=100"]
    rng = np.random.default_rng(5)
    samples = rng.normal(0.0, 1.5, size=(256, 3)) + np.array([0.0, 0.0, 1.0])
    board.feed_samples(samples)
    board.run_until_idle()
    lines = board.read_lines()
    got = [protocol.parse_sample(line) for line in lines if line.startswith("S ")]
    assert [s.n for s in got] == list(range(256))
    assert np.array_equal(np.array([s.xyz for s in got]), firmware_counts_from_g(samples))
    assert sum(line.startswith("PRED ") for line in lines) == 2  # classification goes on while streaming
    board.uart_write(b"STREAM off\n")
    board.run_until_idle()
    assert board.read_lines() == ["STREAM off samples=256 dropped=0"]
    board.feed_samples(samples[:128])
    board.run_until_idle()
    assert not any(line.startswith("S ") for line in board.read_lines())
    board.uart_write(b"STREAM\nSTREAM onn\n")
    board.run_until_idle()
    assert board.read_lines() == ["ERR code=bad_command"] * 2
