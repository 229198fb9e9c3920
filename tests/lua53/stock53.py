"""A reader for stock Lua 5.3's `string.dump` output (lundump.c 5.3.6, 64-bit host:
int 4, size_t 8, Instruction 4, lua_Integer 8, lua_Number 8), for the
differential tests against `lupa.lua53`. Only what a comparison needs."""

import struct

from lfs_format.lua53.proto import Constant, Proto, Upvaldesc

HEADER = b"\x1bLua\x53\x00\x19\x93\r\n\x1a\n\x04\x08\x04\x08\x08"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def int(self) -> int:
        return int(struct.unpack("<i", self.take(4))[0])

    def string(self) -> bytes | None:
        size = self.byte()
        if size == 0xFF:
            size = int(struct.unpack("<Q", self.take(8))[0])
        return None if size == 0 else self.take(size - 1)

    def function(self, psource: bytes | None) -> Proto:
        f = Proto()
        f.source = self.string() or psource
        f.linedefined = self.int()
        f.lastlinedefined = self.int()
        f.numparams = self.byte()
        f.is_vararg = self.byte()
        f.maxstacksize = self.byte()
        ncode = self.int()
        f.code = list(struct.unpack(f"<{ncode}I", self.take(4 * ncode)))
        for _ in range(self.int()):
            f.constants.append(self.constant())
        for _ in range(self.int()):
            instack, idx = self.byte(), self.byte()
            f.upvalues.append(Upvaldesc(None, instack, idx))
        for _ in range(self.int()):
            f.protos.append(self.function(f.source))
        for _ in range(self.int()):  # lineinfo
            self.int()
        for _ in range(self.int()):  # locvars
            self.string()
            self.int()
            self.int()
        for _ in range(self.int()):  # upvalue names
            self.string()
        return f

    def constant(self) -> Constant:
        tag = self.byte()
        if tag == 0:
            return None
        if tag == 1:
            return bool(self.byte())
        if tag == 3:
            return float(struct.unpack("<d", self.take(8))[0])
        if tag == 0x13:
            return int(struct.unpack("<q", self.take(8))[0])
        return self.string()  # 4 (short) or 0x14 (long)


def read_stock_dump(data: bytes) -> Proto:
    """The main proto of a stock 5.3 binary chunk."""
    reader = _Reader(data)
    if reader.take(len(HEADER)) != HEADER:
        raise ValueError("not a stock Lua 5.3 chunk for a 64-bit host")
    reader.take(8 + 8)  # LUAC_INT, LUAC_NUM
    reader.byte()  # main's upvalue count
    return reader.function(None)
