"""The sensor registry (sim/sensors.py) is the one table of sensor facts; the other copies are tied to it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tinyml_disco.sim import protocol, sensors
from tinyml_disco.sim.board import SENSORS
from tinyml_disco.training import synth

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("info", list(sensors.REGISTRY.values()), ids=lambda s: s.key)
def test_generator_tables_match_the_registry(info: sensors.SensorInfo) -> None:
    assert synth.SENSITIVITY_UG[info.boot_name] == dict(info.sensitivity_ug)
    assert synth.OUTPUT_BITS[info.boot_name] == info.output_bits
    assert synth.NOISE_DENSITY_UG[info.boot_name] == info.noise_density_ug
    assert tuple(synth.ODR_HZ[info.boot_name]) == info.odr_hz


@pytest.mark.parametrize("info", list(sensors.REGISTRY.values()), ids=lambda s: s.key)
def test_models_and_firmware_match_the_registry(info: sensors.SensorInfo) -> None:
    module = __import__(info.model.partition(":")[0], fromlist=["WHO_AM_I_VALUE"])
    assert module.WHO_AM_I_VALUE == info.who_am_i
    header = (REPO / "firmware/include" / f"{info.key}.h").read_text()
    value = re.search(rf"#define {info.boot_name}_WHO_AM_I_VALUE (0x[0-9A-Fa-f]+)u", header)
    assert value is not None and int(value.group(1), 16) == info.who_am_i
    if info.i2c_address is not None:
        assert module.ADDRESS_SA0_HIGH == info.i2c_address
    assert info.model_class().name == info.boot_name


def test_board_and_protocol_read_the_registry() -> None:
    assert SENSORS == sensors.KEYS
    for name in sensors.BOOT_NAMES:
        boot = protocol.parse_boot(f"BOOT fw=0.1.0 model=mlp sensor={name} bus=spi1 clock_hz=168000000")
        assert boot is not None and boot.sensor == name
