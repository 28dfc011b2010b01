"""Board backends for tinyml-disco: the in-process Unicorn model of the STM32F4 Discovery and helpers.

`from sim import Board` works, but is resolved lazily so that `import sim.<module>` does not load
Unicorn unless the board model is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinyml_disco.sim.board import Board
    from tinyml_disco.sim.errors import EmulationError, FirmwareFault, InstructionBudgetExceeded, LineNotSeen
    from tinyml_disco.sim.footprint import Footprint, measure_footprint

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
    "Board": "tinyml_disco.sim.board",
    "EmulationError": "tinyml_disco.sim.errors",
    "FirmwareFault": "tinyml_disco.sim.errors",
    "InstructionBudgetExceeded": "tinyml_disco.sim.errors",
    "LineNotSeen": "tinyml_disco.sim.errors",
    "Footprint": "tinyml_disco.sim.footprint",
    "measure_footprint": "tinyml_disco.sim.footprint",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
