"""The main functions the Lua 5.3 luac.cross makes over several files
(app/lua53/host/luac.c `combine`, `corename`, `reorderfiles`).

Type 0 (several files, no `-i`/`-f`): a main that only returns, holding every
file's main as a sub-function. Type 1 (`-i`, `-f`): the same main, plus one
constant per file naming its module and, last, the build time as an integer.
Both mains are what the compiler makes of the source "\\n" named
"=(luac.cross)", with `numparams` 0 and `maxstacksize` 1; each file's main
gets `instack = 0` on its first upvalue (its _ENV is the combined main's).

A single file without `-i`/`-f` is its own main, unchanged.
"""

from collections.abc import Sequence

from lfs_format.errors import LuacrossError
from lfs_format.instruction import create_abc
from lfs_format.lua53.lc import LUAI_MAXSHORTLEN, wrap_integer
from lfs_format.lua53.opcodes import OP_RETURN
from lfs_format.lua53.proto import Proto, Upvaldesc
from lfs_format.target import Lua53Target

COMBINED_SOURCE = b"=(luac.cross)"  # "=(" PROGNAME ")"
STDIN_ARG = "-"


class DuplicateModuleError(LuacrossError):
    """Two files of a lookup main have the same module name (luac.c's fatal)."""


def corename(filename: bytes) -> tuple[bytes, bytes]:
    """luac.c `corename`: (module name, rest of the basename) of a chunk name.

    The first character (`@`, `=`) is dropped; the basename follows the last
    `/`, or only when there is none, the last `\\`; leading dots are skipped
    and the name ends at the next dot (`@dir/multi.part.lua` -> `multi`). The
    rest of the basename (`multi.part.lua`) is what the duplicate message
    shows. C strings: everything stops at a NUL.
    """
    fn = filename.split(b"\0", 1)[0][1:]
    cut = fn.rfind(b"/")
    if cut < 0:
        cut = fn.rfind(b"\\")
    rest = fn[cut + 1 :].lstrip(b".")
    return rest.split(b".", 1)[0], rest


def reorder_files(args: Sequence[str]) -> list[str | None]:
    """The inputs in luac.c's load order (`reorderfiles`, then pmain's loop).

    `args` are the file arguments as given (`-` is stdin). A file whose
    `corename` (of the raw argument minus its first character) is exactly `__`
    goes to the front, and the shift loop copies the first file into every
    slot up to its old place: `app fifo x/__` loads `x/__ app app`. pmain then
    reads stdin wherever the *original* argument was `-` (it tests `argv[i]`,
    not the reordered list); a `-` moved elsewhere is opened as a file of that
    name. Returns the paths to load, None for stdin.
    """
    order = list(args)
    for i, arg in enumerate(args):
        if corename(arg.encode("utf-8", "surrogateescape"))[0] == b"__":
            order[1 : i + 1] = [order[0]] * i
            order[0] = arg
        else:
            order[i] = arg
    return [None if arg == STDIN_ARG else order[i] for i, arg in enumerate(args)]


def _combined_main(protos: list[Proto]) -> Proto:
    """The compiled "\\n" (`=(luac.cross)`) holding `protos`, as combine leaves it."""
    main = Proto()
    main.source = COMBINED_SOURCE
    main.is_vararg = 1
    main.maxstacksize = 1
    main.code = [create_abc(OP_RETURN, 0, 1, 0)]
    main.upvalues = [Upvaldesc(None, 1, 0)]  # _ENV
    main.lineinfo = b"\x01\x00"  # one instruction on line 1, the terminator
    main.protos = list(protos)
    for f in protos:
        if f.upvalues:
            first = f.upvalues[0]
            f.upvalues[0] = Upvaldesc(first.name, 0, first.idx)
    return main


def combine(protos: list[Proto], *, lookup: bool, timestamp: int, target: Lua53Target) -> Proto:
    """luac.c `combine`: type 0, or with `lookup` type 1 (module names, `timestamp`).

    The file mains get `instack = 0` on their first upvalue (they are changed
    in place, as in C). Raises DuplicateModuleError when two module names
    of at most 40 bytes are equal (longer names are never interned, so luac.c
    never finds them equal).
    """
    if len(protos) == 1 and not lookup:
        return protos[0]
    main = _combined_main(protos)
    if lookup:
        names: list[bytes] = []
        for f in protos:
            name, rest = corename(b"=?" if f.source is None else f.source)
            if len(name) <= LUAI_MAXSHORTLEN and name in names:
                shown = rest.decode("utf-8", "surrogateescape")
                raise DuplicateModuleError(f"Cannot have duplicate files ('{shown}') in LFS")
            names.append(name)
        main.constants = [*names, wrap_integer(timestamp, target)]
    return main
