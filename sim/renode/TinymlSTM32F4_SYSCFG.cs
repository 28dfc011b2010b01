//
// tinyml-disco: STM32F4 SYSCFG (RM0090 section 9) for Renode 1.15.3, with the EXTI line multiplexer.
// Load with `include @TinymlSTM32F4_SYSCFG.cs` before a platform that declares
// `syscfg: Miscellaneous.TinymlSTM32F4_SYSCFG @ sysbus 0x40013800` (see stm32f4_discovery_tinyml.repl).
//
// Why it exists: 1.15.3's stm32f4.repl has no SYSCFG (0x40013800 is a "non existing peripheral") and wires
// pin n of every GPIO port straight to EXTI line n, so EXTI0 sees PA0 (user button) and PE0 (accelerometer
// INT1) alike. Here every port's pins come in as inputs (port p, pin n = input 16 * p + n) and EXTICR1..4
// choose, per EXTI line 0..15, which port drives output n (reset: port A), as on the chip.
// MEMRMP, PMC and CMPCR are kept as plain registers (remapping and the compensation cell are not modelled;
// CMPCR.READY reads 1 once CMP_PD is set, so firmware that waits for it goes on).
//
using System;
using System.Collections.Generic;
using Antmicro.Renode.Core;
using Antmicro.Renode.Logging;
using Antmicro.Renode.Peripherals.Bus;

namespace Antmicro.Renode.Peripherals.Miscellaneous
{
    public class TinymlSTM32F4_SYSCFG : IDoubleWordPeripheral, IKnownSize, IGPIOReceiver, INumberedGPIOOutput
    {
        public TinymlSTM32F4_SYSCFG(IMachine machine, int numberOfPorts = 9)
        {
            ports = numberOfPorts;
            inputs = new bool[16 * ports];
            exticr = new uint[4];
            var connections = new Dictionary<int, IGPIO>();
            for(var line = 0; line < 16; line++)
            {
                connections[line] = new GPIO();
            }
            Connections = connections;
            Reset();
        }

        public IReadOnlyDictionary<int, IGPIO> Connections { get; }

        public long Size => 0x400;

        public void Reset()
        {
            memrmp = 0;
            pmc = 0;
            cmpcr = 0;
            Array.Clear(exticr, 0, exticr.Length);
            Array.Clear(inputs, 0, inputs.Length);
            for(var line = 0; line < 16; line++)
            {
                Connections[line].Set(false);
            }
        }

        public void OnGPIO(int number, bool value)
        {
            if(number < 0 || number >= inputs.Length)
            {
                this.Log(LogLevel.Warning, "GPIO input {0} is out of range (ports A..{1})", number, (char)('A' + ports - 1));
                return;
            }
            inputs[number] = value;
            var line = number % 16;
            if(number / 16 == SelectedPort(line))
            {
                Connections[line].Set(value);
            }
        }

        public uint ReadDoubleWord(long offset)
        {
            switch(offset)
            {
            case MemoryRemap:
                return memrmp;
            case PeripheralModeConfiguration:
                return pmc;
            case ExtiConfiguration1:
            case ExtiConfiguration1 + 4:
            case ExtiConfiguration1 + 8:
            case ExtiConfiguration1 + 12:
                return exticr[(offset - ExtiConfiguration1) / 4];
            case CompensationCell:
                return cmpcr | ((cmpcr & 1u) << 8); // READY follows CMP_PD
            default:
                this.Log(LogLevel.Warning, "Read from a reserved offset 0x{0:X}", offset);
                return 0;
            }
        }

        public void WriteDoubleWord(long offset, uint value)
        {
            switch(offset)
            {
            case MemoryRemap:
                memrmp = value & 0x7;
                break;
            case PeripheralModeConfiguration:
                pmc = value & (1u << 23);
                break;
            case ExtiConfiguration1:
            case ExtiConfiguration1 + 4:
            case ExtiConfiguration1 + 8:
            case ExtiConfiguration1 + 12:
                exticr[(offset - ExtiConfiguration1) / 4] = value & 0xFFFF;
                RouteAll();
                break;
            case CompensationCell:
                cmpcr = value & 1u;
                break;
            default:
                this.Log(LogLevel.Warning, "Write of 0x{0:X} to a reserved offset 0x{1:X}", value, offset);
                break;
            }
        }

        private int SelectedPort(int line)
        {
            return (int)((exticr[line / 4] >> (4 * (line % 4))) & 0xF);
        }

        private void RouteAll()
        {
            for(var line = 0; line < 16; line++)
            {
                var port = SelectedPort(line);
                var value = port < ports && inputs[16 * port + line];
                Connections[line].Set(value);
            }
        }

        private readonly int ports;
        private readonly bool[] inputs;
        private readonly uint[] exticr;
        private uint memrmp, pmc, cmpcr;

        private const long MemoryRemap = 0x00;
        private const long PeripheralModeConfiguration = 0x04;
        private const long ExtiConfiguration1 = 0x08;
        private const long CompensationCell = 0x20;
    }
}
