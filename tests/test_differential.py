"""Our compiler against stock Lua 5.1.5 (`lupa.lua51`), function by function.

NodeMCU's compiler is stock 5.1's apart from line info packing, stripped
local/upvalue names and LUAI_MAXVARS (formats reference, section 4), so for any
source both must give the same instruction words, constants, proto tree,
header fields and per-instruction lines, or the same syntax error.

Sources: the shared corpus, every Lua file Debian installs under
/usr/share/lua/5.1 (`make system-deps`), and random chunks from `luagen`.
"""

import re
from pathlib import Path

import lupa.lua51
import pytest
from hypothesis import HealthCheck, example, given, settings

from golden import CORPUS
from lfs_format.instruction import get_opcode
from lfs_format.lua51.lc import read_chunk
from lfs_format.lua51.opcodes import OpCode
from lfs_format.lua51.proto import Proto, constant_key
from luagen import lua_chunks

DEBIAN_LUA = Path("/usr/share/lua/5.1")
MIN_DEBIAN_FILES = 100
HEADER_FIELDS = ("numparams", "is_vararg", "maxstacksize", "nups", "linedefined", "lastlinedefined")

# NodeMCU stops at 50 active locals where stock Lua allows 200 (LUAI_MAXVARS)
NODEMCU_LOCALS_LIMIT = re.compile(
    r"(main function|function at line \d+) has more than 50 local variables"
)
STOCK_LOCALS_LIMIT = re.compile(r"has more than 200 local variables")
ERROR_LINE = re.compile(rb"^.*?:(\d+): ")

_lua = lupa.lua51.LuaRuntime(encoding=None)
_loadstring = _lua.globals().loadstring
_string_dump = _lua.globals().string.dump

# deep syntax nesting recurses deeply in a recursive-descent compiler (as in luacross.cli)


def skip_first_line_comment(source: bytes) -> bytes:
    """What luaL_loadfile does to a leading `#` line (loadstring does not)."""
    if not source.startswith(b"#"):
        return source
    newline = source.find(b"\n")
    return b"\n" if newline < 0 else source[newline:]


def stock_compile(source: bytes, chunkname: bytes) -> Proto | bytes:
    """Stock Lua's main proto, or its error message."""
    result = _loadstring(source, chunkname)
    if isinstance(result, tuple):
        return result[1]
    proto, _ = read_chunk(_string_dump(result))
    return proto


def our_compile(source: bytes, chunkname: bytes) -> Proto | bytes:
    """Our main proto, or our error message (as the CLI prints it, minus the program name)."""
    from luacross.lua51.lexer import LuaSyntaxError
    from luacross.lua51.parser import compile_source

    try:
        return compile_source(source, chunkname)
    except LuaSyntaxError as exc:
        return str(exc).encode("utf-8", "surrogateescape")  # as luacross.cli.report writes it


def max_active_locals(proto: Proto) -> int:
    """Most locals alive at once in any function of a stock (debug-info) proto.

    Locals nest like a stack, so local j was declared while every earlier local
    that outlives it was still active.
    """
    most = 0
    for f in proto.walk():
        ends = [var.endpc for var in f.locvars]
        for j, end in enumerate(ends):
            most = max(most, sum(1 for other in ends[: j + 1] if other >= end))
    return most


def proto_difference(ours: Proto, stock: Proto, where: str = "main") -> str | None:
    """The first difference between two proto trees, described, or None."""
    for name in HEADER_FIELDS:
        if getattr(ours, name) != getattr(stock, name):
            return f"{where}: {name} {getattr(ours, name)} != stock {getattr(stock, name)}"
    for pc, (mine, theirs) in enumerate(zip(ours.code, stock.code, strict=False)):
        if mine != theirs:
            return (
                f"{where}: pc {pc}: {_describe(mine)} != stock {_describe(theirs)}"
                f" (line {stock.lineinfo[pc] if pc < len(stock.lineinfo) else '?'})"
            )
    if len(ours.code) != len(stock.code):
        return f"{where}: {len(ours.code)} instructions != stock {len(stock.code)}"
    if [constant_key(k) for k in ours.constants] != [constant_key(k) for k in stock.constants]:
        return f"{where}: constants {ours.constants!r} != stock {stock.constants!r}"
    if ours.lineinfo != stock.lineinfo:
        pairs = zip(ours.lineinfo, stock.lineinfo, strict=False)
        pc = next(
            (i for i, (a, b) in enumerate(pairs) if a != b),
            min(len(ours.lineinfo), len(stock.lineinfo)),
        )
        mine, theirs = ours.lineinfo[pc : pc + 8], stock.lineinfo[pc : pc + 8]
        return f"{where}: lineinfo differs from pc {pc}: {mine} != stock {theirs}"
    if len(ours.protos) != len(stock.protos):
        return f"{where}: {len(ours.protos)} nested functions != stock {len(stock.protos)}"
    for i, (mine, theirs) in enumerate(zip(ours.protos, stock.protos, strict=True)):
        problem = proto_difference(mine, theirs, f"{where}/{i}@{theirs.linedefined}")
        if problem:
            return problem
    return None


