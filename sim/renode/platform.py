"""Text Renode parses: the platform overlay (.repl), the LIS3DSH overlay and the monitor script (.resc).

Every name was checked against Renode's sources (renode/renode, renode/renode-infrastructure):
- platforms/boards/stm32f4_discovery-kit.repl -> stm32f4_discovery.repl -> platforms/cpus/stm32f4.repl declares
  nvic (IRQControllers.NVIC, ctor `systickFrequency`, 72 MHz there), cpu (CPU.CortexM), i2c1, spi1, usart2,
  gpioPortA..K ([0-15] -> exti), and a `sysbus` `init:` that runs `ApplySVD @https://...` (needs network).
- Miscellaneous.DWT(IMachine machine, uint frequency): cycle counter ticking at `frequency` in virtual time.
- Sensors.LIS2DW12 (II2CPeripheral, IUnderstandRESD): GPIO `Interrupt1`/`Interrupt2`,
  FeedAccelerationSample(x, y, z[, repeat]) in g, FeedAccelerationSamplesFromRESD(path, channel=0, ...).
- renode-docs advanced/platform_description_format.md: a later `init:` replaces the earlier one (`init add:`
  would append), a later attribute overrides, `source -> none` cancels an interrupt connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BASE_PLATFORM = "platforms/boards/stm32f4_discovery-kit.repl"
CPU_HZ = 168_000_000
MIPS = CPU_HZ // 1_000_000
SYSTICK_HZ = CPU_HZ // 8  # SysTick CLKSOURCE=0 (HCLK/8), what the firmware selects (firmware/src/systick.c)
MACHINE_NAME = "tinyml-disco"
# Let virtual time jump over idle periods (WFI) instead of following wall time: a 1.28 s window of sensor
# data then takes a fraction of a second. Results do not change; only wall time does.
# A 1 ms global quantum (time synchronisation interval) makes that ~6x faster again (measured: 0.9 -> 5.4
# windows/s on the LIS3DSH path); PRED/OUT lines and cycles are unchanged because the firmware holds
# interrupts off while it times an inference.
# Measured with the tickless FIFO firmware (mlp, LIS3DSH, 20 windows; Renode CPU per window): advance-immediately off
# runs about real time (1.3 windows/s); on, a 1 ms quantum costs 179 ms per window, 0.1 s 111 ms, 1 s 83 ms.
# The suites and tests keep 1 ms: a pause after a UART line is taken at a quantum boundary, and with 0.1 s one CI
# rehearsal lost the reply to a command (a 50 ms virtual drain wait ended at the boundary before the line) and one
# pytest run saw the 210 ms sensor deadline pass before the pause (LEDs off after a PRED). The bench's streamed
# measurement (no pause per line) uses 0.1 s: BENCH_EMULATION_SETTINGS. DWT cycles stay exact (MaximumBlockSize 1).
EMULATION_SETTINGS = ("emulation SetGlobalAdvanceImmediately true", 'emulation SetGlobalQuantum "0.001"')
BENCH_EMULATION_SETTINGS = ("emulation SetGlobalAdvanceImmediately true", 'emulation SetGlobalQuantum "0.1"')
# The free-running board on a pty or GDB (sim/renode/live.py) keeps the 1 ms quantum: it streams its RESD feed
# without pauses, and a faster-than-needed board floods a serial monitor that a person (or test) reads live.
LIVE_EMULATION_SETTINGS = ("emulation SetGlobalAdvanceImmediately true", 'emulation SetGlobalQuantum "0.001"')
UART = "sysbus.usart2"
I2C1 = "i2c1_master"  # the RM0090 I2C master that stands in for 1.15.3's i2c1 (TinymlSTM32F4_I2C.cs)
I2C_MODEL_TYPE = "TinymlSTM32F4_I2C"
SYSCFG_MODEL_TYPE = "TinymlSTM32F4_SYSCFG"
DWT_MODEL_TYPE = "TinymlDWT"
LIS2DW12 = f"sysbus.{I2C1}.lis2dw12"
LIS2DW12_I2C_ADDRESS = 0x19
LIS3DSH = "sysbus.spi1.lis3dsh"
LIS3DSH_TYPE = "Sensors.TinymlLIS3DSH"  # declared in LIS3DSH.cs (not an upstream Renode type)
LED_NAMES = ("green", "orange", "red", "blue")  # PD12..PD15
LED_PERIPHERALS = ("sysbus.gpioPortD.UserLED", "sysbus.gpioPortD.led_orange", "sysbus.gpioPortD.led_red",
                   "sysbus.gpioPortD.led_blue")

HERE = Path(__file__).resolve().parent
OVERLAY_FILE = HERE / "stm32f4_discovery_tinyml.repl"
NO_SENSOR_OVERLAY_FILE = HERE / "stm32f4_discovery_tinyml_nosensor.repl"
LIS3DSH_OVERLAY_FILE = HERE / "lis3dsh_spi1.repl"
LIS3DSH_MODEL_FILE = HERE / "LIS3DSH.cs"
I2C_MODEL_FILE = HERE / f"{I2C_MODEL_TYPE}.cs"
SYSCFG_MODEL_FILE = HERE / f"{SYSCFG_MODEL_TYPE}.cs"
DWT_MODEL_FILE = HERE / f"{DWT_MODEL_TYPE}.cs"
# C# models every board variant needs, compiled by Renode at run time before the overlay is loaded.
MODEL_FILES = (I2C_MODEL_FILE, SYSCFG_MODEL_FILE, DWT_MODEL_FILE)
# GPIO ports of 1.15.3's stm32f4.repl, and the board files' own pin targets that the EXTI rewiring must keep.
GPIO_PORTS = ("A", "B", "C", "D", "E", "F")
BOARD_PIN_TARGETS = {("A", 5): "externalLed@0", ("D", 12): "UserLED@0"}
RESC_FILE = HERE / "tinyml_disco.resc"


def _exti_mux_wiring(extra: dict[tuple[str, int], str]) -> str:
    """Every GPIO pin to the SYSCFG multiplexer input 16 * port + pin; `extra` keeps a pin's other targets."""
    blocks = []
    for p, port in enumerate(GPIO_PORTS):
        lines = [f"gpioPort{port}:"]
        run_start = None
        for pin in range(17):
            other = extra.get((port, pin)) if pin < 16 else None
            if pin < 16 and other is None:
                run_start = pin if run_start is None else run_start
                continue
            if run_start is not None:
                last = pin - 1
                lines.append(f"    [{run_start}-{last}] -> syscfg@[{16 * p + run_start}-{16 * p + last}]"
                             if last > run_start else f"    {run_start} -> syscfg@{16 * p + run_start}")
                run_start = None
            if other is not None:
                lines.append(f"    {pin} -> {other} | syscfg@{16 * p + pin}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def overlay_text(lis2dw12: bool = True) -> str:
    """The board as the firmware expects it, on top of Renode's STM32F4 Discovery kit (lis2dw12=False: no sensor).

    Needs the C# models in MODEL_FILES included first (`include @file.cs`).
    """
    # Upstream registers LEDs on the port with no registration point and wires pins to them (UserLED on PD12).
    extra_leds = [(13 + i, name) for i, name in enumerate(LED_NAMES[1:])]
    leds = "".join(f"led_{name}: Miscellaneous.LED @ gpioPortD\n\n" for _, name in extra_leds)
    pin_targets = dict(BOARD_PIN_TARGETS)
    pin_targets.update({("D", pin): f"led_{name}@0" for pin, name in extra_leds})
    sensor = f"""\
// Upstream's LIS2DW12 model is I2C-only, so it sits on I2C1 (PB6/PB9) behind the corrected controller; INT1 to
// PE0 -> EXTI0 like the board's accelerometer. The firmware probes SPI1 first, then I2C1.
lis2dw12: Sensors.LIS2DW12 @ {I2C1} 0x{LIS2DW12_I2C_ADDRESS:02X}
    Interrupt1 -> gpioPortE@0

""" if lis2dw12 else "// No accelerometer on this variant: the firmware reports ERR code=no_sensor.\n\n"
    return f"""\
// tinyml-disco: STM32F4 Discovery (STM32F407VG) as the firmware uses it. Generated by sim/renode/platform.py;
// tests/test_renode_platform.py keeps this file and tests/golden/renode/ in step with the generator.
// Include {", ".join(p.name for p in MODEL_FILES)} (`include @file.cs`) before loading it.
using "{BASE_PLATFORM}"

// 64 KB core-coupled memory (the base platform has none).
ccm: Memory.MappedMemory @ sysbus 0x10000000
    size: 0x10000

// DWT: 1.15.3's Miscellaneous.DWT counts virtual time, which moves once per execution quantum (an inference
// read cycles=0). {DWT_MODEL_FILE.name} counts retired instructions, as the embedded board does while awake.
dwt: Miscellaneous.{DWT_MODEL_TYPE} @ sysbus 0xE0001000
    cpu: cpu

// SysTick from HCLK/8 after the firmware's PLL setup: the firmware selects CLKSOURCE=0 (a tickless sensor
// deadline longer than 24 bits of core clock allow); 1.15.3's NVIC always counts at systickFrequency.
nvic:
    systickFrequency: {SYSTICK_HZ}

// One instruction per translation block: tlib counts a block's instructions when it starts, so only then is the
// retired-instruction count exact at every access (the DWT below reads it). Costs speed, not correctness.
cpu:
    PerformanceInMips: {MIPS}
    MaximumBlockSize: 1

// I2C1: Renode 1.15.3's STM32F4_I2C never ends a transaction at STOP (FinishTransmission) and reads one byte
// per address phase, so register writes to an I2C sensor land on the first register. The RM0090 master in
// {I2C_MODEL_FILE.name} takes its place at the same address and interrupts (a .repl cannot retype i2c1).
i2c1: @ none

{I2C1}: I2C.{I2C_MODEL_TYPE} @ sysbus 0x40005400
    EventInterrupt -> nvic@31
    ErrorInterrupt -> nvic@32

{sensor}// SYSCFG (absent from 1.15.3's stm32f4.repl) with the EXTI line multiplexer: EXTICR picks the port for each
// EXTI line, as on the chip. The CPU platform wires pin n of every port straight to EXTI line n; here every pin
// goes through the multiplexer instead (input 16 * port + pin), keeping the board's own pin targets.
syscfg: Miscellaneous.{SYSCFG_MODEL_TYPE} @ sysbus 0x40013800
    numberOfPorts: {len(GPIO_PORTS)}
    [0-15] -> exti@[0-15]

// The other three user LEDs (the base platform models only PD12, as UserLED: green).
{leds}{_exti_mux_wiring(pin_targets)}
// The CPU platform's sysbus init runs `ApplySVD @https://...`, which needs the network and makes
// LoadPlatformDescription fail offline. `init:` here replaces that block (SVD only names registers in logs).
sysbus:
    init:
        Tag <0x50000010, 0x5000003f> "USB:RESET" 0x80000000
"""


def lis3dsh_overlay_text() -> str:
    """The MB997D wiring: a LIS3DSH on SPI1 with chip select PE3 and INT1 on PE0. Needs LIS3DSH.cs included."""
    return f"""\
// tinyml-disco: LIS3DSH on SPI1 as on the MB997D board. Load after stm32f4_discovery_tinyml.repl and after
// `include @LIS3DSH.cs` (Renode compiles the model at run time). Generated by sim/renode/platform.py.
lis3dsh: {LIS3DSH_TYPE} @ spi1
    Interrupt1 -> gpioPortE@0

// Chip select: the MCU drives PE3 as an output; the model watches it (STM32SPI has no chip-select lines).
// Keep the pin's EXTI multiplexer input (16 * 4 + 3, see the main overlay) and add the model.
gpioPortE:
    3 -> syscfg@{16 * GPIO_PORTS.index("E") + 3} | lis3dsh@0

// Only one device drives PE0: the firmware finds the LIS3DSH first, so the I2C sensor's INT1 is cut.
lis2dw12:
    Interrupt1 -> none
"""


@dataclass(frozen=True)
class ScriptPaths:
    """Paths the monitor script refers to; None keeps the script's `$var ?=` default."""

    elf: str
    overlay: str
    models: str = "sim/renode"  # the folder holding MODEL_FILES
    resd: str | None = None
    lis3dsh_model: str | None = None
    lis3dsh_overlay: str | None = None
    uart_log: str | None = None


def _renode_path(path: str) -> str:
    # Renode's @path token ends at whitespace; refuse rather than produce a script that breaks later.
    if any(ch.isspace() for ch in path):
        raise ValueError(f"Renode paths cannot contain whitespace: {path!r}; move the file to a path without spaces")
    return "@" + path


def resc_text(paths: ScriptPaths, sensor: str = "lis2dw12") -> str:
    """A monitor script a user runs by hand: `renode tinyml_disco.resc`, then `start`.

    Relative paths resolve against Renode's working directory (run it from the repository root).
    """
    if sensor not in ("lis2dw12", "lis3dsh"):
        raise ValueError(f"sensor must be lis2dw12 or lis3dsh, got {sensor!r}")
    lines = [
        f":name: {MACHINE_NAME}",
        ":description: Gesture-recognition firmware on the STM32F4 Discovery; samples fed from a RESD file.",
        "",
        f"$elf?={_renode_path(paths.elf)}",
        f"$repl?={_renode_path(paths.overlay)}",
        f"$models?={_renode_path(paths.models)}",
    ]
    if paths.resd:
        lines.append(f"$resd?={_renode_path(paths.resd)}")
    if sensor == "lis3dsh":
        if not (paths.lis3dsh_model and paths.lis3dsh_overlay):
            raise ValueError("sensor lis3dsh needs the LIS3DSH.cs model and its overlay paths")
        lines += [f"$lis3dsh_cs?={_renode_path(paths.lis3dsh_model)}",
                  f"$lis3dsh_repl?={_renode_path(paths.lis3dsh_overlay)}"]
    lines += ["", *EMULATION_SETTINGS, f'mach create "{MACHINE_NAME}"',
              "# The overlay's own C# models (an RM0090 I2C master, SYSCFG with the EXTI multiplexer, an exact DWT).",
              *(f"include $models/{model.name}" for model in MODEL_FILES)]
    if sensor == "lis3dsh":
        lines.append("include $lis3dsh_cs")
    lines.append("machine LoadPlatformDescription $repl")
    if sensor == "lis3dsh":
        lines.append("machine LoadPlatformDescription $lis3dsh_repl")
    lines += [
        "",
        "# Measured on Renode 1.15.3: the monitor form below works; the overlay sets the same property.",
        f"sysbus.cpu PerformanceInMips {MIPS}",
        "",
    ]
    if paths.uart_log:
        lines.append(f"{UART} CreateFileBackend {_renode_path(paths.uart_log)} true")
    else:
        lines.append(f"showAnalyzer {UART}")
    if paths.resd and sensor == "lis2dw12":
        lines += ["",
                  "# MultiFrequency: the stream starts when the firmware sets the sensor's output data rate and",
                  "# follows it (the Normal type starts at the current rate, 0 before the firmware runs: Renode",
                  "# 1.15.3 then dies with a DivideByZeroException). After the last sample the model repeats it.",
                  f"{LIS2DW12} FeedAccelerationSamplesFromRESD $resd 0 0 Specified 0 MultiFrequency"]
    lines += ["", "macro reset", '"""', "    sysbus LoadELF $elf", '"""', "runMacro $reset", ""]
    return "\n".join(lines)


def default_script_paths(repo: Path, model: str = "mlp") -> ScriptPaths:
    """The shipped script's defaults: paths relative to the repository root (run `renode` from there)."""
    del repo  # relative on purpose, so the shipped file does not depend on where the repo was cloned
    return ScriptPaths(
        elf=f"build/{model}/firmware/firmware.elf",
        overlay="sim/renode/stm32f4_discovery_tinyml.repl",
        resd=f"build/{model}/data/device_windows.resd",
    )


def shipped_files() -> dict[Path, str]:
    """The files under sim/renode/ that are generated (regenerate with `python -m tinyml_disco.sim.renode.platform`)."""
    repo = HERE.parent.parent  # sim/renode -> the repository root
    return {
        OVERLAY_FILE: overlay_text(),
        NO_SENSOR_OVERLAY_FILE: overlay_text(lis2dw12=False),
        LIS3DSH_OVERLAY_FILE: lis3dsh_overlay_text(),
        RESC_FILE: resc_text(default_script_paths(repo)),
    }


def main() -> None:
    for path, text in shipped_files().items():
        path.write_text(text)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
