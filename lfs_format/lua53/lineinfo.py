"""NodeMCU's packed line info for Lua 5.3 (app/lua53 lcode.c, ldebug.c).

The bytes are a run of entries `[LD bytes] IC`: an optional line delta (LD,
bytes with bit 7 set: the first `1 s dddddd` with a sign bit and 6 low bits,
then `1 ddddddd` groups of higher bits) followed by an instruction count (IC,
1..127) of instructions on that line. A missing LD means +1; a positive delta
d is stored as d - 2, a negative one as -d with the sign bit. A 0 byte ends the
stream (`close_func` appends it).

It differs from the 5.1 scheme (lfs_format/lineinfo.py) in the encoding and
in how `luaK_addlineinfo` undoes the last instruction's line: it takes only the
6 low bits of a multi-byte delta, so the line it restores can be wrong, and the
following delta is computed from that wrong line. Undoing the first entry reads
the byte before the buffer, which is 0 under glibc (valgrind-confirmed); the
writer treats it as 0, as the reference's output does.
"""

from typing import Final

LD_MARKER: Final = 0x80
LD_SIGN: Final = 0x40
MAX_IC: Final = 127


class LineInfoWriter:
    """Replays luaK_addlineinfo calls into packed line info (without the terminator)."""

    __slots__ = ("buf", "lastline", "lastpc")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.lastline = 0
        self.lastpc = -1

    def add(self, pc: int, line: int) -> None:
        """luaK_addlineinfo: instruction `pc` belongs to `line`; `pc` equal to the
        last one moves that instruction to `line`."""
        buf = self.buf
        lastline = self.lastline
        if pc == self.lastpc:
            if line == lastline:
                return
            # undo the last instruction's entry; the last byte is an IC
            if buf and buf[-1] > 1:
                buf[-1] -= 1
            else:
                del buf[-1:]  # drop the IC:1
                if buf and buf[-1] & LD_MARKER:
                    p = len(buf) - 1
                    while p > 0 and buf[p - 1] & LD_MARKER:
                        p -= 1
                    # only the first LD byte counts: the high groups are lost
                    first = buf[p]
                    delta = first & 0x3F
                    lastline -= -delta if first & LD_SIGN else delta + 2
                    del buf[p:]
                else:
                    lastline -= 1
        if buf and line == lastline and buf[-1] < MAX_IC:
            buf[-1] += 1
        else:
            if line == lastline:
                if buf:  # at the maximum count: LD:0 IC:1
                    buf.append(LD_MARKER | LD_SIGN)
                # (with an empty buffer the reference bumps the byte before it: a crash)
            else:
                delta = line - lastline
                if delta != 1:
                    if delta <= 0:
                        delta = -delta
                        buf.append(LD_MARKER | LD_SIGN | (delta & 0x3F))
                    else:
                        delta -= 2
                        buf.append(LD_MARKER | (delta & 0x3F))
                    delta >>= 6
                    while delta > 0:
                        buf.append(LD_MARKER | (delta & 0x7F))
                        delta >>= 7
            buf.append(1)
        self.lastline = line
        self.lastpc = pc

    def packed(self) -> bytes:
        """The packed bytes plus the 0 terminator that close_func appends."""
        return bytes(self.buf) + b"\x00"


def decode_line_info(packed: bytes, sizecode: int | None = None) -> list[int]:
    """Line per instruction, as ldebug.c luaG_getfuncline decodes the bytes.

    Stops at the 0 terminator (or the end of `packed`); with `sizecode` the
    result is cut or padded (with -1, "no line") to that many instructions."""
    lines: list[int] = []
    line = 0
    delta = 0
    shift = 0
    sign = -1
    for byte in packed:
        if byte & LD_MARKER:
            if shift == 0:
                sign = 1 if byte & LD_SIGN else 0
                delta = byte & 0x3F
                shift = 6
            else:
                delta += (byte & 0x7F) << shift
                shift += 7
        else:
            if byte == 0:
                break
            line += 1 if sign < 0 else (-delta if sign else delta + 2)
            delta = shift = 0
            sign = -1
            lines.extend([line] * byte)
    if sizecode is not None:
        if len(lines) > sizecode:
            del lines[sizecode:]
        else:
            lines.extend([-1] * (sizecode - len(lines)))
    return lines
