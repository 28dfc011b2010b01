//
// tinyml-disco: LIS3DSH accelerometer (ST DocID022405) on SPI, for Renode. Load with `include @LIS3DSH.cs`
// before a platform that declares `lis3dsh: Sensors.TinymlLIS3DSH @ spi1` (see lis3dsh_spi1.repl).
//
// Compiled and run by Renode 1.15.3 in CI (the Robot suites with SENSOR:lis3dsh on BACKEND:renode and
// tests/test_renode_differential.py, which checks it against the project's Python model sim/periph/lis3dsh.py).
//
// Behaviour:
// - Chip select comes from a GPIO (connect `gpioPortE: 3 -> lis3dsh@0`): low starts a transaction, high ends it.
//   Renode's STM32SPI never calls FinishTransmission, which is why the model watches PE3 itself.
// - First byte of a transaction = register address, bit 7 = read; with CTRL_REG6.ADD_INC the address increments.
// - Samples (in g) are queued by FeedAccelerationSample or FeedAccelerationSamplesFromCsv and released one per
//   output-data-rate period of virtual time (CTRL_REG4.ODR); STATUS.ZYXDA and INT1 (CTRL_REG3 DR_EN + INT1_EN)
//   say a sample is ready; reading OUT_Z_H consumes it. With an empty queue no new data is reported.
// - Raw counts = round(g / sensitivity) at the full scale in CTRL_REG5, clipped to int16 as the sensor saturates.
// - FIFO (32 samples), as sim/periph/lis3dsh.py: CTRL_REG6.FIFO_EN with FIFO_CTRL.FMODE 001 (FIFO: stop when
//   full) or 010 (stream: overwrite the oldest, OVRN_FIFO); FIFO_SRC = WTM (unread >= WTMP with WTM_EN, else
//   full) | OVRN_FIFO | EMPTY | FSS (unread, at most 31); CTRL_REG6.P1_WTM/P1_EMPTY/P1_OVERRUN route them to INT1
//   (with CTRL_REG3.INT1_EN) as a level. Reading OUT_X_L in FIFO mode takes the oldest sample; with ADD_INC the
//   address wraps from OUT_Z_H to OUT_X_L in FIFO mode.
//
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Antmicro.Renode.Core;
using Antmicro.Renode.Exceptions;
using Antmicro.Renode.Logging;
using Antmicro.Renode.Peripherals.SPI;
using Antmicro.Renode.Peripherals.Timers;
using Antmicro.Renode.Time;

namespace Antmicro.Renode.Peripherals.Sensors
{
    public class TinymlLIS3DSH : ISPIPeripheral, IGPIOReceiver
    {
        public TinymlLIS3DSH(IMachine machine)
        {
            Interrupt1 = new GPIO();
            registers = new byte[0x80];
            queue = new Queue<decimal[]>();
            odrTimer = new LimitTimer(machine.ClockSource, TimerFrequency, this, "odr", limit: 10000,
                direction: Direction.Descending, enabled: false, workMode: WorkMode.Periodic, eventEnabled: true);
            odrTimer.LimitReached += ReleaseSample;
            Reset();
        }

        public void FeedAccelerationSample(decimal x, decimal y, decimal z, uint repeat = 1)
        {
            for(var i = 0; i < repeat; i++)
            {
                lock(queue)
                {
                    queue.Enqueue(new[] { x, y, z });
                }
            }
        }

        // The project's CSV format: timestamp_s,ax_g,ay_g,az_g[,label] with a header line.
        public void FeedAccelerationSamplesFromCsv(string path)
        {
            var lines = File.ReadAllLines(path);
            for(var n = 1; n < lines.Length; n++)
            {
                var line = lines[n].Trim();
                if(line.Length == 0)
                {
                    continue;
                }
                var cells = line.Split(',');
                if(cells.Length < 4)
                {
                    throw new RecoverableException($"{path}, line {n + 1}: expected timestamp_s,ax_g,ay_g,az_g");
                }
                var g = new decimal[3];
                for(var axis = 0; axis < 3; axis++)
                {
                    g[axis] = decimal.Parse(cells[axis + 1], NumberStyles.Float, CultureInfo.InvariantCulture);
                }
                lock(queue)
                {
                    queue.Enqueue(g);
                }
            }
        }

