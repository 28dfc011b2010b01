"""Board backends for tinyml-disco: the in-process Unicorn model of the STM32F4 Discovery and helpers.

`from sim import Board` works, but is resolved lazily so that `import sim.<module>` does not load
Unicorn unless the board model is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.board import Board
    from sim.errors import EmulationError, FirmwareFault, InstructionBudgetExceeded, LineNotSeen
    from sim.footprint import Footprint, measure_footprint

__all__ = [
    "Board",
    "EmulationError",
    "FirmwareFault",
    "Footprint",
    "InstructionBudgetExceeded",
    "LineNotSeen",
    "measure_footprint",
]

_HOMES = {
    "Board": "sim.board",
    "EmulationError": "sim.errors",
    "FirmwareFault": "sim.errors",
    "InstructionBudgetExceeded": "sim.errors",
    "LineNotSeen": "sim.errors",
    "Footprint": "sim.footprint",
    "measure_footprint": "sim.footprint",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
