"""The main functions luac.cross makes over several compiled files (luac.c `combine`).

Type 0 (`combine_mains`) calls every file's main in turn; type 1
(`build_lookup_main`, for `-f`, `-a`, `-m`, `-i`) is the LFS lookup function:
`main(name)` returns the closure of the module called `name`, anything else
returns the build time and the list of module names (formats reference §6).
"""

from lfs_format.errors import ImageError
from lfs_format.instruction import MAXARG_SBX, create_abc as _abc, create_abx as _abx, rkask
from lfs_format.lua51.opcodes import LFIELDS_PER_FLUSH, OpCode
from lfs_format.lua51.proto import Proto
from lfs_format.target import Target


class TooManyModulesError(ImageError):
    """More modules than a lookup main can index (luac.c reports it as a usage error)."""


COMBINED_SOURCE = b"=(luac)"  # "=(" PROGNAME ")"


def int2fb(x: int) -> int:
    """luaO_int2fb: `x` as a "floating point byte" (eeeeexxx), rounding up."""
    e = 0
    while x >= 16:
        x = (x + 1) >> 1
        e += 1
    if x < 8:
        return x
    return ((e + 1) << 3) | (x - 8)


def corename(source: bytes) -> bytes:
    """luac.c `corename`: a module's name from its chunk source (`@dir/name.lua` -> `name`).

    The basename is taken after the last `/`, or only when there is none,
    after the last `\\`; leading dots are skipped and the name ends at the
    next dot. An empty result falls back to the whole source minus its
    first character. C strings: everything stops at a NUL.
    """
    fn = source.split(b"\0", 1)[0][1:]
    slash = fn.rfind(b"/")
    if slash < 0:
        slash = fn.rfind(b"\\")
    name = fn[slash + 1 :].lstrip(b".")
    name = name.split(b".", 1)[0]
    return name if name else fn


def combine_mains(protos: list[Proto]) -> Proto:
    """Type 0: one file's own main, or a main that runs each file's main in order."""
    if len(protos) == 1:
        return protos[0]
    code = []
    for i in range(len(protos)):
        code.append(_abx(OpCode.CLOSURE, 0, i))
        code.append(_abc(OpCode.CALL, 0, 1, 1))
    code.append(_abc(OpCode.RETURN, 0, 1, 0))
    return Proto(source=COMBINED_SOURCE, maxstacksize=1, code=code, protos=list(protos))


def build_lookup_main(protos: list[Proto], timestamp: int, target: Target) -> Proto:
    """Type 1: the lookup main of an LFS image (also for a single file).

    Raises ImageError past 50 modules (luac.c reports it as a usage error).
    The timestamp constant is a lua_Number: float or int32 as `target` says.
    """
    n = len(protos)
    if n > LFIELDS_PER_FLUSH:
        raise TooManyModulesError(f"'-f': Number of modules > {LFIELDS_PER_FLUSH}")
    code = []
    for i in range(n):
        # if name == k[i] then return closure(p[i]) end
        code.append(_abc(OpCode.EQ, 0, 0, rkask(i)))
        code.append(_abx(OpCode.JMP, 0, MAXARG_SBX + 2))
        code.append(_abx(OpCode.CLOSURE, 1, i))
        code.append(_abc(OpCode.RETURN, 1, 2, 0))
    # return timestamp, {name_1, ..., name_n}
    code.append(_abx(OpCode.LOADK, 1, n))
    code.append(_abc(OpCode.NEWTABLE, 2, int2fb(n), 0))
    code.extend(_abx(OpCode.LOADK, i + 3, i) for i in range(n))
    code.append(_abc(OpCode.SETLIST, 2, n, 1))
    code.append(_abc(OpCode.RETURN, 1, 3, 0))
    code.append(_abc(OpCode.RETURN, 0, 1, 0))
    stamp = _int32(timestamp) if target.integral else float(timestamp)
    return Proto(
        source=COMBINED_SOURCE,
        numparams=1,
        maxstacksize=n + 3,
        code=code,
        constants=[*(corename(p.source or b"") for p in protos), stamp],
        protos=list(protos),
    )


def _int32(value: int) -> int:
    """`(lua_Number) time(NULL)` in the integer build: the low 32 bits, signed."""
    return (value + 0x80000000) % 0x100000000 - 0x80000000
