"""Renode Sensor Data (RESD) files holding acceleration samples: a writer and a validating reader.

Layout (everything little-endian: Renode reads it with .NET's BinaryReader, which is always little-endian),
checked field by field against renode-infrastructure, src/Emulator/Main/Utilities/RESD/ and
src/Emulator/Main/Utilities/SafeBinaryReader.cs:

file header, 8 bytes                                  -- LowLevelRESDParser.cs, ReadHeader()
    0   4  magic "RESD" (ASCII)
    4   1  version, must be 0x01 (SupportedVersion)
    5   3  padding, must be all zero (HeaderPaddingLength)
then blocks until the end of the file                 -- LowLevelRESDParser.cs, DataBlockEnumerator.MoveNext()
block header, 13 bytes                                -- DataBlock.cs, DataBlockHeader.ReadFromStream()
    +0  1  block type: u8  (BlockType: 1 arbitrary timestamp, 2 constant frequency)
    +1  2  sample type: u16 (SampleType in RESDSample.cs: 0x0002 acceleration)
    +3  2  channel id: u16
    +5  8  data size: u64, the number of bytes after this header that belong to the block (the parser limits
           its reader to header end + data size). renode-docs basic/resd.md draws it as bytes 5-8, but the
           parser reads a UInt64 and the docs' own hex dump has 8 bytes, so 8 it is.
subheader                                             -- DataBlock.cs, *SamplesDataBlock<T>.ReadFromStream()
    constant frequency:  start time u64 ns, period u64 ns
    arbitrary timestamp: start time u64 ns
metadata, always present (size 0 = none)               -- SamplesData.cs ctor -> RESDSample.ReadMetadata()
                                                         -> MetadataBlock.cs, MetadataBlock.ReadFromStream()
    u64 size of the entries that follow, then entries until exactly `size` bytes are consumed:
    key (NUL-terminated string), u8 type (MetadataValue.cs, MetadataValueType), value
samples until the end of the block
    constant frequency:  acceleration = 3 x i32 X, Y, Z in micro-g  -- RESDSample.cs, AccelerationSample
                         (ToString divides by 1e6 and prints "g"; Width = 12)
    arbitrary timestamp: u64 timestamp (ns, relative to the block start time: CurrentTimestamp is
                         StartTime + Timestamp), then the sample -- DataBlock.cs, TimestampedRESDSample
"""

from __future__ import annotations

import math
import os
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"RESD"
VERSION = 1
FILE_HEADER = struct.Struct("<4sB3s")  # LowLevelRESDParser.cs
BLOCK_HEADER = struct.Struct("<BHHQ")  # DataBlock.cs, DataBlockHeader
CONSTANT_FREQUENCY_SUBHEADER = struct.Struct("<QQ")  # start time, period
ARBITRARY_TIMESTAMP_SUBHEADER = struct.Struct("<Q")  # start time
U64 = struct.Struct("<Q")

BLOCK_ARBITRARY_TIMESTAMP = 1
BLOCK_CONSTANT_FREQUENCY = 2
SAMPLE_ACCELERATION = 0x0002
ACCEL_SAMPLE_SIZE = 12  # AccelerationSample.Width
TIMESTAMP_SIZE = 8  # TimestampedRESDSample.TimestampSize

# Sample types Renode knows (RESDSample.cs, SampleType) other than acceleration: valid RESD, so their
# blocks are skipped, as Renode's typed block enumerator does. 0xF000-0xFFFF is the custom range.
OTHER_KNOWN_SAMPLE_TYPES = frozenset(range(0x0001, 0x000B)) - {SAMPLE_ACCELERATION}
CUSTOM_SAMPLE_TYPES = range(0xF000, 0x10000)

# MetadataValue.cs, MetadataValueType: fixed-size value types and their struct formats.
_METADATA_FIXED: dict[int, str] = {
    0x01: "<b", 0x02: "<B", 0x03: "<h", 0x04: "<H", 0x05: "<i",
    0x06: "<I", 0x07: "<q", 0x08: "<Q", 0x09: "<f", 0x0A: "<d",
}  # fmt: skip
META_INT64 = 0x07
META_UINT64 = 0x08
META_DOUBLE = 0x0A
META_STRING = 0x0B
META_BLOB = 0x0C
_METADATA_KEY = re.compile(r"[a-z0-9_]+")  # renode-docs basic/resd.md, "Metadata"

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
UINT16_MAX = 2**16 - 1
UINT64_MAX = 2**64 - 1

MetadataValue = str | int | float | bytes
PathLike = str | os.PathLike[str]


