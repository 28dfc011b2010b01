//
// tinyml-disco: an STM32F4 I2C v1 master (RM0090 section 27, "I2C master mode") for Renode 1.15.3.
// Load with `include @TinymlSTM32F4_I2C.cs` before a platform that declares
// `i2c1_master: I2C.TinymlSTM32F4_I2C @ sysbus 0x40005400` (see stm32f4_discovery_tinyml.repl).
//
// Why it exists: Renode 1.15.3's own I2C.STM32F4_I2C never calls the target's FinishTransmission (so a
// register-addressed sensor such as Sensors.LIS2DW12 keeps the first register of the first transaction
// for ever) and asks the target for bytes once, at the address phase, with the default count of 1 (so a
// 6-byte burst read gets one byte). Later Renode replaced that controller with STM32F1_I2C. This one
// follows the reference manual's master sequence closely enough for the unchanged firmware, written
// against RM0090 (not copied from either Renode model):
// - START (CR1.START) sets SB, MSL and BUSY; a repeated START passes the bytes written so far to the
//   target (Write) and keeps the transaction open, as on the wire.
// - The address byte written to DR clears SB; an address with no target sets AF (NACK), else ADDR and TRA.
// - Transmitter: each DR write goes to the target's buffer at once (TXE and BTF stay set).
// - Receiver: bytes are clocked in on demand with Read(1) once ADDR is cleared (SR1 then SR2 read), at most
//   two ahead (DR + shift register, RXNE and BTF), each ACKed or NACKed by CR1.ACK at that moment; nothing
//   more is clocked after a NACKed byte or once STOP is requested, like the hardware.
// - STOP passes pending bytes to the target (Write), then ends the transaction (FinishTransmission).
// - Event and error interrupts follow CR2.ITEVTEN/ITBUFEN/ITERREN (the firmware polls, but they are wired).
// Transfers take no virtual time; the firmware's bounded SR1 polls see each flag on their first read.
//
using System;
using System.Collections.Generic;
using Antmicro.Renode.Core;
using Antmicro.Renode.Core.Structure;
using Antmicro.Renode.Logging;
using Antmicro.Renode.Peripherals.Bus;

namespace Antmicro.Renode.Peripherals.I2C
{
    [AllowedTranslations(AllowedTranslation.ByteToDoubleWord | AllowedTranslation.WordToDoubleWord)]
    public class TinymlSTM32F4_I2C : SimpleContainer<II2CPeripheral>, IDoubleWordPeripheral, IKnownSize
    {
        public TinymlSTM32F4_I2C(IMachine machine) : base(machine)
        {
            EventInterrupt = new GPIO();
            ErrorInterrupt = new GPIO();
            received = new Queue<byte>();
            pending = new List<byte>();
            Reset();
        }

        public override void Reset()
        {
            cr1 = 0;
            cr2 = 0;
            oar1 = 0;
            oar2 = 0;
            ccr = 0;
            trise = 2;
            fltr = 0;
            sb = addr = btf = rxne = txe = af = false;
            msl = tra = false;
            phase = Phase.Idle;
            target = null;
            received.Clear();
            pending.Clear();
            lastAcked = false;
            stopRequested = false;
            EventInterrupt.Unset();
            ErrorInterrupt.Unset();
        }

        public long Size => 0x400;

        public GPIO EventInterrupt { get; }
        public GPIO ErrorInterrupt { get; }

        public uint ReadDoubleWord(long offset)
        {
            switch((Registers)offset)
            {
            case Registers.Control1:
                return cr1;
            case Registers.Control2:
                return cr2;
            case Registers.OwnAddress1:
                return oar1;
            case Registers.OwnAddress2:
                return oar2;
            case Registers.Data:
                return ReadData();
            case Registers.Status1:
                return Status1();
            case Registers.Status2:
                return ReadStatus2();
            case Registers.ClockControl:
                return ccr;
            case Registers.RiseTime:
                return trise;
            case Registers.NoiseFilter:
                return fltr;
            default:
                this.Log(LogLevel.Warning, "Read from a reserved offset 0x{0:X}", offset);
                return 0;
            }
        }

