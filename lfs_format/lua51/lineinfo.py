"""NodeMCU's packed line info (app/lua/lcode.c, ldebug.c).

The packed form is a byte string of entries `[delta bytes] count`. It is not a
function of the per-instruction line list: it is a log of the code
generator's `luaK_code`/`luaK_fixline` calls, including a rewind that never
merges runs and restores the wrong line after a multi-byte delta. So the
code generator feeds every event to a `LineInfoWriter`, and readers decode the
bytes with `decode_line_info` (reproducing the same shifted lines the
firmware and luac.cross's listing show).
"""

INFO_FILL_BYTE = 0x7F
INFO_DELTA_MASK = 0x80
INFO_SIGN_MASK = 0x40
INFO_DELTA_6BITS = 0x3F
INFO_DELTA_7BITS = 0x7F
INFO_MAX_LINECNT = 126


class LineInfoWriter:
    """Replays luaK_code/luaK_fixline line events into packed line info."""

    __slots__ = ("buf", "top", "lastline", "lastpc")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.top = -1  # index of the current entry's count byte
        self.lastline = 0
        self.lastpc = -1

    def code(self, pc: int, line: int) -> None:
        """Record that instruction `pc` was emitted for source `line`."""
        if pc == self.lastpc + 1:
            buf = self.buf
            if line == self.lastline and buf[self.top] < INFO_MAX_LINECNT:
                buf[self.top] += 1
            else:
                self._emit(line)
        else:
            # the previous instruction was removed and `pc` is coded again
            self.fixline(line)
        self.lastpc = pc

    def fixline(self, line: int) -> None:
        """Move the last instruction to `line` (luaK_fixline), with its rewind quirk."""
        if line == self.lastline:
            return
        buf = self.buf
        if buf[self.top] > 1:
            buf[self.top] -= 1
        else:
            # walk back over this entry's delta bytes; like the C code, a multi-byte
            # delta is summed with the wrong weights, restoring the wrong lastline
            p = self.top - 1
            delta = 0
            while p >= 0 and buf[p] & INFO_DELTA_MASK:
                code = buf[p]
                if p >= 1 and buf[p - 1] & INFO_DELTA_MASK:
                    delta += (code & INFO_DELTA_7BITS) << 7
                else:
                    delta += (code & INFO_DELTA_6BITS) + 1
                    if code & INFO_SIGN_MASK:
                        delta = -delta
                p -= 1
            self.lastline -= delta + 1
            self.top = p
        self._emit(line)

    def _emit(self, line: int) -> None:
        """Start a new entry for `line` after the current one (generateInfoDeltaLine)."""
        buf = self.buf
        del buf[self.top + 1 :]
        delta = line - self.lastline - 1
        if delta:
            if delta > 0:
                value = delta - 1
                buf.append(INFO_DELTA_MASK | (value & INFO_DELTA_6BITS))
            else:
                value = -delta - 1
                buf.append(INFO_DELTA_MASK | INFO_SIGN_MASK | (value & INFO_DELTA_6BITS))
            value >>= 6
            while value:
                buf.append(INFO_DELTA_MASK | (value & INFO_DELTA_7BITS))
                value >>= 7
        buf.append(1)
        self.top = len(buf) - 1
        self.lastline = line

    def packed(self) -> bytes:
        """The packed bytes (without the trailing NUL a dump adds)."""
        return bytes(self.buf[: self.top + 1])


def decode_line_info(packed: bytes) -> list[int]:
    """Per-instruction lines from packed line info, as the firmware decodes them."""
    lines: list[int] = []
    line = 0
    i, n = 0, len(packed)
    while i < n:
        byte = packed[i]
        if byte == 0 or byte == INFO_FILL_BYTE:
            break
        if byte & INFO_DELTA_MASK:
            negative = byte & INFO_SIGN_MASK
            value = byte & INFO_DELTA_6BITS
            shift = 6
            i += 1
            while i < n and packed[i] & INFO_DELTA_MASK:
                value |= (packed[i] & INFO_DELTA_7BITS) << shift
                shift += 7
                i += 1
            line = line - value if negative else line + value + 2
        else:
            line += 1
        if i >= n:
            break
        lines.extend([line] * packed[i])
        i += 1
    return lines
