"""Golden files for everything the Renode backend generates (overlays, monitor script, boot keyword sequence).

These pin the text Renode parses (tests/test_renode_differential.py and the Renode suites run it on a real
Renode). To accept a deliberate change, run once with UPDATE_GOLDEN=1 (which writes the files and fails),
review the diff of tests/golden/renode/, then run again.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tinyml_disco.sim.renode import platform
from tinyml_disco.sim.renode.backend import SENSORS, RenodeFiles, boot_keywords

GOLDEN = Path(__file__).parent / "golden" / "renode"
FAKE_ROOT = Path("/ROOT")  # stands for wherever the repository lives


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
        pytest.fail(f"wrote {path}: review the diff, then run again without UPDATE_GOLDEN")
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 once and review it"
    assert text == path.read_text(), f"{name} differs from its golden file; UPDATE_GOLDEN=1 to accept"


def _files() -> RenodeFiles:
    return RenodeFiles(
        elf=FAKE_ROOT / "build/mlp/firmware/firmware.elf",
        overlay=FAKE_ROOT / "sim/renode/stm32f4_discovery_tinyml.repl",
        no_sensor_overlay=FAKE_ROOT / "sim/renode/stm32f4_discovery_tinyml_nosensor.repl",
        lis3dsh_model=FAKE_ROOT / "sim/renode/LIS3DSH.cs",
        lis3dsh_overlay=FAKE_ROOT / "sim/renode/lis3dsh_spi1.repl",
        models=tuple(FAKE_ROOT / "sim/renode" / model.name for model in platform.MODEL_FILES),
    )


def test_overlays_match_golden() -> None:
    _check_golden("stm32f4_discovery_tinyml.repl", platform.overlay_text())
    _check_golden("stm32f4_discovery_tinyml_nosensor.repl", platform.overlay_text(lis2dw12=False))
    _check_golden("lis3dsh_spi1.repl", platform.lis3dsh_overlay_text())


def test_scripts_match_golden() -> None:
    _check_golden("tinyml_disco.resc", platform.resc_text(platform.default_script_paths(FAKE_ROOT)))
    paths = platform.ScriptPaths(elf="/ROOT/fw.elf", overlay="/ROOT/o.repl", lis3dsh_model="/ROOT/LIS3DSH.cs",
                                 lis3dsh_overlay="/ROOT/l.repl", uart_log="/ROOT/uart.txt")
    _check_golden("tinyml_disco_lis3dsh.resc", platform.resc_text(paths, sensor="lis3dsh"))


@pytest.mark.parametrize("sensor", SENSORS)
def test_boot_keywords_match_golden(sensor: str) -> None:
    text = "\n".join(kw.render() for kw in boot_keywords(_files(), sensor)) + "\n"
    _check_golden(f"boot_{sensor}.robotcalls", text)


def test_shipped_files_are_what_the_generator_writes() -> None:
    for path, text in platform.shipped_files().items():
        assert path.read_text() == text, f"{path} is stale: run `python -m tinyml_disco.sim.renode.platform`"


def test_overlay_has_the_required_parts() -> None:
    text = platform.overlay_text()
    assert text.startswith("// ") and 'using "platforms/boards/stm32f4_discovery-kit.repl"' in text
    assert re.search(r"^ccm: Memory\.MappedMemory @ sysbus 0x10000000\n    size: 0x10000$", text, re.M)
    assert re.search(r"^dwt: Miscellaneous\.TinymlDWT @ sysbus 0xE0001000\n    cpu: cpu$", text, re.M)
    assert re.search(r"^nvic:\n    systickFrequency: 21000000$", text, re.M)
    assert re.search(r"^cpu:\n    PerformanceInMips: 168\n    MaximumBlockSize: 1$", text, re.M)
    assert re.search(r"^i2c1: @ none$", text, re.M)
    assert re.search(r"^i2c1_master: I2C\.TinymlSTM32F4_I2C @ sysbus 0x40005400\n", text, re.M)
    assert re.search(r"^lis2dw12: Sensors\.LIS2DW12 @ i2c1_master 0x19\n    Interrupt1 -> gpioPortE@0$", text, re.M)
    assert re.search(r"^syscfg: Miscellaneous\.TinymlSTM32F4_SYSCFG @ sysbus 0x40013800\n", text, re.M)
    # every pin of every port reaches the EXTI through the SYSCFG multiplexer, and the board's LEDs stay wired
    for port in platform.GPIO_PORTS:
        block = re.search(rf"^gpioPort{port}:\n((?:    .*\n)+)", text, re.M)
        assert block is not None, port
        pins = set()
        for first, last in re.findall(r"\[(\d+)-(\d+)\] -> syscfg", block.group(1)):
            pins |= set(range(int(first), int(last) + 1))
        pins |= {int(p) for p in re.findall(r"^    (\d+) -> .*syscfg@", block.group(1), re.M)}
        assert pins == set(range(16)), (port, sorted(pins))
    assert "12 -> UserLED@0 | syscfg@60" in text and "15 -> led_blue@0 | syscfg@63" in text
    # The network-bound ApplySVD of the CPU platform is replaced, not appended to.
    code = [line for line in text.splitlines() if not line.lstrip().startswith("//")]
    assert not any("ApplySVD" in line or "init add" in line for line in code)
    assert re.search(r"^sysbus:\n    init:\n        Tag ", text, re.M)
    no_sensor = [line for line in platform.overlay_text(lis2dw12=False).splitlines() if not line.startswith("//")]
    assert not any("lis2dw12" in line.lower() for line in no_sensor)


def test_repl_indentation_is_four_spaces() -> None:
    # renode-docs platform_description_format: spaces only, multiples of four.
    for text in (platform.overlay_text(), platform.overlay_text(False), platform.lis3dsh_overlay_text()):
        for line in text.splitlines():
            indent = len(line) - len(line.lstrip(" "))
            assert "\t" not in line and indent % 4 == 0, line


def test_peripherals_named_in_commands_are_declared() -> None:
    text = platform.overlay_text() + platform.lis3dsh_overlay_text()
    for dotted in (platform.LIS2DW12, platform.LIS3DSH, *platform.LED_PERIPHERALS[1:]):
        assert re.search(rf"^{dotted.rsplit('.', 1)[1]}: ", text, re.M), dotted
    assert platform.LED_PERIPHERALS[0] == "sysbus.gpioPortD.UserLED"  # declared by stm32f4_discovery.repl


def test_paths_with_whitespace_are_refused() -> None:
    with pytest.raises(ValueError, match="whitespace"):
        boot_keywords(RenodeFiles(elf=Path("/my dir/fw.elf")), "lis2dw12")
    with pytest.raises(ValueError, match="sensor must be one of"):
        boot_keywords(_files(), "bmi160")