class ResdFormatError(ValueError):
    """The file is not RESD Renode can read as acceleration data; the message names the file and byte offset."""

    def __init__(self, path: PathLike, offset: int, problem: str) -> None:
        super().__init__(f"{os.fspath(path)}: at byte offset {offset} (0x{offset:x}): {problem}")
        self.path = Path(path)
        self.offset = offset


@dataclass
class AccelBlock:
    """One ACCELERATION block.

    Constant frequency: `period_ns` is set and `timestamps_ns` is None. Arbitrary timestamp: `period_ns` is
    None and `timestamps_ns` holds absolute times (block start time + each sample's offset), uint64.
    """

    channel: int
    start_time_ns: int
    period_ns: int | None
    timestamps_ns: np.ndarray | None
    samples_ug: np.ndarray  # (N, 3) int32, micro-g
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    offset: int = 0  # byte offset of the block header, for error messages


# -- writing ------------------------------------------------------------------------------------------------


def _encode_metadata(metadata: Mapping[str, str | int | float]) -> bytes:
    entries = bytearray()
    for key, value in metadata.items():
        if not isinstance(key, str) or not _METADATA_KEY.fullmatch(key):
            raise ValueError(f"metadata key {key!r}: RESD keys are non-empty strings of [a-z0-9_]")
        entries += key.encode("ascii") + b"\0"
        # bool is an int subclass; refuse it rather than silently storing 0/1.
        if isinstance(value, bool):
            raise ValueError(f"metadata {key!r}: bool is not a RESD metadata type; store 0/1 as int")
        if isinstance(value, int):
            if -(2**63) <= value < 2**63:
                entries += bytes([META_INT64]) + struct.pack("<q", value)
            elif 0 <= value <= UINT64_MAX:
                entries += bytes([META_UINT64]) + struct.pack("<Q", value)
            else:
                raise ValueError(f"metadata {key!r}: {value} does not fit in 64 bits")
        elif isinstance(value, float):
            entries += bytes([META_DOUBLE]) + struct.pack("<d", value)
        elif isinstance(value, str):
            encoded = value.encode("utf-8")
            if b"\0" in encoded:
                raise ValueError(f"metadata {key!r}: strings are NUL-terminated in RESD, so cannot contain NUL")
            entries += bytes([META_STRING]) + encoded + b"\0"
        else:
            raise ValueError(f"metadata {key!r}: unsupported type {type(value).__name__} (use str, int or float)")
    return U64.pack(len(entries)) + bytes(entries)


def _to_micro_g(samples_g: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples_g, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 3 or samples.shape[0] == 0:
        raise ValueError(f"samples_g must have shape (N, 3) with N >= 1, got {samples.shape}")
    bad = ~np.isfinite(samples)
    if bad.any():
        index, axis = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"sample index {index} axis {'xyz'[axis]} is {samples[index, axis]}; RESD stores integers")
    micro_g = np.rint(samples * 1e6)
    out_of_range = (micro_g < INT32_MIN) | (micro_g > INT32_MAX)
    if out_of_range.any():
        index, axis = (int(i) for i in np.argwhere(out_of_range)[0])
        raise ValueError(
            f"sample index {index} axis {'xyz'[axis]} is {samples[index, axis]} g, outside the int32 micro-g range"
        )
    return micro_g.astype("<i4")


def encode_acceleration(
    samples_g: np.ndarray,
    sample_rate_hz: float,
    channel: int = 0,
    start_time_ns: int = 0,
    metadata: Mapping[str, str | int | float] | None = None,
) -> bytes:
    """The bytes `write_acceleration` writes: file header plus one constant-frequency ACCELERATION block."""
    if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
        raise ValueError(f"sample_rate_hz must be a positive finite number, got {sample_rate_hz}")
    # The file stores an integer period; non-integral periods (e.g. 52 Hz) are rounded to the nearest ns.
    period_ns = round(1e9 / sample_rate_hz)
    if period_ns < 1:
        raise ValueError(f"sample_rate_hz {sample_rate_hz} is above 1 GHz; the period would round to 0 ns")
    if not 0 <= channel <= UINT16_MAX:
        raise ValueError(f"channel must fit in a u16 (0..{UINT16_MAX}), got {channel}")
    if not 0 <= start_time_ns <= UINT64_MAX:
        raise ValueError(f"start_time_ns must fit in a u64, got {start_time_ns}")
    samples = _to_micro_g(samples_g).tobytes()
    body = CONSTANT_FREQUENCY_SUBHEADER.pack(start_time_ns, period_ns) + _encode_metadata(metadata or {}) + samples
    header = FILE_HEADER.pack(MAGIC, VERSION, b"\0\0\0")
    return header + BLOCK_HEADER.pack(BLOCK_CONSTANT_FREQUENCY, SAMPLE_ACCELERATION, channel, len(body)) + body


