"""Accelerometer sample pacing shared by the sensor models: samples fed from the host (in g) are produced
at the sensor's output data rate (ODR) in virtual time.

While the sensor is powered (ODR > 0) it has a fixed grid of conversion instants, the first one period
after power-up. At each instant, if the host queue holds a sample, that sample becomes the output
(converted to raw counts with the full scale then in force, clipped to the output range as the real
sensor saturates), and data-ready rises. With an empty queue nothing happens: the sensor has stopped
producing data (what `ERR code=sensor_timeout` reports). Time is in cycles of the board's clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

Converter = Callable[[np.ndarray], tuple[tuple[int, int, int], bool]]


def check_samples(samples_g: np.ndarray) -> np.ndarray:
    arr = np.asarray(samples_g, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"samples must have shape (N, 3) in g, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.argwhere(~np.isfinite(arr))[0][0])
        raise ValueError(f"sample {bad} contains NaN or infinity; remove or interpolate it before feeding")
    return arr


class SampleStream:
    """`odr_mhz()` gives the current ODR in mHz (0 = powered down), `hz()` the board's cycles per second."""

    def __init__(self, clock: Callable[[], int], hz: Callable[[], int]) -> None:
        self._clock = clock
        self._hz = hz
        self.queue: deque[np.ndarray] = deque()
        self._odr_mhz = 0
        self._t0 = 0  # power-up instant of the current ODR grid
        self._k = 0  # conversions on the grid already processed
        self.sample_cycles: list[int] = []  # conversion instant of every sample produced
        self.clipped = 0
        self.overruns = 0
        self._instant_key: tuple[int, int, int, int] | None = None
        self._instant_value = 0

    def feed(self, samples_g: np.ndarray) -> None:
        arr = check_samples(samples_g)
        if not self.queue:
            self._skip_empty_slots()
        self.queue.extend(arr)

    def set_odr(self, odr_mhz: int) -> None:
        """Called when the ODR register changes: restart the conversion grid."""
        if odr_mhz == self._odr_mhz:
            return
        self._odr_mhz = odr_mhz
        self._t0 = self._clock()
        self._k = 0

    def _instant(self, k: int) -> int:
        hz = self._hz()
        key = (k, hz, self._t0, self._odr_mhz)
        if key != self._instant_key:  # asked again and again for the same next instant: cache it
            self._instant_key = key
            self._instant_value = self._t0 + (k * hz * 1000) // self._odr_mhz
        return self._instant_value

    def _skip_empty_slots(self) -> None:
        """Grid instants that passed with nothing queued produced nothing: skip them."""
        if not self._odr_mhz:
            return
        now = self._clock()
        while self._instant(self._k + 1) <= now:
            self._k += 1

    def next_conversion(self, n: int = 1) -> int | None:
        """Clock value of the n-th next conversion that will produce a sample (or of the last queued one, if
        fewer are queued), or None."""
        if not self._odr_mhz or not self.queue:
            return None
        return self._instant(self._k + min(n, len(self.queue)))

    def advance(self, until: int, produce: Callable[[np.ndarray, int], None]) -> None:
        """Run every conversion instant <= `until`; `produce(sample_g, instant)` for each sample popped."""
        if not self._odr_mhz:
            return
        if self.queue and self._instant(self._k + 1) > until:
            return  # the common case: nothing due yet
        while self.queue:
            t = self._instant(self._k + 1)
            if t > until:
                return
            self._k += 1
            self.sample_cycles.append(t)
            produce(self.queue.popleft(), t)
        self._skip_empty_slots()


def to_counts(sample_g: np.ndarray, lsb_g: float, lo: int, hi: int) -> tuple[tuple[int, int, int], bool]:
    """Round to the nearest count (half to even, as np.rint) and saturate to [lo, hi]; also says whether any
    axis saturated. Plain floats: numpy on 3 values costs ~10x more per sample."""
    out = []
    saturated = False
    for g in sample_g.tolist():
        raw = round(g / lsb_g)
        if raw < lo or raw > hi:
            raw = lo if raw < lo else hi
            saturated = True
        out.append(raw)
    return (out[0], out[1], out[2]), saturated


class FedSensor:
    """The base of every accelerometer model: samples fed in g queue up in `self.stream` and become outputs at
    the ODR; data-ready drives INT1 as a level or as one pulse per sample.

    A sensor model supplies its register semantics through four methods: `_convert` (g -> raw counts at the
    current full scale), `_latch_data_ready` (set the status bits, say whether an unread sample was
    overwritten), `_int1_pulsed` (data-ready routed to INT1 in pulsed mode) and `int1_level`.
    """

    stream: SampleStream
    clock: Callable[[], int]
    on_int1: Callable[[bool], None]
    _int1: bool
    _raw: tuple[int, int, int]

    def _convert(self, sample_g: np.ndarray) -> tuple[tuple[int, int, int], bool]:
        raise NotImplementedError

    def _latch_data_ready(self) -> bool:
        raise NotImplementedError

    def _int1_pulsed(self) -> bool:
        raise NotImplementedError

    def int1_level(self) -> bool:
        raise NotImplementedError

    # -- time (an event source of the board's scheduler) ---------------------------------------------------
    def next_event(self) -> int | None:
        return self.stream.next_conversion(self._samples_to_int1_change())

    def _samples_to_int1_change(self) -> int:
        """Conversions until INT1 can change; the ones before it are produced lazily (any bus access syncs the
        sensor first), so the board need not stop at each. 1 = every sample may change INT1."""
        return 1

    settle: Callable[[], None] = staticmethod(lambda: None)  # the SPI prefetch (Spi.settle) before changes

    def sync(self, until: int | None = None) -> None:
        self.settle()
        self.stream.advance(self.clock() if until is None else until, self._produce)

    def advance(self, until: int) -> bool:
        self.sync(until)
        return False  # every sample due by `until` is produced: nothing left due

    def _produce(self, sample_g: np.ndarray, _t: int) -> None:
        self._raw, clipped = self._convert(sample_g)
        if clipped:
            self.stream.clipped += 1
        if self._latch_data_ready():
            self.stream.overruns += 1
        if self._int1_pulsed():
            self._set_int1(True)  # pulsed: one edge per sample
            self._set_int1(False)
        self._update_int1()

    # -- the 32-level FIFO of the LIS2DW12 and LIS3DSH (each model owns `fifo` and `_fifo_overrun`) ---------
    fifo: deque[tuple[int, int, int]]
    _fifo_overrun: bool

    def _push_fifo(self, sample_g: np.ndarray, depth: int, stop_when_full: bool) -> None:
        """One conversion into the FIFO. When it is full: FIFO mode stops collecting (stop_when_full), stream /
        continuous mode overwrites the oldest sample; an overrun either way."""
        counts, clipped = self._convert(sample_g)
        if clipped:
            self.stream.clipped += 1
        if len(self.fifo) >= depth:
            self.stream.overruns += 1
            if stop_when_full:
                self._update_int1()
                return
            self.fifo.popleft()
            self._fifo_overrun = True
        self.fifo.append(counts)
        self._update_int1()

    def _update_int1(self) -> None:
        self._set_int1(self.int1_level())

    def _set_int1(self, level: bool) -> None:
        if level != self._int1:
            self._int1 = level
            self.on_int1(level)

    def feed(self, samples_g: np.ndarray) -> None:
        self.stream.feed(samples_g)

    @property
    def queued(self) -> int:
        return len(self.stream.queue)

    @property
    def clipped(self) -> int:
        return self.stream.clipped
