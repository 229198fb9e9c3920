"""The CLI against every recorded luac.cross run, and its own rules."""

import re

import pytest

from golden import REPO, cases, epoch, normalise_listing, normalise_stderr, run_cli, sha256, stage
from luacross.cli import USAGE, UsageError, parse_args, parse_number


@pytest.mark.parametrize("case", cases(), ids=lambda case: case["id"])
def test_golden_case(case, tmp_path, monkeypatch):
    """Each recorded luac.cross command line gives the same exit, output and files."""
    work = tmp_path / "w"
    work.mkdir()
    stage(case, work)
    monkeypatch.chdir(work)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch()))
    monkeypatch.setenv("TZ", "UTC")
    stdin = (work / case["stdin"]).read_bytes() if case.get("stdin") else b""
    before = {path for path in work.rglob("*") if path.is_file()}
    args = (["--int"] if case["variant"] == "int" else []) + case["args"]

    run = run_cli(args, stdin)

    expect = case["expect"]
    assert (run.status == 0) == (expect["exit"] == 0), run.stderr.decode("latin-1")
    assert run.status in (0, 1)
    if expect.get("compare") == "exit":
        return
    stdout = normalise_listing(run.stdout.decode("latin-1"))
    if expect.get("stdout_sha256"):
        assert sha256(stdout.encode("latin-1")) == expect["stdout_sha256"]
    else:
        assert stdout == expect["stdout"]
    if expect.get("compare") != "exit,stdout":
        assert normalise_stderr(run.stderr.decode("latin-1")) == expect["stderr"]
    written = {
        str(path.relative_to(work)): path.read_bytes()
        for path in work.rglob("*")
        if path.is_file() and path not in before
    }
    if expect["exit"] != 0:
        assert not written, "a failed run must leave no output behind"
        return
    assert {name: sha256(data) for name, data in written.items()} == {
        name: meta["sha256"] for name, meta in expect["files"].items()
    }


# -- doargs rules ------------------------------------------------------------------


def test_counted_listing_and_files():
    opts = parse_args(["-l", "-l", "-o", "x.lc", "a.lua", "-", "b.lua"])
    assert opts.listing == 2 and opts.output == "x.lc"
    assert opts.files == ["a.lua", None, "b.lua"]


def test_options_stop_at_first_file_and_after_double_dash():
    opts = parse_args(["a.lua", "-s"])
    assert opts.files == ["a.lua", "-s"] and not opts.stripping
    assert parse_args(["--", "-p"]).files == ["-p"]


def test_dash_alone_is_stdin_and_ends_options():
    assert parse_args(["-", "-p"]).files == [None, "-p"]


def test_list_without_files_lists_luac_out():
    opts = parse_args(["-l"])
    assert opts.files == ["luac.out"] and not opts.dumping


def test_output_dash_is_stdout():
    assert parse_args(["-o", "-", "a.lua"]).output is None


def test_flash_options_imply_lookup():
    for args in (["-f"], ["-a", "0x40220000"], ["-m", "0x10000"]):
        opts = parse_args(args + ["a.lua"])
        assert opts.flash and opts.lookup
    assert parse_args(["-i", "a.lua"]).lookup and not parse_args(["-i", "a.lua"]).flash