        public int QueuedSamples
        {
            get
            {
                lock(queue)
                {
                    return queue.Count;
                }
            }
        }
        public ulong ClippedSamples { get; private set; }
        public GPIO Interrupt1 { get; }

        public void OnGPIO(int number, bool value)
        {
            if(number != 0)
            {
                return;
            }
            // Active-low chip select.
            selected = !value;
            address = null;
        }

        public byte Transmit(byte data)
        {
            if(!selected)
            {
                this.Log(LogLevel.Warning, "SPI byte 0x{0:X2} while chip select (PE3) is high; ignored", data);
                return 0xFF;
            }
            if(address == null)
            {
                address = data & 0x7F;
                reading = (data & 0x80) != 0;
                return 0xFF;
            }
            var reg = address.Value;
            byte result = 0xFF;
            if(reading)
            {
                result = ReadRegister(reg);
            }
            else
            {
                WriteRegister(reg, data);
            }
            if((registers[CtrlReg6] & AddInc) != 0)
            {
                address = (reg == OutZH && FifoOn) ? OutXL : (reg + 1) & 0x7F;
            }
            return result;
        }

        public void FinishTransmission()
        {
            address = null;
        }

        public void Reset()
        {
            Array.Clear(registers, 0, registers.Length);
            registers[Info1] = 0x21;
            registers[WhoAmI] = WhoAmIValue;
            registers[CtrlReg4] = 0x07;
            registers[CtrlReg6] = AddInc;
            selected = false;
            address = null;
            dataReady = false;
            current = new short[3];
            fifo.Clear();
            fifoOverrun = false;
            odrTimer.Enabled = false;
            Interrupt1.Unset();
        }

        private byte ReadRegister(int reg)
        {
            if(reg == Status)
            {
                return (byte)(dataReady ? Zyxda : 0);
            }
            if(reg == FifoSrc)
            {
                return FifoSource();
            }
            if(reg >= OutXL && reg <= OutZH)
            {
                if(reg == OutXL && FifoOn && fifo.Count > 0)
                {
                    current = fifo.Dequeue();  // the oldest FIFO sample moves to the output registers
                    fifoOverrun = false;
                    UpdateInterrupt();
                }
                var axis = (reg - OutXL) / 2;
                var high = ((reg - OutXL) % 2) == 1;
                var value = (ushort)current[axis];
                if(reg == OutZH)
                {
                    dataReady = false;
                    UpdateInterrupt();
                }
                return (byte)(high ? value >> 8 : value & 0xFF);
            }
            return registers[reg];
        }

        private void WriteRegister(int reg, byte value)
        {
            if(reg == Info1 || reg == Info2 || reg == WhoAmI || reg == Status || reg == FifoSrc || (reg >= OutXL && reg <= OutZH))
            {
                return;
            }
            if(reg == CtrlReg3 && (value & 0x01) != 0)
            {
                Reset();  // STRT: soft reset, self-clearing
                return;
            }
            registers[reg] = value;
            if(reg == CtrlReg4)
            {
                ConfigureOutputDataRate();
            }
            if((reg == CtrlReg6 || reg == FifoCtrl) && !FifoOn)
            {
                fifo.Clear();  // bypass mode (or FIFO_EN off) empties the FIFO
                fifoOverrun = false;
            }
            if(reg == CtrlReg3 || reg == CtrlReg6 || reg == FifoCtrl)
            {
                UpdateInterrupt();
            }
        }

        private bool FifoOn => (registers[CtrlReg6] & FifoEn) != 0 && (registers[FifoCtrl] >> 5) != 0;

        private byte FifoSource()
        {
            var level = fifo.Count;
            var wtm = (registers[CtrlReg6] & WtmEn) != 0 ? (registers[FifoCtrl] & 0x1F) : FifoDepth;
            return (byte)(Math.Min(level, 31) | (level >= wtm ? SrcWtm : 0) | (fifoOverrun ? SrcOvrn : 0)
                | (level == 0 ? SrcEmpty : 0));
        }

        private void ConfigureOutputDataRate()
        {
            var odr = registers[CtrlReg4] >> 4;
            if(odr == 0 || odr >= OdrHz.Length)
            {
                odrTimer.Enabled = false;
                return;
            }
            odrTimer.Limit = (ulong)Math.Round(TimerFrequency / OdrHz[odr]);
            odrTimer.Value = odrTimer.Limit;
            odrTimer.Enabled = true;
        }

