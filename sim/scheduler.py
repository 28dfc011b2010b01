"""The board's event scheduler: timed event sources (SysTick, sensors, any future timer) are registered, not
hard-coded. The CPU loop asks for the next event to bound each emulation slice and lets every source catch up
to the current time before taking interrupts (WFI skips straight to the next event)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class EventSource(Protocol):
    def next_event(self) -> int | None:
        """Clock value (cycles) of this source's next event, or None if it has none scheduled."""

    def advance(self, until: int) -> bool:
        """Make every event at or before `until` happen. True if one fired that may leave another one due at
        `until` already (the scheduler then does not remember `until` as done)."""


class Scheduler:
    def __init__(self) -> None:
        self._sources: list[EventSource] = []

    def register(self, source: EventSource) -> None:
        """Sources advance in registration order (SysTick before the sensor, as on the board's bus)."""
        self._sources.append(source)

    def next_event(self) -> int | None:
        due = None
        for s in self._sources:
            t = s.next_event()
            if t is not None and (due is None or t < due):
                due = t
        return due

    def advance(self, until: int) -> bool:
        fired = False
        for s in self._sources:
            fired = s.advance(until) or fired  # every source catches up, whatever the others did
        return fired


class SysTickEvents:
    """The SysTick timer as an event source: at most one tick per advance (a second may be due as well)."""

    def __init__(self, systick: object, pend: Callable[[], None]) -> None:
        self._next = systick.next_tick_irq  # type: ignore[attr-defined]
        self._fire = systick.fire_tick_irq  # type: ignore[attr-defined]
        self._pend = pend

    def next_event(self) -> int | None:
        return self._next()

    def advance(self, until: int) -> bool:
        tick = self._next()
        if tick is None or tick > until:
            return False
        self._fire()
        self._pend()
        return True
