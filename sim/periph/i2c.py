"""STM32F4 I2C (v1) in master mode (RM0090 section 27.6), byte-level, with targets on a 7-bit bus.

The bus is far slower than the core, so a byte on the wire takes time. The model lets one byte move per
SR1 read (how firmware waits for a flag), which keeps the ACK/POS rules meaningful:
- START (CR1 bit 8): SB, MSL, BUSY. SB clears on the DR write that follows an SR1 read.
- Address byte in DR: an answering target sets ADDR (TRA = write), otherwise AF (cleared by writing 0).
  ADDR clears on an SR1 read followed by an SR2 read; reception starts only then.
- Transmitter: a DR write goes to the target at once (the model's shift register is instant); TxE and BTF
  are set again, AF if the target NACKed.
- Receiver: each SR1 read lets one byte arrive in the shift register, then move to DR (RxNE) if DR is
  empty, else BTF is set and the byte waits. The byte is ACKed per CR1.ACK when it arrives (POS = 0), or
  per CR1.ACK latched when the previous byte arrived / ADDR was cleared (POS = 1). After a NACKed byte, or
  a byte arriving with STOP requested, the target sends nothing more. So: single byte = clear ACK before
  clearing ADDR, then STOP; two bytes = POS and ACK, clear ADDR, clear ACK, wait BTF, STOP, read DR twice.
- STOP (CR1 bit 9): a transmitter stops at once; a receiver after the byte in progress (at once if a NACK
  was already sent). MSL/BUSY clear, the STOP bit self-clears.
`protocol_errors` counts reads that clocked a byte the firmware never NACKed before STOP (a real bus
would have read one byte more than asked).
"""

from __future__ import annotations

from typing import Protocol

from tinyml_disco.sim.periph.base import Peripheral

CR1, CR2, OAR1, OAR2, DR, SR1, SR2, CCR, TRISE, FLTR = (0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C,
                                                         0x20, 0x24)  # fmt: skip
PE, START, STOP, ACK, POS, SWRST = 1 << 0, 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 15
SB, ADDR, BTF, RXNE, TXE, AF = 1 << 0, 1 << 1, 1 << 2, 1 << 6, 1 << 7, 1 << 10
MSL, BUSY, TRA = 1 << 0, 1 << 1, 1 << 2
_SR1_W0C = AF | (1 << 8) | (1 << 9) | (1 << 11) | (1 << 12) | (1 << 14) | (1 << 15)


class I2cTarget(Protocol):
    address: int

    def i2c_start(self, read: bool) -> bool: ...
    def i2c_write(self, byte: int) -> bool: ...
    def i2c_read(self) -> int: ...
    def i2c_stop(self) -> None: ...


