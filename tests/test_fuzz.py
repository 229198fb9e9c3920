"""The CLI on hostile input: random bytes, broken sources, corrupted `.lc`
chunks, and (for `luacross check`) corrupted LFS images.

Whatever the input, `luacross` must exit 0 or 1, never show a traceback or an
internal error, report a failure as one `luacross: ...` line on stderr (a
Lua syntax error may span lines only where stock Lua's own message does),
and leave an existing output file untouched when it fails. Source inputs are
also checked against stock Lua: both accept, or both reject with the same
message. Examples are derandomized, so every run is the same and bounded.
"""

import os
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import lupa.lua51
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from test_differential import NODEMCU_LOCALS_LIMIT, skip_first_line_comment

from golden import BLOBS, CORPUS, REPO, cases, run_cli

SENTINEL = b"previous output, must survive a failed run\n"
LUA_TOKENS = [
    b"(", b")", b"end", b"[[", b"]]", b"--[[", b'"', b"'", b"\\", b"...", b"=", b"\n", b"function",
    b"local", b"{", b"}", b"0x", b"1e", b"..", b"[=", b"\r", b"\0", b"\xff",
]  # fmt: skip
FUZZ_SETTINGS = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_lua = lupa.lua51.LuaRuntime(encoding=None)


@cache
def corpus_sources() -> list[bytes]:
    folders = [CORPUS / "syntax", CORPUS / "apps"]
    return [path.read_bytes() for folder in folders for path in sorted(folder.glob("*.lua"))]


@cache
def golden_outputs(suffix: str) -> list[tuple[str, bytes]]:
    """(variant, bytes) of every `.lc` or `.img` file the real luac.cross wrote."""
    outputs = {}
    for case in cases():
        for name, meta in case["expect"]["files"].items():
            if name.endswith(suffix) and case["expect"]["exit"] == 0:
                outputs[meta["sha256"]] = (case["variant"], (BLOBS / meta["sha256"]).read_bytes())
    return sorted(outputs.values())