@pytest.mark.parametrize(
    "args, message",
    [
        (["-Z", "a.lua"], "unrecognized option '-Z'"),
        (["-f", "-m", "0x1001", "a.lua"], "'-e' maximum size must be a multiple of 4,096"),
        (["-a", "0x30000000", "a.lua"], "'-e' absolute address must be valid flash address"),
        (["-o"], "'-o' needs argument"),
        (["-e", "-x"], "'-e' needs argument"),
    ],
)
def test_usage_errors_use_luac_wording(args, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_args(args)


def test_absolute_address_window_is_inclusive():
    assert parse_args(["-a", "0x40210000", "a.lua"]).address == 0x40210000
    assert parse_args(["-a", "0x40310000", "a.lua"]).address == 0x40310000
    with pytest.raises(UsageError):
        parse_args(["-a", "0x40310004", "a.lua"])


@pytest.mark.parametrize(
    "text, value",
    [("4096", 4096), ("0x10000", 0x10000), ("010", 8), ("0", 0), ("64K", 65536), ("1M", 1 << 20)],
)
def test_numbers_read_like_strtol_with_size_suffixes(text, value):
    assert parse_number(text, "-m", sizes=True) == value


def test_size_suffix_only_where_sizes_are_meant():
    with pytest.raises(UsageError):
        parse_number("64K", "-a")
    with pytest.raises(UsageError):
        parse_number("lots", "-m", sizes=True)


def test_version_alone_prints_and_exits():
    run = run_cli(["-v"])
    assert run.status == 0
    assert run.stdout == b"Lua 5.1.4  Copyright (C) 1994-2011 Lua.org, PUC-Rio\n"


def test_usage_error_prints_message_then_usage():
    run = run_cli(["-Z"])
    assert run.status == 1
    text = run.stderr.decode()
    assert text.startswith("luacross: unrecognized option '-Z'\nusage: luacross [options]")


def test_help_lists_every_option():
    run = run_cli(["--help"])
    assert run.status == 0
    for flag in [
        "-l",
        "-o",
        "-e",
        "-f",
        "-a",
        "-m",
        "-i",
        "-p",
        "-s",
        "-v",
        "--",
        "--int",
        "--best",
        "--strip-image",
        "check",
        "run",
    ]:
        assert re.search(rf"^\s+{re.escape(flag)}\b", run.stdout.decode(), re.M), flag
    assert run.stdout.decode() == USAGE


def test_missing_input_file_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = run_cli(["-o", "out.lc", "nope.lua"])
    assert run.status == 1
    assert run.stderr == b"luacross: cannot open nope.lua: No such file or directory\n"
    assert not (tmp_path / "out.lc").exists()


def test_directory_input_cannot_be_read(tmp_path, monkeypatch):
    """luac.cross: fopen() opens a directory, the first read fails (lauxlib errfile "read")."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    run = run_cli(["-o", "out", "d"])
    assert run.status == 1
    assert run.stderr == b"luacross: cannot read d: Is a directory\n"


# -- precompiled inputs: what lundump accepts -------------------------------------

# luac.cross / luac.cross.int -o of b"local x = 1\nprint(x)\nreturn function(a) return a + x end\n"
# saved as a.lua, and of b"return 1\n" as r.lua (float build)
A_FLOAT_LC = bytes.fromhex(
    "1b4c756151000104040408000700000040612e6c75610000000000000000000000020308000000000100"
    "000045400000800000005c40000164000000000000005e0000011e0080000200000003000000000000f0"
    "3f04060000007072696e7400010000000000000003000000030000000101000204000000440000004c40"
    "00005e0000011e0080000000000000000000030000008104000000000000000000040000000001030400"
    "0000000000000000"
)
A_INT_LC = bytes.fromhex(
    "1b4c756151000104040404010700000040612e6c75610000000000000000000000020308000000000100"
    "000045400000800000005c40000164000000000000005e0000011e008000020000000301000000040600"
    "00007072696e7400010000000000000003000000030000000101000204000000440000004c4000005e00"
    "00011e008000000000000000000003000000810400000000000000000004000000000103040000000000"
    "00000000"
)
R_FLOAT_LC = bytes.fromhex(
    "1b4c756151000104040408000700000040722e6c75610000000000000000000000020203000000000100"
    "00001e0000011e0080000100000003000000000000f03f00000000020000000000000300000000000000"
    "0000"
)


def test_precompiled_trailer_ignored(tmp_path, monkeypatch):
    """luac.cross: lua_load never reads past the main function; the .lc is copied unchanged."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "trail.lc").write_bytes(R_FLOAT_LC + b"xyz")
    run = run_cli(["-o", "out", "trail.lc"])
    assert (run.status, run.stderr) == (0, b"")
    assert (tmp_path / "out").read_bytes() == R_FLOAT_LC


def test_truncated_float_chunk_is_bad_header_for_int_build(tmp_path, monkeypatch):
    """luac.cross.int compares the header with its own before reading the body."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cut.lc").write_bytes(A_FLOAT_LC[:13])
    run = run_cli(["--int", "-o", "out", "cut.lc"])
    assert run.status == 1
    assert run.stderr == b"luacross: cut.lc: bad header in precompiled chunk\n"


def test_int_chunk_loads_into_float_build(tmp_path, monkeypatch):
    """luac.cross converts an INT .lc's numbers to doubles (lundump toflt): the same bytes
    as compiling the source with the float build."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ai.lc").write_bytes(A_INT_LC)
    run = run_cli(["-o", "out", "ai.lc"])
    assert (run.status, run.stderr) == (0, b"")
    assert (tmp_path / "out").read_bytes() == A_FLOAT_LC


def test_compile_limit_message_has_no_position(tmp_path, monkeypatch):
    """luac.cross: `PROG: too many local variables` (luaG_runerror outside Lua code)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lv.lua").write_bytes(b"do local a end\n" * 32768)
    run = run_cli(["-o", "out", "lv.lua"])
    assert (run.status, run.stderr) == (1, b"luacross: too many local variables\n")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "output, message",
    [
        ("/dev/full", "cannot close /dev/full: No space left on device"),  # as luac.cross
        ("missing/", "cannot open missing/: Is a directory"),
        ("missing/out.lc", "cannot open missing/out.lc: No such file or directory"),
    ],
)
def test_output_errors_are_luac_cannot_messages(output, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.lua").write_bytes(b"return 1\n")
    run = run_cli(["-o", output, "a.lua"])
    assert run.status == 1
    assert run.stderr == f"luacross: {message}\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.lua"]


# -- outputs are all-or-nothing ---------------------------------------------------


def test_failed_compile_leaves_existing_output_untouched(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.lua").write_bytes(b"x = = 1\n")
    (tmp_path / "out.lc").write_bytes(b"precious")
    run = run_cli(["-o", "out.lc", "bad.lua"])
    assert run.status == 1
    assert run.stderr == b"luacross: bad.lua:1: unexpected symbol near '='\n"
    assert (tmp_path / "out.lc").read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.lua", "out.lc"]


def test_readme_quick_start_is_the_two_make_targets():
    readme = (REPO / "README.md").read_text()
    makefile = (REPO / "Makefile").read_text()
    assert "make demo" in readme and "make test" in readme
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