        private void ReleaseSample()
        {
            decimal[] g;
            // The monitor thread feeds while the CPU thread's ODR timer releases: the queue is shared.
            lock(queue)
            {
                if(queue.Count == 0)
                {
                    return;  // no data: the firmware's sensor_timeout path
                }
                g = queue.Dequeue();
            }
            var sensitivity = SensitivityG[Math.Min((registers[CtrlReg5] >> 3) & 0x7, SensitivityG.Length - 1)];
            var clipped = false;
            var counts = new short[3];
            for(var axis = 0; axis < 3; axis++)
            {
                var raw = Math.Round(g[axis] / sensitivity, MidpointRounding.ToEven);
                if(raw > short.MaxValue || raw < short.MinValue)
                {
                    clipped = true;
                    raw = Math.Max(short.MinValue, Math.Min(short.MaxValue, raw));
                }
                counts[axis] = (short)raw;
            }
            if(clipped)
            {
                ClippedSamples++;
                this.Log(LogLevel.Warning, "Sample beyond full scale: clipped to int16 as the sensor saturates");
            }
            if(FifoOn)
            {
                if(fifo.Count >= FifoDepth)
                {
                    if((registers[FifoCtrl] >> 5) == FModeFifo)
                    {
                        UpdateInterrupt();
                        return;  // FIFO mode stops collecting when full
                    }
                    fifo.Dequeue();  // stream: the oldest is overwritten
                    fifoOverrun = true;
                }
                fifo.Enqueue(counts);
                UpdateInterrupt();
                return;
            }
            current = counts;
            dataReady = true;
            UpdateInterrupt();
        }

        private void UpdateInterrupt()
        {
            var ctrl6 = registers[CtrlReg6];
            if((registers[CtrlReg3] & Int1En) != 0 && (ctrl6 & (P1Wtm | P1Empty | P1Overrun)) != 0 && FifoOn)
            {
                // FIFO flags drive INT1 as a level: change the pin only when the level changes.
                var src = FifoSource();
                var level = ((ctrl6 & P1Wtm) != 0 && (src & SrcWtm) != 0) || ((ctrl6 & P1Empty) != 0 && (src & SrcEmpty) != 0)
                    || ((ctrl6 & P1Overrun) != 0 && (src & SrcOvrn) != 0);
                Interrupt1.Set(level);
                return;
            }
            var enabled = (registers[CtrlReg3] & (DrEn | Int1En)) == (DrEn | Int1En);
            // Drop then raise so an edge-triggered EXTI sees every new sample.
            Interrupt1.Unset();
            if(enabled && dataReady)
            {
                Interrupt1.Set();
            }
        }

        private bool selected;
        private bool reading;
        private int? address;
        private bool dataReady;
        private short[] current;
        private readonly byte[] registers;
        private readonly Queue<decimal[]> queue;
        private readonly Queue<short[]> fifo = new Queue<short[]>();
        private bool fifoOverrun;
        private readonly LimitTimer odrTimer;

        private const long TimerFrequency = 1000000;
        private static readonly decimal[] OdrHz = { 0m, 3.125m, 6.25m, 12.5m, 25m, 50m, 100m, 400m, 800m, 1600m };
        private static readonly decimal[] SensitivityG = { 0.00006m, 0.00012m, 0.00018m, 0.00024m, 0.00073m };

        private const int Info1 = 0x0D, Info2 = 0x0E, WhoAmI = 0x0F, CtrlReg4 = 0x20, CtrlReg3 = 0x23;
        private const int CtrlReg5 = 0x24, CtrlReg6 = 0x25, Status = 0x27, OutXL = 0x28, OutZH = 0x2D;
        private const byte WhoAmIValue = 0x3F, AddInc = 0x10, Zyxda = 0x08, DrEn = 0x80, Int1En = 0x08;
        private const int FifoCtrl = 0x2E, FifoSrc = 0x2F, FifoDepth = 32, FModeFifo = 1;
        private const byte FifoEn = 0x40, WtmEn = 0x20, P1Empty = 0x08, P1Wtm = 0x04, P1Overrun = 0x02;
        private const int SrcWtm = 0x80, SrcOvrn = 0x40, SrcEmpty = 0x20;
    }
}
