"""A simulated LFS flash partition (the device's SPI NOR flash, memory-mapped).

Model decisions, chosen to match an ESP8266's SPI NOR flash:
- The partition is a whole number of 4 KiB sectors at a mapped `base`
  address (the address `-a` images are built for and relocation adds).
- Erasing a sector sets all its bytes to 0xFF.
- A write can only clear bits: the stored byte becomes `old & new`. This is
  what lets the loader clear the IN_PROGRESS signature bit (0x08) by
  rewriting word 0 without an erase.
- Writes are word-aligned (the firmware's `flashBlock` asserts it).
- Only what has been erased or written is held in memory (up to the highest
  such byte); the rest of the partition reads as erased, so a partition of
  any size costs no more than the image placed in it.
- Fault injection: `inject_power_loss(writes=N)` lets N writes complete and
  raises `PowerLoss` on the next one, optionally after tearing it (only its
  first `torn_bytes` bytes reach the flash). `erases=N` does the same for
  sector erases. Contents written before the loss stay, as on real flash.
"""

from dataclasses import dataclass, field

from .errors import LuacrossError

SECTOR_SIZE = 4096
ERASED = 0xFF


class FlashError(LuacrossError):
    """A misuse of the simulated flash (unaligned or out-of-range access)."""


class PowerLoss(Exception):
    """Injected power failure during a flash operation (not a LuacrossError:
    it models the device losing power, not a problem with the input)."""


@dataclass(slots=True)
class _PowerLossPlan:
    writes: int | None
    erases: int | None
    torn_bytes: int


@dataclass(slots=True)
class SimulatedFlash:
    """`size` bytes of NOR flash mapped at `base`; starts fully erased."""

    base: int
    size: int
    _data: bytearray = field(init=False, default_factory=bytearray)
    writes: int = field(init=False, default=0)
    erases: int = field(init=False, default=0)
    _plan: _PowerLossPlan | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.size <= 0 or self.size % SECTOR_SIZE:
            raise FlashError(f"partition size {self.size:#x} is not a positive multiple of 4 KiB")
        if self.base % 4:
            raise FlashError(f"partition base {self.base:#x} is not word aligned")

    @property
    def data(self) -> bytes:
        """The partition's bytes up to the highest one ever erased or written (the rest
        reads as erased)."""
        return bytes(self._data)

    def _reach(self, end: int) -> None:
        # hold the partition's bytes up to `end` (new ones erased)
        if end > len(self._data):
            self._data += bytes([ERASED]) * (end - len(self._data))

    @property
    def sectors(self) -> int:
        return self.size // SECTOR_SIZE

    def inject_power_loss(
        self, *, writes: int | None = None, erases: int | None = None, torn_bytes: int = 0
    ) -> None:
        """Arm a power loss after `writes` more writes (or `erases` more erases)."""
        self._plan = _PowerLossPlan(
            None if writes is None else self.writes + writes,
            None if erases is None else self.erases + erases,
            torn_bytes,
        )

    def erase_sector(self, sector: int) -> None:
        """Set sector `sector` (counted from the partition start) to 0xFF."""
        if not 0 <= sector < self.sectors:
            raise FlashError(f"sector {sector} outside a {self.sectors}-sector partition")
        plan = self._plan
        if plan is not None and plan.erases == self.erases:
            self._plan = None
            raise PowerLoss(f"power lost erasing sector {sector}")
        start = sector * SECTOR_SIZE
        if start < len(self._data):  # beyond what is held, the sector is erased already
            end = min(start + SECTOR_SIZE, len(self._data))
            self._data[start:end] = bytes([ERASED]) * (end - start)
        self.erases += 1

    def write(self, offset: int, payload: bytes) -> None:
        """Program `payload` at partition `offset`: bits can only go from 1 to 0."""
        if offset % 4 or len(payload) % 4:
            raise FlashError(f"unaligned flash write at {offset:#x} ({len(payload)} bytes)")
        if offset < 0 or offset + len(payload) > self.size:
            raise FlashError(f"write of {len(payload)} bytes at {offset:#x} outside the partition")
        plan = self._plan
        if plan is not None and plan.writes == self.writes:
            self._plan = None
            self._program(offset, payload[: plan.torn_bytes])
            raise PowerLoss(f"power lost writing {len(payload)} bytes at {offset:#x}")
        self._program(offset, payload)
        self.writes += 1

    def _program(self, offset: int, payload: bytes) -> None:
        n = len(payload)
        if not n:
            return
        self._reach(offset + n)
        old = int.from_bytes(self._data[offset : offset + n], "little")
        new = old & int.from_bytes(payload, "little")
        self._data[offset : offset + n] = new.to_bytes(n, "little")

    def read(self, offset: int, length: int) -> bytes:
        """Bytes at partition `offset` (what the CPU sees through the mapping)."""
        if offset < 0 or length < 0 or offset + length > self.size:
            raise FlashError(f"read of {length} bytes at {offset:#x} outside the partition")
        held = bytes(self._data[offset : offset + length])
        if len(held) == length:
            return held
        return held + bytes([ERASED]) * (length - len(held))

    def read_word(self, offset: int) -> int:
        return int.from_bytes(self.read(offset, 4), "little")

    def contains(self, address: int, length: int = 1) -> bool:
        """Whether mapped `address`..`address+length` lies inside the partition."""
        return self.base <= address and address + length <= self.base + self.size