        public void WriteDoubleWord(long offset, uint value)
        {
            switch((Registers)offset)
            {
            case Registers.Control1:
                WriteControl1(value);
                break;
            case Registers.Control2:
                cr2 = value & Control2Mask;
                break;
            case Registers.OwnAddress1:
                oar1 = value & 0xC3FF;
                break;
            case Registers.OwnAddress2:
                oar2 = value & 0xFF;
                break;
            case Registers.Data:
                WriteData((byte)value);
                break;
            case Registers.Status1:
                // rc_w0 error flags: writing 0 clears them; the event flags are read-only.
                if((value & Status1AF) == 0)
                {
                    af = false;
                }
                break;
            case Registers.Status2:
                break; // read-only
            case Registers.ClockControl:
                ccr = value & 0xCFFF;
                break;
            case Registers.RiseTime:
                trise = value & 0x3F;
                break;
            case Registers.NoiseFilter:
                fltr = value & 0x1F;
                break;
            default:
                this.Log(LogLevel.Warning, "Write of 0x{0:X} to a reserved offset 0x{1:X}", value, offset);
                break;
            }
            UpdateInterrupts();
        }

        private void WriteControl1(uint value)
        {
            if((value & Control1SWRST) != 0)
            {
                Reset();
                cr1 = Control1SWRST;
                return;
            }
            var wasEnabled = (cr1 & Control1PE) != 0;
            cr1 = value & Control1Mask & ~(Control1START | Control1STOP);
            if((cr1 & Control1PE) == 0)
            {
                if(wasEnabled)
                {
                    EndTransaction();
                }
                return;
            }
            if((value & Control1STOP) != 0)
            {
                Stop();
            }
            if((value & Control1START) != 0)
            {
                Start();
            }
        }

        private void Start()
        {
            if(phase == Phase.Transmitting && pending.Count > 0)
            {
                // Repeated START: the bytes so far (a register address) reach the target, the transaction goes on.
                target.Write(pending.ToArray());
                pending.Clear();
            }
            received.Clear();
            stopRequested = false;
            sb = true;
            msl = true;
            tra = false;
            addr = btf = rxne = txe = false;
            phase = Phase.Address;
        }

        private void Stop()
        {
            if(phase == Phase.Receiving)
            {
                // Bytes already in DR and the shift register stay readable; nothing more is clocked in.
                stopRequested = true;
            }
            EndTransaction();
        }

        private void EndTransaction()
        {
            if(target != null)
            {
                if(pending.Count > 0)
                {
                    target.Write(pending.ToArray());
                    pending.Clear();
                }
                target.FinishTransmission();
            }
            target = null;
            msl = false;
            tra = false;
            sb = addr = txe = false;
            if(received.Count == 0)
            {
                btf = false;
                phase = Phase.Idle;
            }
        }

        private void WriteData(byte value)
        {
            switch(phase)
            {
            case Phase.Address:
                sb = false;
                var address = value >> 1;
                var read = (value & 1) != 0;
                if(!ChildCollection.TryGetValue(address, out target))
                {
                    this.Log(LogLevel.Debug, "No target at address 0x{0:X}: NACK", address);
                    target = null;
                    af = true;
                    phase = Phase.Idle;
                    return;
                }
                addr = true;
                tra = !read;
                phase = read ? Phase.AddressedForRead : Phase.Transmitting;
                break;
            case Phase.Transmitting:
                pending.Add(value);
                txe = true;
                btf = true;
                break;
            default:
                this.Log(LogLevel.Warning, "DR write of 0x{0:X} outside a transmission (phase {1})", value, phase);
                break;
            }
        }