def _describe(word: int) -> str:
    op = get_opcode(word)
    name = OpCode(op).name if op < len(OpCode) else f"op{op}"
    return f"{name} 0x{word:08x}"


def error_line(message: bytes) -> int:
    match = ERROR_LINE.match(message)
    return int(match.group(1)) if match else 0


def check_same(source: bytes, name: str) -> None:
    """Assert that our compiler and stock Lua agree on `source`."""
    chunkname = b"@" + name.encode()
    stock = stock_compile(source, chunkname)
    ours = our_compile(source, chunkname)
    if isinstance(ours, bytes) and NODEMCU_LOCALS_LIMIT.search(ours.decode("latin-1")):
        # the one intended difference: stock must really have gone past 50 locals
        # (or stopped at an error no earlier than ours)
        if isinstance(stock, bytes):
            assert STOCK_LOCALS_LIMIT.search(stock.decode("latin-1")) or error_line(
                stock
            ) >= error_line(ours), f"we stopped at the 50-locals limit: {ours!r}; stock: {stock!r}"
        else:
            assert max_active_locals(stock) > 50, f"stock has at most 50 locals, yet: {ours!r}"
        return
    if isinstance(stock, bytes):
        got = ours if isinstance(ours, bytes) else "no error"
        assert ours == stock, f"stock rejects {name} with {stock!r}; we give {got!r}"
        return
    assert not isinstance(ours, bytes), f"stock compiles {name}; we reject it: {ours!r}"
    problem = proto_difference(ours, stock)
    assert problem is None, f"{name}: {problem}"


def _corpus_files() -> list[Path]:
    return sorted(
        path for folder in ("syntax", "apps", "errors") for path in (CORPUS / folder).glob("*.lua")
    )


def _debian_files() -> list[Path | None]:
    files = sorted(DEBIAN_LUA.rglob("*.lua")) if DEBIAN_LUA.is_dir() else []
    return files if len(files) >= MIN_DEBIAN_FILES else [None]  # None: a failing placeholder


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_file(path):
    check_same(skip_first_line_comment(path.read_bytes()), f"{path.parent.name}/{path.name}")


def test_debian_corpus_is_installed():
    count = len(list(DEBIAN_LUA.rglob("*.lua"))) if DEBIAN_LUA.is_dir() else 0
    assert count >= MIN_DEBIAN_FILES, (
        f"only {count} Lua files under {DEBIAN_LUA}; run `make system-deps` to install them"
    )


@pytest.mark.parametrize(
    "path",
    _debian_files(),
    ids=lambda p: str(p.relative_to(DEBIAN_LUA)) if p else "missing-debian-lua",
)
def test_debian_file(path):
    if path is None:
        pytest.fail(f"too few Lua files in {DEBIAN_LUA}: run `make system-deps`")
    source = skip_first_line_comment(path.read_bytes())
    check_same(source, str(path.relative_to(DEBIAN_LUA)))


@pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")  # the parser raises it
@settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(lua_chunks())
@example(b"local a = -0%1\n")  # C's fmod-free a - floor(a/b)*b: +0, where Python's % gives -0
# more expressions than a generic for keeps: the extra registers stay reserved
@example(b"for a in x, y, z, w do return a, b end\n")
@example(b"for k, v in a, b, c, d, e do return f(k) end\n")
def test_generated_chunk(source):
    check_same(source, "gen.lua")


def _chain(op: str, term: str, n: int) -> bytes:
    return f"x = {f' {op} '.join([term] * n)}\n".encode()


@pytest.mark.parametrize(
    "source",
    [
        _chain("or", "a", 3000),
        _chain("and", "a", 3000),
        _chain("or", "(a and b)", 1000),
        _chain("and", "a < b", 1000),
        b"if " + _chain("or", "a == 1", 1000)[4:-1] + b" then f() end\n",
        b"if a then f()\n" + b"elseif a == 2 then f(2)\n" * 1000 + b"else g() end\n",
        b"while true do\n" + b"if a then break end\n" * 1000 + b"end\n",
        b"z = not (" + _chain("or", "a ~= b", 1000)[4:-1] + b")\n",
    ],
    ids=["or", "and", "or-of-and", "and-of-comparisons", "if-or", "elseif", "breaks", "not-or"],
)
def test_long_jump_lists(source):
    """Jump lists thousands long (concat appends to their ends), as stock Lua links them."""
    check_same(source, "chain.lua")
