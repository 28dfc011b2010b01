"""The accelerometers the board can carry, as data: one entry per sensor, read by the board (which model to
build and on which bus), the UART protocol parser (BOOT sensor names) and tied by tests to the synthetic data
generator's datasheet tables (training/synth.py cannot import sim) and to the firmware's WHO_AM_I values.

The model class is named by import path so that reading this table (the protocol parser does) does not load
the register models.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SensorInfo:
    key: str  # board option and Robot variable, e.g. "lis3dsh"
    boot_name: str  # what the firmware reports in `BOOT ... sensor=<name>`
    bus: str  # "spi1" (chip select PE3) or "i2c1"
    who_am_i: int
    i2c_address: int | None  # 7-bit address on I2C1 (None on SPI)
    output_bits: int  # output word width (saturation range)
    sensitivity_ug: Mapping[int, int]  # full scale in g -> micro-g per count (datasheet)
    noise_density_ug: float  # typical, micro-g / sqrt(Hz)
    odr_hz: tuple[float, ...]
    model: str  # "module:Class" of the register model (a tinyml_disco.sim.periph.accel.FedSensor)

    def model_class(self) -> type:
        module, _, name = self.model.partition(":")
        return getattr(importlib.import_module(module), name)


REGISTRY: dict[str, SensorInfo] = {s.key: s for s in (
    SensorInfo("lis3dsh", "LIS3DSH", "spi1", 0x3F, None, 16, {2: 60, 4: 120, 6: 180, 8: 240, 16: 730}, 150.0,
               (3.125, 6.25, 12.5, 25, 50, 100, 400, 800, 1600), "tinyml_disco.sim.periph.lis3dsh:Lis3dsh"),
    SensorInfo("lis2dw12", "LIS2DW12", "i2c1", 0x44, 0x19, 14, {2: 244, 4: 488, 8: 976, 16: 1952}, 90.0,
               (1.6, 12.5, 25, 50, 100, 200, 400, 800, 1600), "tinyml_disco.sim.periph.lis2dw12:Lis2dw12"),
)}
NONE = "none"  # a board with no accelerometer fitted
KEYS: tuple[str, ...] = (*REGISTRY, NONE)
BOOT_NAMES: tuple[str, ...] = (*(s.boot_name for s in REGISTRY.values()), NONE)
