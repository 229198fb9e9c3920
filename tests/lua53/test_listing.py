"""The Lua 5.3 `-l` / `-l -l` listing against the reference's recorded listings.

Each `list` case (`-l -l -p FILE`) is reproduced from the `.lc` the reference
wrote for the same file (its `lc` case): read, then listed.
"""

import pytest

from lfs_format.errors import LuacrossError
from lfs_format.lua53.lc import read_lc
from lfs_format.target import LUA53
from luacross.lua53.listing import list_chunk

from .golden53 import case, cases, lc_of, normalise_stdout, output_files, source_of, target


def _list_cases():
    for c in cases("list"):
        if c["expect"]["stdout"] is None or not c["args"][-1].endswith(".lua"):
            continue
        if "-o" in c["args"]:
            continue
        yield pytest.param(c, id=c["id"])


@pytest.mark.parametrize("case", list(_list_cases()))
def test_golden_listing(case):
    source = source_of(case)
    data = lc_of(case["variant"], source)
    main = read_lc(data, b"@" + source.encode(), target(case))
    text = list_chunk(main, full=case["args"].count("-l") > 1, target=target(case))
    assert normalise_stdout(text.decode("latin-1")) == case["expect"]["stdout"]


def test_short_listing_of_the_written_chunk():
    """`-l -o out.lc`: the listing without constants, locals and upvalues."""
    c = case("lua53/list/with-output")
    (data,) = output_files(c).values()
    main = read_lc(data, b"@apps/app.lua", LUA53)
    text = list_chunk(main, full=False, target=LUA53).decode("latin-1")
    assert normalise_stdout(text) == c["expect"]["stdout"]


def test_same_function_same_address():
    data = lc_of("lua53", "apps/app.lua")
    text = list_chunk(read_lc(data, b"@apps/app.lua", LUA53), full=True, target=LUA53).decode()
    first_closure = text.split("CLOSURE")[1].split("\n")[0].split("; ")[1]
    header = text.split("\nfunction <")[1].split("\n")[0]
    assert header.endswith(f"at {first_closure})")


# A chunk made by hand: NULL source, no line info, a constant of every kind.
# The listing is what the reference printed for it (addresses normalised).
CONSTANTS_LC = bytes.fromhex(
    "1b4c7561530a19930d0a1a0a04040404200040b943015000000001020001260080000c200000c07f200000c0ff"
    "20000080ff200000008020caf24971200000c8423f4011100055e9007f0101015001000000"
)
CONSTANTS_LISTING = """
main <?:0,0> (1 instruction at 0x?)
0+ params, 2 slots, 1 upvalue, 0 locals, 12 constants, 0 functions
\t1\t[-]\tRETURN   \t0 1
constants (12) for 0x?:
\t1\tnan
\t2\t-nan
\t3\t-inf
\t4\t-0.0
\t5\t1e+30
\t6\t100.0
\t7\t15
\t8\t-1
\t9\ttrue
\t10\tfalse
\t11\tnil
\t12\t"\\233\\000\\127\\001"
locals (0) for 0x?:
upvalues (1) for 0x?:
\t0\t-\t1\t0
"""


def test_damaged_chunk_is_refused_not_crashed():
    main = read_lc(CONSTANTS_LC, b"@consts.lc", LUA53)
    main.code = [0x00400001]  # LOADK 0 256: there are 12 constants
    with pytest.raises(LuacrossError, match="damaged .lc input"):
        list_chunk(main, full=False, target=LUA53)


def test_every_kind_of_constant():
    main = read_lc(CONSTANTS_LC, b"@consts.lc", LUA53)
    text = list_chunk(main, full=True, target=LUA53).decode("latin-1")
    assert normalise_stdout(text) == CONSTANTS_LISTING
