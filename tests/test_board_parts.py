"""Board parts: declared registers report unmodelled bits once; the event scheduler takes registered sources."""

from __future__ import annotations

from tinyml_disco.sim.periph.flash import KEYR, FlashInterface
from tinyml_disco.sim.periph.pwr import CR, CSR, VOSRDY, Pwr
from tinyml_disco.sim.periph.registers import DeclaredPeripheral, Field, Register
from tinyml_disco.sim.scheduler import Scheduler


class _Demo(DeclaredPeripheral):
    NAME = "DEMO"
    REGISTERS = (Register(0x0, "CTRL", (Field("EN", 0), Field("MODE", 4, 2), Field("BUSY", 8, writable=False)), 0x100),)


def test_unmodelled_bits_are_stored_and_reported_once() -> None:
    seen: list[str] = []
    p = _Demo(report=seen.append)
    p.write_reg(0x0, 0x31, 0xFFFF_FFFF)  # EN + MODE: all declared
    assert seen == [] and p.read_reg(0x0) == 0x131  # BUSY keeps its reset value
    p.write_reg(0x0, 0x8000_0001, 0xFFFF_FFFF)
    p.write_reg(0x0, 0x8000_0001, 0xFFFF_FFFF)
    assert len(seen) == 1 and "CTRL" in seen[0] and "0x80000000" in seen[0]
    assert p.read_reg(0x0) == 0x8000_0101  # stored as before, not dropped
    p.write_reg(0x0, 0x0, 0xFFFF_FFFF)
    assert p.read_reg(0x0) == 0x100  # the read-only field ignores writes


def test_undeclared_register_is_reported_once_and_kept() -> None:
    seen: list[str] = []
    p = _Demo(report=seen.append)
    p.write_reg(0x8, 5, 0xFF)
    p.write_reg(0x8, 6, 0xFF)
    assert len(seen) == 1 and "0x008" in seen[0] and p.read_reg(0x8) == 6


def test_pwr_and_flash_keep_their_register_semantics() -> None:
    seen: list[str] = []
    pwr = Pwr(report=seen.append)
    assert pwr.read_reg(CR) == 0x4000 and pwr.read_reg(CSR) == VOSRDY
    pwr.write_reg(CSR, 0x300, 0xFFFF_FFFF)
    assert pwr.read_reg(CSR) == 0x300 | VOSRDY
    pwr.write_reg(CSR, 0, 0xFFFF_FFFF)
    assert pwr.read_reg(CSR) == VOSRDY  # VOSRDY is read-only and set
    flash = FlashInterface(report=seen.append)
    flash.write_reg(KEYR, 0x4567_0123, 0xFFFF_FFFF)
    assert flash.read_reg(KEYR) == 0 and seen == []


class _Source:
    def __init__(self, times: list[int], refire: bool = False) -> None:
        self.times = times
        self.refire = refire
        self.log: list[int] = []

    def next_event(self) -> int | None:
        return self.times[0] if self.times else None

    def advance(self, until: int) -> bool:
        fired = False
        while self.times and self.times[0] <= until:
            self.log.append(self.times.pop(0))
            fired = self.refire
        return fired


def test_scheduler_takes_the_earliest_source_and_advances_all() -> None:
    s = Scheduler()
    a, b = _Source([30, 90]), _Source([10, 50], refire=True)
    assert s.next_event() is None
    s.register(a)
    s.register(b)
    assert s.next_event() == 10
    assert s.advance(40) is True  # b fired and asked to be asked again
    assert a.log == [30] and b.log == [10]
    assert s.next_event() == 50
    assert s.advance(60) is True and s.advance(100) is False
    assert a.log == [30, 90] and b.log == [10, 50]


def test_soc_map_matches_the_firmware_header() -> None:
    """sim/stm32f407.py and firmware/include/stm32f407.h name the same base for every block both know."""
    import re
    from pathlib import Path

    from tinyml_disco.sim.stm32f407 import BLOCKS

    header = (Path(__file__).resolve().parents[1] / "firmware/include/stm32f407.h").read_text()
    bases = {m.group(1): int(m.group(2), 16) for m in re.finditer(r"#define (\w+)_BASE\s+(0x[0-9A-Fa-f]+)u", header)}
    shared = sorted(set(bases) & set(BLOCKS))
    assert len(shared) >= 8, shared  # RCC, PWR, GPIOA/B/D/E, USART2, SPI1, I2C1
    assert {n: bases[n] for n in shared} == {n: BLOCKS[n].base for n in shared}


def test_register_offsets_match_the_firmware_header() -> None:
    """Every register the firmware header defines and a peripheral model names has the same offset in both."""
    import importlib
    import re
    from pathlib import Path

    from tinyml_disco.sim.stm32f407 import BLOCKS

    header = (Path(__file__).resolve().parents[1] / "firmware/include/stm32f407.h").read_text()
    module_of = {"RCC": "rcc", "USART2": "usart", "SPI1": "spi", "I2C1": "i2c", "PWR": "pwr", "FLASH": "flash",
                 "GPIO": "gpio", "EXTI": "exti", "SYSCFG": "exti", "SCB": "scs", "SYST": "scs", "NVIC": "scs",
                 "COREDEBUG": "scs", "DWT": "dwt"}
    block_of = {"SCB": "SCS", "SYST": "SCS", "NVIC": "SCS", "COREDEBUG": "SCS"}
    alias = {("SYST", "CSR"): "STK_CTRL", ("SYST", "RVR"): "STK_LOAD", ("SYST", "CVR"): "STK_VAL"}
    found: list[tuple[str, str, int]] = []  # (prefix, register, offset in its block)
    for m in re.finditer(r"#define ([A-Z0-9]+)_([A-Z0-9]+)(?:\(\w+\))?\s+REG32\((.+)\)\n", header):
        prefix, reg, expr = m.groups()
        rel = re.fullmatch(r"\(?\w+\)? \+ (0x[0-9A-Fa-f]+)u", expr)
        absolute = re.fullmatch(r"(0x[0-9A-Fa-f]+)u(?: \+ .*)?", expr)
        if rel:
            found.append((prefix, reg, int(rel.group(1), 16)))
        elif absolute:
            found.append((prefix, reg, int(absolute.group(1), 16) - BLOCKS[block_of.get(prefix, prefix)].base))
    checked = 0
    for prefix, reg, offset in found:
        module = importlib.import_module(f"tinyml_disco.sim.periph.{module_of[prefix]}")
        name = alias.get((prefix, reg), reg)
        if hasattr(module, name):
            assert getattr(module, name) == offset, (prefix, reg, hex(offset))
            checked += 1
    assert checked >= 30, checked
