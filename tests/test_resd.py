"""RESD writer/reader: byte layout checked against a hand-derived file, round trips and every error path."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.sim.resd import (
    AccelBlock,
    ResdFormatError,
    encode_acceleration,
    read_acceleration,
    read_blocks,
    write_acceleration,
)

GOLDEN = Path(__file__).parent / "golden" / "resd" / "accel_3_samples.resd"

# The samples, rate, channel and start time that produce GOLDEN. Non-zero channel and start time so that a
# swapped or misplaced field changes the bytes.
GOLDEN_SAMPLES_G = np.array([[0.0, 0.0, 1.0], [0.001, -0.002, 0.98], [-1.5, 0.25, -0.00024]])
GOLDEN_RATE_HZ = 100.0
GOLDEN_CHANNEL = 1
GOLDEN_START_NS = 1_000_000_000

# Derived by hand from renode-infrastructure src/Emulator/Main/Utilities/RESD/ (all little-endian).
GOLDEN_BYTES = bytes.fromhex(
    # file header (LowLevelRESDParser.cs ReadHeader), offset 0
    "52 45 53 44"  # magic "RESD"
    "01"  # version 1
    "00 00 00"  # 3 bytes of zero padding
    # block header (DataBlock.cs DataBlockHeader.ReadFromStream), offset 8
    "02"  # block type u8: 2 = constant frequency
    "02 00"  # sample type u16: 0x0002 = acceleration
    "01 00"  # channel id u16: 1
    "3c 00 00 00 00 00 00 00"  # data size u64: 16 subheader + 8 metadata size + 3 * 12 samples = 60
    # constant-frequency subheader (ConstantFrequencySamplesDataBlock.ReadFromStream), offset 21
    "00 ca 9a 3b 00 00 00 00"  # start time u64: 1_000_000_000 ns = 0x3b9aca00
    "80 96 98 00 00 00 00 00"  # period u64: 10_000_000 ns = 0x00989680 (100 Hz)
    # metadata (MetadataBlock.ReadFromStream), offset 37
    "00 00 00 00 00 00 00 00"  # metadata size u64: 0, no entries
    # samples (RESDSample.cs AccelerationSample: 3 x i32 micro-g), offset 45
    "00 00 00 00  00 00 00 00  40 42 0f 00"  # [0, 0, 1_000_000]
    "e8 03 00 00  30 f8 ff ff  20 f4 0e 00"  # [1_000, -2_000, 980_000]
    "a0 1c e9 ff  90 d0 03 00  10 ff ff ff"  # [-1_500_000, 250_000, -240]
)
DATA_SIZE_OFFSET = 13
SAMPLES_OFFSET = 45


def _write(tmp_path: Path, data: bytes, name: str = "f.resd") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _block_only(data: bytes) -> bytes:
    """Strip the 8-byte file header so blocks from several encode_acceleration calls can be concatenated."""
    return data[8:]


# -- golden bytes -------------------------------------------------------------------------------------------


def test_hand_derived_layout_is_81_bytes() -> None:
    assert len(GOLDEN_BYTES) == 8 + 13 + 60


def test_writer_produces_hand_derived_bytes(tmp_path: Path) -> None:
    path = tmp_path / "out.resd"
    write_acceleration(path, GOLDEN_SAMPLES_G, GOLDEN_RATE_HZ, channel=GOLDEN_CHANNEL, start_time_ns=GOLDEN_START_NS)
    assert path.read_bytes() == GOLDEN_BYTES


def test_committed_golden_file_matches_hand_derived_bytes() -> None:
    assert GOLDEN.read_bytes() == GOLDEN_BYTES


def test_golden_file_reads_back() -> None:
    (block,) = read_blocks(GOLDEN)
    assert block.channel == GOLDEN_CHANNEL
    assert block.start_time_ns == GOLDEN_START_NS
    assert block.period_ns == 10_000_000
    assert block.timestamps_ns is None
    assert block.metadata == {}
    assert block.samples_ug.dtype == np.int32
    assert block.samples_ug.tolist() == [[0, 0, 1_000_000], [1_000, -2_000, 980_000], [-1_500_000, 250_000, -240]]


# -- round trips --------------------------------------------------------------------------------------------


def test_round_trip_micro_g_rate_start_channel(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    samples = rng.uniform(-2.0, 2.0, size=(500, 3))
    path = tmp_path / "r.resd"
    write_acceleration(path, samples, 400.0, channel=3, start_time_ns=123_456_789)
    (block,) = read_blocks(path)
    assert isinstance(block, AccelBlock)
    np.testing.assert_array_equal(block.samples_ug, np.rint(samples * 1e6).astype(np.int32))
    assert (block.channel, block.start_time_ns, block.period_ns) == (3, 123_456_789, 2_500_000)

    samples_g, rate = read_acceleration(path, channel=3)
    assert rate == 400.0
    np.testing.assert_array_equal(samples_g, block.samples_ug / 1e6)
    assert np.max(np.abs(samples_g - samples)) <= 0.5e-6


def test_micro_g_values_round_trip_exactly(tmp_path: Path) -> None:
    micro_g = np.array([[240, -240, 2_147_483_647], [-2_147_483_648, 0, 1]], dtype=np.int32)
    path = tmp_path / "e.resd"
    write_acceleration(path, micro_g / 1e6, 50.0)
    np.testing.assert_array_equal(read_blocks(path)[0].samples_ug, micro_g)


def test_rounding_to_nearest_micro_g(tmp_path: Path) -> None:
    path = tmp_path / "n.resd"
    write_acceleration(path, np.array([[0.0000004, 0.0000006, -0.0000006]]), 10.0)
    assert read_blocks(path)[0].samples_ug.tolist() == [[0, 1, -1]]


def test_metadata_encoding_hand_derived(tmp_path: Path) -> None:
    data = encode_acceleration(np.zeros((1, 3)), 1.0, metadata={"rate": 100, "src": "ab", "k": 0.5})
    expected_metadata = bytes.fromhex(
        "21 00 00 00 00 00 00 00"  # size u64: 14 + 8 + 11 = 33
        "72 61 74 65 00  07  64 00 00 00 00 00 00 00"  # "rate\0", type 0x07 int64, 100
        "73 72 63 00  0b  61 62 00"  # "src\0", type 0x0B string, "ab\0"
        "6b 00  0a  00 00 00 00 00 00 e0 3f"  # "k\0", type 0x0A double, 0.5
    )
    assert data[37 : 37 + len(expected_metadata)] == expected_metadata
    (block,) = read_blocks(_write(tmp_path, data))
    assert block.metadata == {"rate": 100, "src": "ab", "k": 0.5}
    assert block.samples_ug.tolist() == [[0, 0, 0]]


def test_metadata_all_types_and_blob_read(tmp_path: Path) -> None:
    entries = b"".join(
        key + b"\0" + bytes([kind]) + value
        for key, kind, value in [
            (b"a", 0x01, struct.pack("<b", -1)),
            (b"b", 0x02, struct.pack("<B", 255)),
            (b"c", 0x03, struct.pack("<h", -2)),
            (b"d", 0x04, struct.pack("<H", 65535)),
            (b"e", 0x05, struct.pack("<i", -3)),
            (b"f", 0x06, struct.pack("<I", 2**32 - 1)),
            (b"g", 0x08, struct.pack("<Q", 2**64 - 1)),
            (b"h", 0x09, struct.pack("<f", 0.25)),
            (b"i", 0x0C, struct.pack("<I", 5) + bytes.fromhex("deadc0ffee")),
        ]
    )
    body = struct.pack("<QQ", 0, 1000) + struct.pack("<Q", len(entries)) + entries
    data = b"RESD\x01\0\0\0" + struct.pack("<BHHQ", 2, 2, 0, len(body)) + body
    (block,) = read_blocks(_write(tmp_path, data))
    assert block.metadata == {
        "a": -1, "b": 255, "c": -2, "d": 65535, "e": -3, "f": 2**32 - 1, "g": 2**64 - 1, "h": 0.25,
        "i": bytes.fromhex("deadc0ffee"),
    }  # fmt: skip
    assert len(block.samples_ug) == 0


def test_reads_arbitrary_timestamp_block(tmp_path: Path) -> None:
    data = bytes.fromhex(
        "52 45 53 44 01 00 00 00"  # file header
        "01 02 00 05 00"  # block type 1 (arbitrary timestamp), acceleration, channel 5
        "38 00 00 00 00 00 00 00"  # data size: 8 start time + 8 metadata size + 2 * 20 = 56
        "e8 03 00 00 00 00 00 00"  # start time 1000 ns
        "00 00 00 00 00 00 00 00"  # metadata size 0
        "00 00 00 00 00 00 00 00  01 00 00 00  02 00 00 00  03 00 00 00"  # +0 ns: [1, 2, 3]
        "d0 07 00 00 00 00 00 00  ff ff ff ff  fe ff ff ff  fd ff ff ff"  # +2000 ns: [-1, -2, -3]
    )
    path = _write(tmp_path, data)
    (block,) = read_blocks(path)
    assert (block.channel, block.start_time_ns, block.period_ns) == (5, 1000, None)
    assert block.timestamps_ns is not None
    assert block.timestamps_ns.tolist() == [1000, 3000]  # absolute: start time + per-sample offset
    assert block.samples_ug.tolist() == [[1, 2, 3], [-1, -2, -3]]
    with pytest.raises(ResdFormatError, match="arbitrary-timestamp") as err:
        read_acceleration(path, channel=5)
    assert "byte offset 8" in str(err.value)


def test_skips_blocks_of_other_known_sample_types(tmp_path: Path) -> None:
    temperature = struct.pack("<BHHQ", 2, 0x0001, 0, 28) + struct.pack("<QQQi", 0, 1000, 0, 21_500)
    accel = _block_only(encode_acceleration(np.ones((2, 3)), 10.0))
    (block,) = read_blocks(_write(tmp_path, b"RESD\x01\0\0\0" + temperature + accel))
    assert block.offset == 8 + 13 + 28
    assert block.samples_ug.tolist() == [[1_000_000] * 3] * 2


def test_read_acceleration_joins_contiguous_blocks(tmp_path: Path) -> None:
    first = encode_acceleration(np.full((3, 3), 0.5), 100.0, start_time_ns=0)
    second = _block_only(encode_acceleration(np.full((2, 3), -0.5), 100.0, start_time_ns=30_000_000))
    other_channel = _block_only(encode_acceleration(np.zeros((4, 3)), 50.0, channel=2))
    path = _write(tmp_path, first + other_channel + second)
    samples, rate = read_acceleration(path)
    assert rate == 100.0
    assert samples[:, 0].tolist() == [0.5, 0.5, 0.5, -0.5, -0.5]
    assert read_acceleration(path, channel=2)[1] == 50.0


def test_read_acceleration_rejects_gap_and_mixed_rates(tmp_path: Path) -> None:
    first = encode_acceleration(np.zeros((3, 3)), 100.0)
    gap = _block_only(encode_acceleration(np.zeros((3, 3)), 100.0, start_time_ns=50_000_000))
    with pytest.raises(ResdFormatError, match="previous channel 0 block ends at 30000000 ns") as err:
        read_acceleration(_write(tmp_path, first + gap, "gap.resd"))
    assert f"byte offset {len(first)}" in str(err.value)

    other_rate = _block_only(encode_acceleration(np.zeros((3, 3)), 200.0, start_time_ns=30_000_000))
    with pytest.raises(ResdFormatError, match="one rate is required") as err:
        read_acceleration(_write(tmp_path, first + other_rate, "rates.resd"))
    assert f"byte offset {len(first)}" in str(err.value)


def test_read_acceleration_missing_channel(tmp_path: Path) -> None:
    path = _write(tmp_path, encode_acceleration(np.zeros((1, 3)), 10.0, channel=4))
    with pytest.raises(ValueError, match=r"no ACCELERATION block for channel 0; channels present: \[4\]"):
        read_acceleration(path)
    empty = _write(tmp_path, GOLDEN_BYTES[:8], "empty.resd")
    assert read_blocks(empty) == []  # a header with no blocks is valid RESD
    with pytest.raises(ValueError, match="no ACCELERATION blocks") as err:
        read_acceleration(empty)
    assert str(empty) in str(err.value)


# -- writer errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_write_rejects_non_finite_naming_sample_index(tmp_path: Path, bad: float) -> None:
    samples = np.zeros((4, 3))
    samples[2, 1] = bad
    with pytest.raises(ValueError, match="sample index 2 axis y"):
        write_acceleration(tmp_path / "x.resd", samples, 100.0)
    assert not (tmp_path / "x.resd").exists()


def test_write_rejects_out_of_int32_range(tmp_path: Path) -> None:
    samples = np.zeros((2, 3))
    samples[1, 2] = 2147.5
    with pytest.raises(ValueError, match="sample index 1 axis z"):
        write_acceleration(tmp_path / "x.resd", samples, 100.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample_rate_hz": 0.0}, "sample_rate_hz"),
        ({"sample_rate_hz": float("nan")}, "sample_rate_hz"),
        ({"channel": 65536}, "channel"),
        ({"start_time_ns": -1}, "start_time_ns"),
        ({"metadata": {"Bad-Key": 1}}, "a-z0-9_"),
        ({"metadata": {"flag": True}}, "bool"),
        ({"metadata": {"s": "a\0b"}}, "NUL"),
    ],
)
def test_write_rejects_bad_arguments(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"sample_rate_hz": 100.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        write_acceleration(tmp_path / "x.resd", np.zeros((1, 3)), **args)  # type: ignore[arg-type]


def test_write_rejects_bad_shape(tmp_path: Path) -> None:
    for shape in [(0, 3), (3,), (3, 2)]:
        with pytest.raises(ValueError, match="shape"):
            write_acceleration(tmp_path / "x.resd", np.zeros(shape), 100.0)


# -- reader errors: every message names the file and the byte offset -------------------------------------------


def _read_error(tmp_path: Path, data: bytes) -> str:
    path = _write(tmp_path, data, "bad.resd")
    with pytest.raises(ResdFormatError) as err:
        read_blocks(path)
    message = str(err.value)
    assert str(path) in message
    return message


def test_bad_magic(tmp_path: Path) -> None:
    message = _read_error(tmp_path, b"RSED" + GOLDEN_BYTES[4:])
    assert "byte offset 0" in message and "magic" in message


def test_wrong_version(tmp_path: Path) -> None:
    message = _read_error(tmp_path, GOLDEN_BYTES[:4] + b"\x02" + GOLDEN_BYTES[5:])
    assert "byte offset 4" in message and "version 2" in message


def test_nonzero_padding(tmp_path: Path) -> None:
    message = _read_error(tmp_path, GOLDEN_BYTES[:6] + b"\x01" + GOLDEN_BYTES[7:])
    assert "byte offset 5" in message and "padding" in message


@pytest.mark.parametrize("cut", [0, 3, 7])
def test_truncated_file_header(tmp_path: Path, cut: int) -> None:
    message = _read_error(tmp_path, GOLDEN_BYTES[:cut])
    assert "byte offset 0" in message and "truncated file header" in message


@pytest.mark.parametrize("cut", [9, 12, 20])
def test_truncated_block_header(tmp_path: Path, cut: int) -> None:
    message = _read_error(tmp_path, GOLDEN_BYTES[:cut])
    assert "byte offset 8" in message and "truncated block header" in message


@pytest.mark.parametrize("cut", [21, 30, 40, SAMPLES_OFFSET, 60, 80])
def test_truncated_block_data(tmp_path: Path, cut: int) -> None:
    message = _read_error(tmp_path, GOLDEN_BYTES[:cut])
    assert "byte offset 8" in message and "truncated block" in message
    assert f"the file ends at byte {cut}" in message


def _with_data_size(size: int, tail: bytes = b"") -> bytes:
    data = bytearray(GOLDEN_BYTES + tail)
    data[DATA_SIZE_OFFSET : DATA_SIZE_OFFSET + 8] = struct.pack("<Q", size)
    return bytes(data[: 21 + size])


def test_data_size_too_small_for_subheader(tmp_path: Path) -> None:
    message = _read_error(tmp_path, _with_data_size(10))
    assert "byte offset 21" in message and "constant-frequency subheader" in message


def test_data_size_too_small_for_metadata_size(tmp_path: Path) -> None:
    message = _read_error(tmp_path, _with_data_size(20))
    assert "byte offset 37" in message and "metadata size" in message


def test_sample_data_not_a_multiple_of_sample_size(tmp_path: Path) -> None:
    message = _read_error(tmp_path, _with_data_size(61, tail=b"\x00"))
    assert f"byte offset {SAMPLES_OFFSET}" in message and "not a multiple of the 12-byte" in message
    message = _read_error(tmp_path, _with_data_size(59))
    assert f"byte offset {SAMPLES_OFFSET}" in message and "35 bytes" in message


def test_unknown_sample_type(tmp_path: Path) -> None:
    message = _read_error(tmp_path, GOLDEN_BYTES[:9] + b"\x00\x01" + GOLDEN_BYTES[11:])
    assert "byte offset 9" in message and "unknown sample type 0x0100" in message


def test_unknown_block_type(tmp_path: Path) -> None:
    message = _read_error(tmp_path, GOLDEN_BYTES[:8] + b"\x03" + GOLDEN_BYTES[9:])
    assert "byte offset 8" in message and "unknown block type 3" in message


def test_zero_period_with_several_samples(tmp_path: Path) -> None:
    message = _read_error(tmp_path, GOLDEN_BYTES[:29] + bytes(8) + GOLDEN_BYTES[37:])
    assert "byte offset 29" in message and "period is 0 ns" in message


def _with_metadata(entries: bytes, declared: int | None = None) -> bytes:
    size = len(entries) if declared is None else declared
    body = struct.pack("<QQ", 0, 1000) + struct.pack("<Q", size) + entries
    return b"RESD\x01\0\0\0" + struct.pack("<BHHQ", 2, 2, 0, len(body)) + body


def test_unknown_metadata_type(tmp_path: Path) -> None:
    message = _read_error(tmp_path, _with_metadata(b"k\0\x0d"))
    assert "byte offset 47" in message and "unknown metadata type 0x0d" in message  # 8 + 13 + 16 + 8 + 2


def test_metadata_size_past_block_end(tmp_path: Path) -> None:
    message = _read_error(tmp_path, _with_metadata(b"k\0\x01\x05", declared=100))
    assert "byte offset 37" in message and "runs past the end of the block" in message


def test_metadata_value_cut_by_declared_size(tmp_path: Path) -> None:
    # The int64 value needs 8 bytes but the declared metadata size ends after 4 of them.
    entries = b"k\0\x07" + bytes(8)
    message = _read_error(tmp_path, _with_metadata(entries, declared=7))
    assert "byte offset 48" in message and "metadata value" in message


def test_metadata_string_without_terminator(tmp_path: Path) -> None:
    message = _read_error(tmp_path, _with_metadata(b"k\0\x0bab"))
    assert "byte offset 48" in message and "NUL terminator" in message
