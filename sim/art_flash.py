"""The STM32F407's embedded flash behind its ART accelerator, as a small timing model (RM0090 3.5.2, 3.4.1).

At 168 MHz and 3.3 V the flash needs 5 wait states: one 128-bit line takes 6 HCLK cycles to read. The ART
keeps an instruction cache of 64 lines of 128 bits (1 KB), a data cache of 8 lines of 128 bits for literal
and constant loads, and a prefetch buffer that reads the next sequential line while the core executes the
current one. The model:

- every 16-byte line the core fetches from or loads from is looked up in the cache of its bus (fully
  associative, least recently used replaced; ST does not document the organisation) and, once delivered,
  kept there;
- whenever the core moves on to a new line, the prefetch buffer starts reading the line after it, ready
  `wait_states + 1` cycles later;
- an instruction fetch from a line not cached costs `wait_states` extra cycles, unless it is the line the
  prefetch buffer is reading: then it costs what is left of that read (0 when it is ready);
- a data load from flash that misses the data cache costs `wait_states` extra cycles (no data prefetch);
- anything outside flash (SRAM, CCM) has no wait states.
"""

from __future__ import annotations

from collections import OrderedDict

FLASH_RANGES = ((0x0000_0000, 0x0010_0000), (0x0800_0000, 0x0810_0000))  # the boot alias at 0 and the flash
LINE_BYTES = 16


def in_flash(address: int) -> bool:
    return any(lo <= address < hi for lo, hi in FLASH_RANGES)


class LruLines:
    """A fully associative cache of line numbers, least recently used out first."""

    def __init__(self, lines: int) -> None:
        self.lines = lines
        self._tags: OrderedDict[int, None] = OrderedDict()

    def lookup(self, line: int) -> bool:
        if line in self._tags:
            self._tags.move_to_end(line)
            return True
        return False

    def fill(self, line: int) -> None:
        self._tags[line] = None
        self._tags.move_to_end(line)
        if len(self._tags) > self.lines:
            self._tags.popitem(last=False)


class ArtFlash:
    def __init__(self, wait_states: int = 5, icache_lines: int = 64, dcache_lines: int = 8,
                 prefetch: bool = True) -> None:
        self.wait_states = wait_states
        self.prefetch = prefetch
        self.icache = LruLines(icache_lines)
        self.dcache = LruLines(dcache_lines)
        self._current_line = -1  # the line the core executes from
        self._prefetch_line = -1
        self._prefetch_ready = 0
        self.fetch_stalls = 0  # totals, for the breakdown
        self.data_stalls = 0
        self.icache_misses = 0
        self.dcache_misses = 0

    def fetch(self, address: int, size: int, now: int) -> int:
        """Extra cycles to fetch the instruction of `size` bytes at `address` at cycle `now`."""
        if not self.wait_states or not in_flash(address):
            return 0
        stall = 0
        for line in range(address // LINE_BYTES, (address + size - 1) // LINE_BYTES + 1):
            if line == self._current_line:
                continue
            if self.icache.lookup(line):
                wait = 0
            elif self.prefetch and line == self._prefetch_line:
                wait = max(0, self._prefetch_ready - (now + stall))
            else:
                wait = self.wait_states
                self.icache_misses += 1
            stall += wait
            self.icache.fill(line)
            self._current_line = line
            self._prefetch_line = line + 1
            self._prefetch_ready = now + stall + self.wait_states + 1
        self.fetch_stalls += stall
        return stall

    def load(self, address: int) -> int:
        """Extra cycles of a data load from `address` (one access)."""
        if not self.wait_states or not in_flash(address):
            return 0
        line = address // LINE_BYTES
        if self.dcache.lookup(line):
            return 0
        self.dcache.fill(line)
        self.dcache_misses += 1
        self.data_stalls += self.wait_states
        return self.wait_states