def write_acceleration(
    path: PathLike,
    samples_g: np.ndarray,
    sample_rate_hz: float,
    channel: int = 0,
    start_time_ns: int = 0,
    metadata: dict[str, str | int | float] | None = None,
) -> None:
    """Write one constant-frequency ACCELERATION block; g are rounded to the nearest micro-g.

    Renode's docs say non-custom sample types carry no metadata, so leave `metadata` None for files fed to
    `FeedAccelerationSamplesFromRESD`; it is written with Renode's type codes if given.
    """
    data = encode_acceleration(samples_g, sample_rate_hz, channel, start_time_ns, metadata)
    Path(path).write_bytes(data)


# -- reading ------------------------------------------------------------------------------------------------


def _need(path: PathLike, data: bytes, offset: int, size: int, end: int, what: str) -> None:
    if offset + size > end:
        raise ResdFormatError(
            path,
            offset,
            f"truncated {what}: needs {size} bytes, only {max(end - offset, 0)} left"
            + (" in the file" if end == len(data) else " in the block"),
        )


def _read_cstring(path: PathLike, data: bytes, offset: int, end: int, what: str) -> tuple[bytes, int]:
    nul = data.find(b"\0", offset, end)
    if nul < 0:
        raise ResdFormatError(path, offset, f"{what} has no NUL terminator before the end of the metadata")
    return data[offset:nul], nul + 1


def _read_metadata(path: PathLike, data: bytes, offset: int, block_end: int) -> tuple[dict[str, MetadataValue], int]:
    _need(path, data, offset, U64.size, block_end, "metadata size")
    (size,) = U64.unpack_from(data, offset)
    start = offset + U64.size
    end = start + size
    if end > block_end:
        raise ResdFormatError(path, offset, f"metadata size {size} runs past the end of the block at {block_end}")
    metadata: dict[str, MetadataValue] = {}
    pos = start
    while pos < end:
        raw_key, pos = _read_cstring(path, data, pos, end, "metadata key")
        key = raw_key.decode("utf-8", errors="replace")
        _need(path, data, pos, 1, end, f"metadata type of {key!r}")
        kind = data[pos]
        pos += 1
        if kind in _METADATA_FIXED:
            fmt = struct.Struct(_METADATA_FIXED[kind])
            _need(path, data, pos, fmt.size, end, f"metadata value of {key!r}")
            (metadata[key],) = fmt.unpack_from(data, pos)
            pos += fmt.size
        elif kind == META_STRING:
            raw, pos = _read_cstring(path, data, pos, end, f"metadata string {key!r}")
            metadata[key] = raw.decode("utf-8", errors="replace")
        elif kind == META_BLOB:
            _need(path, data, pos, 4, end, f"metadata blob length of {key!r}")
            (length,) = struct.unpack_from("<I", data, pos)
            pos += 4
            _need(path, data, pos, length, end, f"metadata blob {key!r}")
            metadata[key] = data[pos : pos + length]
            pos += length
        else:
            raise ResdFormatError(path, pos - 1, f"unknown metadata type 0x{kind:02x} for key {key!r}")
    return metadata, end


def _read_header(path: PathLike, data: bytes) -> int:
    _need(path, data, 0, FILE_HEADER.size, len(data), "file header")
    magic, version, padding = FILE_HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise ResdFormatError(path, 0, f"bad magic {magic!r}, expected {MAGIC!r}: not a RESD file")
    if version != VERSION:
        raise ResdFormatError(path, 4, f"RESD version {version} is not supported (Renode reads version {VERSION})")
    if padding != b"\0\0\0":
        raise ResdFormatError(path, 5, f"header padding must be 3 zero bytes, got {padding.hex(' ')}")
    return FILE_HEADER.size


