//
// tinyml-disco: the DWT cycle counter (ARMv7-M ARM C1.8) for Renode 1.15.3, counting retired instructions.
// Load with `include @TinymlDWT.cs` before a platform that declares
// `dwt: Miscellaneous.TinymlDWT @ sysbus 0xE0001000` with `cpu: cpu` (see stm32f4_discovery_tinyml.repl).
//
// Why it exists: 1.15.3's Miscellaneous.DWT derives CYCCNT from the machine's virtual time, which advances
// once per execution quantum, so a counter read before and after a 2,000-instruction inference usually shows
// no difference (the firmware printed cycles=0). Here CYCCNT is the CPU's retired-instruction count since
// the counter was last written, which is what the embedded board reports while the core is awake (one
// instruction per cycle at PerformanceInMips = core MHz). Time asleep in WFI is not counted; the firmware
// only times code that does not sleep. CTRL.CYCCNTENA starts and stops the counter.
// tlib adds a translation block's instructions to ExecutedInstructions when the block starts, so the count is
// exact at an access only with `cpu MaximumBlockSize 1` (the platform sets it; measured with
// tests/fixtures/board/cyccnt.S: 6, 9 and 301 instructions as on the embedded board, 0, 21 and 0 without).
//
using System;
using Antmicro.Renode.Core;
using Antmicro.Renode.Logging;
using Antmicro.Renode.Peripherals.Bus;
using Antmicro.Renode.Peripherals.CPU;

namespace Antmicro.Renode.Peripherals.Miscellaneous
{
    public class TinymlDWT : IDoubleWordPeripheral, IKnownSize
    {
        public TinymlDWT(IMachine machine, ICPU cpu)
        {
            this.cpu = cpu;
            Reset();
        }

        public long Size => 0x1000;

        public void Reset()
        {
            control = ControlResetValue;
            stoppedCount = 0;
            origin = 0;
        }

        public uint ReadDoubleWord(long offset)
        {
            switch(offset)
            {
            case Control:
                return control;
            case CycleCount:
                return Count();
            default:
                this.Log(LogLevel.Debug, "Read from unmodelled DWT offset 0x{0:X}", offset);
                return 0;
            }
        }

        public void WriteDoubleWord(long offset, uint value)
        {
            switch(offset)
            {
            case Control:
                var wasRunning = Running;
                var count = Count();
                control = (control & ~ControlWritable) | (value & ControlWritable);
                if(wasRunning != Running)
                {
                    SetCount(count);
                }
                break;
            case CycleCount:
                SetCount(value);
                break;
            default:
                this.Log(LogLevel.Debug, "Write of 0x{0:X} to unmodelled DWT offset 0x{1:X}", value, offset);
                break;
            }
        }

        private bool Running => (control & ControlCycleCountEnable) != 0;

        // With MaximumBlockSize 1, ExecutedInstructions includes the instruction doing this access: a read sees the
        // instructions retired before it, and a write makes the next instruction read `value`.
        private uint Count()
        {
            return Running ? (uint)(cpu.ExecutedInstructions - 1 - origin) : stoppedCount;
        }

        private void SetCount(uint value)
        {
            stoppedCount = value;
            origin = cpu.ExecutedInstructions - value;
        }

        private readonly ICPU cpu;
        private uint control;
        private uint stoppedCount;
        private ulong origin;

        private const long Control = 0x0;
        private const long CycleCount = 0x4;
        private const uint ControlCycleCountEnable = 1u;
        private const uint ControlWritable = 0x1FFFu;
        // NUMCOMP = 4 comparators, no trace/profiling-counter support flags cleared (as an M4 reports them).
        private const uint ControlResetValue = 0x40000000u;
    }
}