class I2c(Peripheral):
    RESET = {TRISE: 0x0002}

    def __init__(self) -> None:
        super().__init__()
        self.targets: dict[int, I2cTarget] = {}
        self.protocol_errors = 0
        self._reset_state()

    def attach(self, target: I2cTarget) -> None:
        self.targets[target.address] = target

    def _reset_state(self) -> None:
        self._sr1 = 0
        self._sr2 = 0
        self._target: I2cTarget | None = None
        self._phase = "idle"  # idle | address | tx | rx | nack
        self._sr1_seen = False  # SR1 read since SB/ADDR was set (first half of their clear sequence)
        self._dr: int | None = None
        self._shift: int | None = None
        self._rx_done = False  # the last byte was NACKed / STOP requested: the target sends no more
        self._stop_requested = False
        self._ack_latched = False

    # -- register access ------------------------------------------------------------------------------
    def read_reg(self, offset: int) -> int:
        if offset == SR1:
            self._bus_step()
            self._sr1_seen = True
            return self._sr1
        if offset == SR2:
            if self._sr1 & ADDR and self._sr1_seen:
                self._sr1 &= ~ADDR
                self._address_cleared()
            return self._sr2
        if offset == DR:
            return self._read_dr()
        if offset == CR1:
            return self.stored(CR1)
        return self.stored(offset)

    def write_reg(self, offset: int, value: int, mask: int) -> None:
        if offset == CR1:
            self._write_cr1(value, mask)
        elif offset == SR1:
            self._sr1 &= ~(~value & mask & _SR1_W0C)  # rc_w0 bits
        elif offset == SR2:
            return
        elif offset == DR:
            self._write_dr(value & mask & 0xFF)
        else:
            self.store(offset, value, mask)

    def _write_cr1(self, value: int, mask: int) -> None:
        cr1 = self.store(CR1, value, mask)
        if cr1 & SWRST:
            self.regs = dict(self.RESET)
            self.regs[CR1] = SWRST
            self._reset_state()
            return
        if not cr1 & PE:
            self.regs[CR1] = cr1 & ~(START | STOP | ACK | POS)
            self._reset_state()
            return
        if cr1 & START:
            self.regs[CR1] = self.stored(CR1) & ~START
            self._start()
        if cr1 & STOP:
            self._request_stop()

    # -- bus sequencing -------------------------------------------------------------------------------
    def _start(self) -> None:
        if self._target is not None and self._phase in ("tx", "rx", "nack"):
            pass  # repeated START: the target keeps its register pointer
        self._phase = "address"
        self._sr1 = (self._sr1 & AF) | SB
        self._sr2 = MSL | BUSY
        self._sr1_seen = False
        self._dr = self._shift = None
        self._rx_done = self._stop_requested = False

    def _write_dr(self, byte: int) -> None:
        if self._phase == "address" and self._sr1 & SB:
            self._sr1 &= ~SB
            target = self.targets.get(byte >> 1)
            read = bool(byte & 1)
            if target is None or not target.i2c_start(read):
                self._sr1 |= AF
                self._phase = "nack"
                self._target = None
                return
            self._target = target
            self._sr1 |= ADDR
            self._sr1_seen = False
            self._sr2 = MSL | BUSY | (0 if read else TRA)
            self._phase = "rx-wait" if read else "tx-wait"
        elif self._phase == "tx" and self._target is not None:
            self._sr1 &= ~(TXE | BTF)
            if not self._target.i2c_write(byte):
                self._sr1 |= AF
            self._sr1 |= TXE | BTF

    def _address_cleared(self) -> None:
        if self._phase == "tx-wait":
            self._phase = "tx"
            self._sr1 |= TXE
        elif self._phase == "rx-wait":
            self._phase = "rx"
            self._ack_latched = bool(self.stored(CR1) & ACK)

    def _bus_step(self) -> None:
        """One byte time on the wire while receiving."""
        if self._phase != "rx" or self._target is None:
            return
        if self._shift is None and not self._rx_done:
            cr1 = self.stored(CR1)
            ack = self._ack_latched if cr1 & POS else bool(cr1 & ACK)
            self._ack_latched = bool(cr1 & ACK)
            self._shift = self._target.i2c_read()
            if not ack or self._stop_requested:
                if ack:
                    self.protocol_errors += 1  # STOP without NACK: a real master reads one byte too many
                self._rx_done = True
        self._move_shift()
        if self._rx_done and self._stop_requested and self._shift is None:
            self._finish_stop()

    def _move_shift(self) -> None:
        if self._shift is not None and self._dr is None:
            self._dr, self._shift = self._shift, None
            self._sr1 |= RXNE
        self._sr1 = (self._sr1 | BTF) if (self._dr is not None and self._shift is not None) else (self._sr1 & ~BTF)

    def _read_dr(self) -> int:
        if self._dr is None:
            return 0
        value, self._dr = self._dr, None
        self._sr1 &= ~RXNE
        self._move_shift()
        if self._rx_done and self._stop_requested and self._shift is None:
            self._finish_stop()
        return value

    def _request_stop(self) -> None:
        if self._phase == "rx":
            self._stop_requested = True
            if self._rx_done and self._shift is None:
                self._finish_stop()
            return
        self._finish_stop()

    def _finish_stop(self) -> None:
        if self._target is not None:
            self._target.i2c_stop()
        self._target = None
        self._phase = "idle"
        self._sr2 = 0
        self._sr1 &= ~(TXE | BTF | SB | ADDR)
        self._stop_requested = False
        self.regs[CR1] = self.stored(CR1) & ~STOP
