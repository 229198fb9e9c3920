"""The string side of an LFS image: Lua's string hash, the order luac.cross
emits strings in, and the ROstrt bucket count.

luac.cross collects every string of the image as a key of one host Lua table
and writes the ROstrt in that table's `lua_next` order. That order is a
function of NodeMCU's own `app/lua/ltable.c`, which rehashes differently from
stock Lua 5.1, so `HostStringTable` simulates its hash part exactly
(formats reference §7.3): string keys only, never deleted, values ignored.
"""

from collections.abc import Iterator

from ..errors import ImageError
from .lc import NULL_STRING
from .proto import Proto

_NONE = -1  # a NULL `next` link


def lua_string_hash(s: bytes) -> int:
    """luaS_newlstr's hash: seeded with the length, long strings sampled."""
    h = len(s)
    step = (len(s) >> 5) + 1
    for l1 in range(len(s), step - 1, -step):
        h = (h ^ ((h << 5) + (h >> 2) + s[l1 - 1])) & 0xFFFFFFFF
    return h


def rostrt_size(nuse: int, *, margin: bool = False) -> int:
    """Bucket count for `nuse` strings: `2 << luaO_log2(nuse)`; with `margin`
    (the ESP32 build) `2 << luaO_log2((int)(nuse * 1.3))`, at least 30% spare."""
    if margin:
        nuse = int(nuse * 1.3)
    return 2 << (nuse.bit_length() - 1)


class HostStringTable:
    """The hash part of a NodeMCU `Table` whose keys are all strings.

    Node `i` holds `keys[i]` (None = empty) and `nexts[i]`, the index of the
    next node of its collision chain. Like the C table, it starts with no
    nodes (the shared dummy node, always full) and `lastfree` only moves
    down until the next resize.
    """

    __slots__ = ("keys", "nexts", "hashes", "lastfree", "present")

    def __init__(self) -> None:
        self.keys: list[bytes | None] = []
        self.nexts: list[int] = []
        self.hashes: dict[bytes, int] = {}
        self.lastfree = 0
        self.present: set[bytes] = set()

    def __len__(self) -> int:
        return len(self.present)

    def __iter__(self) -> Iterator[bytes]:
        """Keys in `lua_next` order: occupied nodes by index."""
        return (key for key in self.keys if key is not None)

    def _mainposition(self, key: bytes) -> int:
        return self.hashes[key] & (len(self.keys) - 1)

    def _getfreepos(self) -> int:
        keys = self.keys
        while self.lastfree > 0:
            self.lastfree -= 1
            if keys[self.lastfree] is None:
                return self.lastfree
        return _NONE

    def insert(self, key: bytes) -> None:
        """`t[key] = 1` (luaH_set + newkey); a present key is left alone."""
        if key in self.present:
            return
        self.present.add(key)
        self.hashes[key] = lua_string_hash(key)
        keys, nexts = self.keys, self.nexts
        while True:
            if not keys:  # the dummy node: always "occupied", no free position
                self._rehash()
                keys, nexts = self.keys, self.nexts
                continue
            mp = self._mainposition(key)
            if keys[mp] is not None:
                free = self._getfreepos()
                if free == _NONE:
                    self._rehash()
                    keys, nexts = self.keys, self.nexts
                    continue
                othern = self._mainposition(keys[mp])
                if othern != mp:
                    # the colliding node is out of its main position: move it to `free`
                    while nexts[othern] != mp:
                        othern = nexts[othern]
                    nexts[othern] = free
                    keys[free], nexts[free] = keys[mp], nexts[mp]
                    nexts[mp] = _NONE
                else:
                    # the colliding node owns mp: the new key goes to `free`
                    nexts[free] = nexts[mp]
                    nexts[mp] = free
                    mp = free
            keys[mp] = key
            return

    def _rehash(self) -> None:
        """Grow the hash part (rehash + resize_hashpart for string keys).

        Old nodes keep their indices; each occupied node is then moved to its
        new main position in index order (move_node), not re-inserted.
        """
        oldsize = len(self.keys)
        totaluse = sum(1 for key in self.keys if key is not None) + 1
        newsize = 1 << (totaluse - 1).bit_length()
        self.keys.extend([None] * (newsize - oldsize))
        self.nexts = [_NONE] * newsize  # old chains are broken, new nodes unlinked
        self.lastfree = newsize
        for i in range(newsize):
            if self.keys[i] is not None:
                while not self._move_node(i):
                    pass

    def _find_prev_node(self, start: int, target: int) -> int:
        """The node reached from `start` along `next` links whose next is `target`."""
        nexts = self.nexts
        prev = start
        while prev != _NONE and nexts[prev] != target:
            prev = nexts[prev]
        return prev

    def _move_node(self, i: int) -> bool:
        """ltable.c move_node; False means node `i` now holds another key to place."""
        keys, nexts = self.keys, self.nexts
        mp = self._mainposition(keys[i])
        if mp == i or self._find_prev_node(mp, i) != _NONE:
            return True
        if keys[mp] is None:
            keys[mp], nexts[mp] = keys[i], nexts[i]
            keys[i], nexts[i] = None, _NONE
            return True
        othermp = self._mainposition(keys[mp])
        if othermp != mp:
            # swap the colliding node (out of its main position) with node i
            prev = self._find_prev_node(othermp, mp)
            if prev != _NONE:
                nexts[prev] = i
            keys[i], keys[mp] = keys[mp], keys[i]
            nexts[i], nexts[mp] = nexts[mp], nexts[i]
            return prev != _NONE
        nexts[i] = nexts[mp]
        nexts[mp] = i
        return True


def proto_strings(f: Proto) -> Iterator[bytes]:
    """The strings of a proto tree in scanProtoStrings order (pre-order).

    Packed line info is interned as a C string, so it stops at a NUL. A NULL
    name or string constant (possible in a `.lc` input) is an ImageError:
    luac.cross dereferences it and dies of SIGSEGV.
    """
    if f.source is not None:
        yield f.source
    if f.packedlineinfo is not None:
        yield f.packedlineinfo.split(b"\0", 1)[0]
    for k in f.constants:
        if k is NULL_STRING:
            raise _null_string()
        if isinstance(k, bytes):
            yield k
    for name in f.upvalues:
        if name is None:
            raise _null_string()
        yield name
    for var in f.locvars:
        if var.varname is None:
            raise _null_string()
        yield var.varname
    for child in f.protos:
        yield from proto_strings(child)


def _null_string() -> ImageError:
    return ImageError(
        "cannot build an LFS image with a NULL string (a name or string constant of length 0)"
    )


def collect_strings(main: Proto) -> HostStringTable:
    """The host table luac.cross fills with every string of the image."""
    table = HostStringTable()
    for s in proto_strings(main):
        table.insert(s)
    return table