        private uint ReadData()
        {
            if(received.Count == 0)
            {
                if(phase == Phase.Receiving || phase == Phase.Idle)
                {
                    this.Log(LogLevel.Warning, "DR read with no received byte");
                }
                return 0;
            }
            var value = received.Dequeue();
            ClockIn();
            if(received.Count == 0 && stopRequested)
            {
                phase = Phase.Idle;
            }
            return value;
        }

        private uint Status1()
        {
            uint value = 0;
            value |= sb ? Status1SB : 0;
            value |= addr ? Status1ADDR : 0;
            value |= btf ? Status1BTF : 0;
            value |= rxne ? Status1RXNE : 0;
            value |= txe ? Status1TXE : 0;
            value |= af ? Status1AF : 0;
            return value;
        }

        private uint ReadStatus2()
        {
            uint value = (msl ? 1u : 0u) | (Busy ? 2u : 0u) | (tra ? 4u : 0u);
            if(addr)
            {
                // SR1 then SR2 read clears ADDR: the transfer starts.
                addr = false;
                if(phase == Phase.AddressedForRead)
                {
                    phase = Phase.Receiving;
                    lastAcked = true;
                    ClockIn();
                }
                else if(phase == Phase.Transmitting)
                {
                    txe = true;
                }
                UpdateInterrupts();
            }
            return value;
        }

        // Clock bytes from the target into DR and the shift register (two at most), the way the hardware does
        // while the previous byte was ACKed and no STOP was requested.
        private void ClockIn()
        {
            while(phase == Phase.Receiving && target != null && !stopRequested && lastAcked && received.Count < 2)
            {
                var bytes = target.Read(1);
                received.Enqueue(bytes.Length > 0 ? bytes[0] : (byte)0xFF);
                lastAcked = (cr1 & Control1ACK) != 0;
            }
            rxne = received.Count > 0;
            btf = received.Count == 2;
        }

        private bool Busy => phase != Phase.Idle;

        private void UpdateInterrupts()
        {
            var events = sb || addr || btf;
            var buffer = (cr2 & Control2ITBUFEN) != 0 && (txe || rxne);
            EventInterrupt.Set((cr2 & Control2ITEVTEN) != 0 && (events || buffer));
            ErrorInterrupt.Set((cr2 & Control2ITERREN) != 0 && af);
        }

        private uint cr1, cr2, oar1, oar2, ccr, trise, fltr;
        private bool sb, addr, btf, rxne, txe, af, msl, tra;
        private bool lastAcked, stopRequested;
        private Phase phase;
        private II2CPeripheral target;
        private readonly Queue<byte> received;
        private readonly List<byte> pending;

        private const uint Control1PE = 1u << 0;
        private const uint Control1START = 1u << 8;
        private const uint Control1STOP = 1u << 9;
        private const uint Control1ACK = 1u << 10;
        private const uint Control1SWRST = 1u << 15;
        // PE, SMBUS, SMBTYPE, ENARP, ENPEC, ENGC, NOSTRETCH, START, STOP, ACK, POS, PEC, ALERT, SWRST
        private const uint Control1Mask = 0xBFFBu;
        private const uint Control2ITERREN = 1u << 8;
        private const uint Control2ITEVTEN = 1u << 9;
        private const uint Control2ITBUFEN = 1u << 10;
        private const uint Control2Mask = 0x1F3Fu;
        private const uint Status1SB = 1u << 0;
        private const uint Status1ADDR = 1u << 1;
        private const uint Status1BTF = 1u << 2;
        private const uint Status1RXNE = 1u << 6;
        private const uint Status1TXE = 1u << 7;
        private const uint Status1AF = 1u << 10;

        private enum Phase
        {
            Idle,
            Address,
            AddressedForRead,
            Transmitting,
            Receiving,
        }

        private enum Registers
        {
            Control1 = 0x00,
            Control2 = 0x04,
            OwnAddress1 = 0x08,
            OwnAddress2 = 0x0C,
            Data = 0x10,
            Status1 = 0x14,
            Status2 = 0x18,
            ClockControl = 0x1C,
            RiseTime = 0x20,
            NoiseFilter = 0x24,
        }
    }
}