@st.composite
def mutated(draw, base: bytes, tokens: list[bytes] = ()) -> bytes:
    """`base` with a few random byte-level edits (and Lua tokens spliced in)."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "word", "token"]))
        if edit == "flip" and pos < len(data):
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif edit == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        elif edit == "delete":
            del data[pos : pos + draw(st.integers(1, 16))]
        elif edit == "truncate":
            del data[pos:]
        elif edit == "word":  # counts and sizes in a chunk: huge, negative, zero
            value = draw(st.sampled_from([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0x10000]))
            data[pos : pos + 4] = value.to_bytes(4, "little")
        elif tokens:
            data[pos:pos] = draw(st.sampled_from(tokens))
    return bytes(data)


@st.composite
def mutated_sources(draw) -> bytes:
    return draw(mutated(draw(st.sampled_from(corpus_sources())), LUA_TOKENS))


@st.composite
def mutated_outputs(draw, suffix: str) -> tuple[str, bytes]:
    variant, data = draw(st.sampled_from(golden_outputs(suffix)))
    return variant, draw(mutated(data))


def run_on_input(data: bytes, options: list[str], *, name: str = "in.lua"):
    """Run the CLI in-process on `data` with an existing output file; check the contract."""
    with tempfile.TemporaryDirectory() as tmp:
        source, output = os.path.join(tmp, name), os.path.join(tmp, "out.bin")
        Path(source).write_bytes(data)
        Path(output).write_bytes(SENTINEL)
        run = run_cli([*options, "-o", output, source])
        stderr = run.stderr.decode("utf-8", "surrogateescape")
        assert run.status in (0, 1), stderr
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr
        if run.status == 0:
            assert Path(output).read_bytes() != SENTINEL
        else:
            assert stderr.startswith("luacross: ") and stderr.endswith("\n"), stderr
            assert Path(output).read_bytes() == SENTINEL, "a failed run changed the output file"
        assert sorted(os.listdir(tmp)) == sorted([name, "out.bin"]), "temporary files left behind"
        return run, source


def check_against_stock(data: bytes, run, source: str) -> None:
    """A source input: stock Lua accepts it or rejects it with the same message."""
    text = skip_first_line_comment(data)
    if data.startswith(b"#") and text[1:2] == b"\x1b":
        return  # luaL_loadfile reads a precompiled chunk after a `#` line
    chunkname = b"@" + os.fsencode(source)
    result = _lua.globals().loadstring(text, chunkname)
    stock_error = result[1] if isinstance(result, tuple) else None
    message = run.stderr.removeprefix(b"luacross: ").removesuffix(b"\n")
    if run.status == 1 and NODEMCU_LOCALS_LIMIT.search(message.decode("latin-1")):
        return  # NodeMCU's 50 locals vs stock's 200 (test_differential checks this case)
    if stock_error is None:
        assert run.status == 0, f"stock Lua compiles it, we fail: {message!r}"
    else:
        assert message == stock_error, f"stock: {stock_error!r}"


@FUZZ_SETTINGS
@given(st.binary(max_size=400))
@example(b"\x00x = 1\n")  # a NUL token: luac gives no `near` text for token 0
@example(b"x = 1 .\x00 2\n")  # llex's check_next(strchr) takes NUL as the second `.` of `..`
@example(b"x = a ..\x00\n")  # ... and as the third `.` of `...`
def test_random_bytes(data):
    run, source = run_on_input(data, [])
    if not data.startswith(b"\x1b"):
        check_against_stock(data, run, source)
    else:
        assert run.status == 1 and run.stderr.count(b"\n") == 1


@FUZZ_SETTINGS
@given(mutated_sources())
def test_mutated_source(data):
    run, source = run_on_input(data, [])
    if not data.startswith(b"\x1b"):
        check_against_stock(data, run, source)


@FUZZ_SETTINGS
@given(st.sampled_from(corpus_sources()), st.floats(0, 1))
def test_truncated_source(data, fraction):
    data = data[: int(len(data) * fraction)]
    run, source = run_on_input(data, [])
    check_against_stock(data, run, source)


@FUZZ_SETTINGS
@given(mutated_outputs(".lc"), st.sampled_from([[], ["-l"], ["-f"], ["-s"]]))
def test_mutated_golden_chunk(chunk, options):
    variant, data = chunk
    flags = ["--int"] if variant == "int" else []
    run, _ = run_on_input(data, flags + options, name="in.lc")
    if run.status == 1:
        assert run.stderr.count(b"\n") == 1, run.stderr


@FUZZ_SETTINGS
@given(st.binary(max_size=200).map(lambda tail: b"\x1bLuaQ" + tail))
def test_binary_garbage_chunk(data):
    run, _ = run_on_input(data, [], name="in.lc")
    assert run.status == 1 and run.stderr.count(b"\n") == 1, run.stderr


@FUZZ_SETTINGS
@given(mutated_outputs(".img"))
def test_mutated_golden_image_check(image):
    """`luacross check` (the device loader's model) on corrupted images."""
    _, data = image
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "lfs.img")
        Path(path).write_bytes(data)
        run = run_cli(["check", path])
    stderr = run.stderr.decode("utf-8", "surrogateescape")
    assert run.status in (0, 1), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    if run.status == 1:
        assert stderr.startswith("luacross: ") and stderr.count("\n") == 1, stderr


@pytest.mark.parametrize(
    "data",
    [b"\x1bLuaQ\x00\x01\x04\x04\x04\x08\x00", b"x = = 1\n", b"\xff\xfe\x00garbage"],
    ids=["truncated-chunk", "syntax-error", "garbage"],
)
def test_installed_entry_point(data, tmp_path):
    """The console script itself: exit 1, one line, no traceback, output untouched."""
    luacross = REPO / ".venv" / "bin" / "luacross"
    assert luacross.exists(), "run `make install`"
    source, output = tmp_path / "in.lua", tmp_path / "out.lc"
    source.write_bytes(data)
    output.write_bytes(SENTINEL)
    run = subprocess.run([luacross, "-o", output, source], capture_output=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.startswith(b"luacross: ") and run.stderr.count(b"\n") == 1, run.stderr
    assert output.read_bytes() == SENTINEL