def read_blocks(path: PathLike) -> list[AccelBlock]:
    """All ACCELERATION blocks of the file, in file order. Blocks of other known sample types are skipped."""
    data = Path(path).read_bytes()
    pos = _read_header(path, data)
    blocks: list[AccelBlock] = []
    while pos < len(data):
        block_offset = pos
        _need(path, data, pos, BLOCK_HEADER.size, len(data), "block header")
        block_type, sample_type, channel, size = BLOCK_HEADER.unpack_from(data, pos)
        pos += BLOCK_HEADER.size
        block_end = pos + size
        if block_end > len(data):
            raise ResdFormatError(
                path,
                block_offset,
                f"truncated block: its header declares {size} data bytes (up to byte {block_end}), "
                f"but the file ends at byte {len(data)}",
            )
        if block_type not in (BLOCK_ARBITRARY_TIMESTAMP, BLOCK_CONSTANT_FREQUENCY):
            raise ResdFormatError(path, block_offset, f"unknown block type {block_type} (expected 1 or 2)")
        if sample_type != SAMPLE_ACCELERATION:
            if sample_type in OTHER_KNOWN_SAMPLE_TYPES or sample_type in CUSTOM_SAMPLE_TYPES:
                pos = block_end
                continue
            raise ResdFormatError(path, block_offset + 1, f"unknown sample type 0x{sample_type:04x}")
        subheader_offset = pos
        if block_type == BLOCK_CONSTANT_FREQUENCY:
            _need(path, data, pos, CONSTANT_FREQUENCY_SUBHEADER.size, block_end, "constant-frequency subheader")
            start_time, period = CONSTANT_FREQUENCY_SUBHEADER.unpack_from(data, pos)
            pos += CONSTANT_FREQUENCY_SUBHEADER.size
            sample_size = ACCEL_SAMPLE_SIZE
        else:
            _need(path, data, pos, ARBITRARY_TIMESTAMP_SUBHEADER.size, block_end, "arbitrary-timestamp subheader")
            (start_time,) = ARBITRARY_TIMESTAMP_SUBHEADER.unpack_from(data, pos)
            pos += ARBITRARY_TIMESTAMP_SUBHEADER.size
            period = None
            sample_size = TIMESTAMP_SIZE + ACCEL_SAMPLE_SIZE
        metadata, pos = _read_metadata(path, data, pos, block_end)
        sample_bytes = block_end - pos
        if sample_bytes % sample_size:
            raise ResdFormatError(
                path,
                pos,
                f"sample data is {sample_bytes} bytes, not a multiple of the {sample_size}-byte ACCELERATION "
                f"sample (truncated sample or wrong data size)",
            )
        count = sample_bytes // sample_size
        timestamps = None
        if period is not None:
            if period == 0 and count > 1:
                # renode-docs basic/resd.md: period 0 is invalid for more than one sample.
                raise ResdFormatError(path, subheader_offset + 8, f"period is 0 ns but the block has {count} samples")
            samples = np.frombuffer(data, dtype="<i4", count=count * 3, offset=pos).reshape(count, 3)
        else:
            rows = np.frombuffer(data, dtype=[("t", "<u8"), ("xyz", "<i4", (3,))], count=count, offset=pos)
            samples = rows["xyz"]
            timestamps = rows["t"].astype(np.uint64) + np.uint64(start_time)
        blocks.append(
            AccelBlock(
                channel=channel,
                start_time_ns=start_time,
                period_ns=period,
                timestamps_ns=timestamps,
                samples_ug=samples.astype(np.int32),
                metadata=metadata,
                offset=block_offset,
            )
        )
        pos = block_end
    return blocks


def read_acceleration(path: PathLike, channel: int = 0) -> tuple[np.ndarray, float]:
    """Samples in g, shape (N, 3) float64, and the sample rate of one channel's constant-frequency data.

    Several blocks are joined only if they share one period and each starts where the previous one ends,
    so the result is one evenly spaced series.
    """
    all_blocks = read_blocks(path)
    blocks = [b for b in all_blocks if b.channel == channel]
    if not blocks:
        present = sorted({b.channel for b in all_blocks})
        raise ValueError(
            f"{os.fspath(path)}: no ACCELERATION block for channel {channel}; "
            + (f"channels present: {present}" if present else "the file has no ACCELERATION blocks")
        )
    first = blocks[0]
    for block in blocks:
        if block.period_ns is None:
            raise ResdFormatError(
                path,
                block.offset,
                f"channel {channel} has an arbitrary-timestamp block; use read_blocks() for irregular data",
            )
        if block.period_ns != first.period_ns:
            raise ResdFormatError(
                path,
                block.offset,
                f"channel {channel} block has period {block.period_ns} ns, the first block has "
                f"{first.period_ns} ns; one rate is required",
            )
    period = first.period_ns
    assert period is not None  # checked in the loop above
    if period == 0:
        raise ResdFormatError(path, first.offset, "period is 0 ns, so there is no sample rate")
    for previous, block in zip(blocks, blocks[1:], strict=False):
        expected = previous.start_time_ns + len(previous.samples_ug) * period
        if block.start_time_ns != expected:
            raise ResdFormatError(
                path,
                block.offset,
                f"block starts at {block.start_time_ns} ns, but the previous channel {channel} block ends at "
                f"{expected} ns; gaps and overlaps cannot be represented as one constant rate",
            )
    samples_ug = np.concatenate([b.samples_ug for b in blocks])
    return samples_ug.astype(np.float64) / 1e6, 1e9 / period
