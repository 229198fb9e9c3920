"""`luacross --lua 5.3`: the recorded command lines of the 5.3 luac.cross, and
the rules of the flags that choose a core."""

import shutil

import pytest

from golden import run_cli
from luacross import api
from luacross.cli import parse_args

from .golden53 import (
    CORPUS,
    VARIANT_FLAGS,
    case,
    cases,
    epoch,
    normalise_stderr,
    normalise_stdout,
    output_files,
    sha256,
)

# the command-line categories; the compiler's own (lc, strip, list, error) are
# replayed here for a few files only (see the compiler's tests for all of them)
CLI_CATEGORIES = ("combine", "lookup", "stdin", "usage", "version", "missing-file")
SAMPLES = ("apps/app", "apps/init", "syntax/shebang_first_line", "with-output", "in-image")


def _cli_cases():
    for c in cases():
        parts = c["id"].split("/", 2)
        category, name = parts[1], parts[2] if len(parts) > 2 else ""
        if "seed" in c or c["id"].split("/")[1] == "absimage":
            continue  # LFS images: test_images.py
        if category in CLI_CATEGORIES or name in SAMPLES:
            yield pytest.param(c, id=c["id"])


def _stage(c: dict, work) -> None:
    for name in [*c["args"], c.get("stdin") or ""]:
        source = CORPUS / name
        if name and source.is_file():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, work / name)


@pytest.mark.parametrize("case", list(_cli_cases()))
def test_golden_case(case, tmp_path, monkeypatch):
    work = tmp_path / "w"
    work.mkdir()
    _stage(case, work)
    monkeypatch.chdir(work)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch()))
    stdin = (work / case["stdin"]).read_bytes() if case.get("stdin") else b""
    before = {path for path in work.rglob("*") if path.is_file()}

    run = run_cli(VARIANT_FLAGS[case["variant"]] + case["args"], stdin)

    expect = case["expect"]
    assert run.status == expect["exit"], run.stderr.decode("latin-1")
    if expect.get("compare") == "exit":
        return
    assert normalise_stdout(run.stdout.decode("latin-1")) == expect["stdout"]
    assert normalise_stderr(run.stderr.decode("latin-1")) == expect["stderr"]
    written = {
        str(path.relative_to(work)): sha256(path.read_bytes())
        for path in work.rglob("*")
        if path.is_file() and path not in before
    }
    assert written == {name: meta["sha256"] for name, meta in expect["files"].items()}


# -- choosing the core -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ([], "float"),
        (["--int"], "int"),
        (["--lua", "5.1", "--int"], "int"),
        (["--lua", "51"], "float"),
        (["--lua", "5.3"], "lua53"),
        (["--lua", "53"], "lua53"),
        (["--lua", "5.3", "--numbers", "32"], "lua53"),
        (["--numbers", "64", "--lua", "5.3"], "lua53-64"),
    ],
)
def test_target_chosen_once(args, name):
    assert parse_args([*args, "x.lua"]).target.name == name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lua", "5.3", "--int"], "--int is the Lua 5.1 integer build"),
        (["--numbers", "64"], "--numbers selects a Lua 5.3 build"),
        (["--lua", "5.2"], "unknown Lua version '5.2'"),
        (["--lua", "5.3", "--numbers", "16"], "unknown number format '16'"),
        (["--lua", "5.3", "-e", "x.lua"], "not supported with --lua 5.3"),
    ],
)
def test_refused_combinations(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.lua").write_bytes(b"return 1\n")
    run = run_cli([*args, "x.lua"] if "-a" not in args else args)
    assert run.status == 1
    lines = run.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("luacross: ") and message in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.lua"]


def test_output_name_starting_with_a_dash(tmp_path, monkeypatch):
    """The 5.3 luac.cross refuses `-o -x` ("'-o' needs argument"); the 5.1 one writes "-x"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.lua").write_bytes(b"return 1\n")
    run = run_cli(["--lua", "5.3", "-o", "-x", "x.lua"])
    assert run.status == 1 and run.stderr.startswith(b"luacross: '-o' needs argument\n")
    assert run_cli(["-o", "-x", "x.lua"]).status == 0 and (tmp_path / "-x").is_file()


def test_lua_needs_an_operand():
    run = run_cli(["--lua"])
    assert run.status == 1
    assert run.stderr.decode().startswith("luacross: '--lua' needs argument\n")


def test_version_with_core_flags_only():
    run = run_cli(["--lua", "5.3", "--numbers", "64", "-v"])
    assert (run.status, run.stdout) == (0, b"Lua 5.3.6  Copyright (C) 1994-2020 Lua.org, PUC-Rio\n")
    assert run_cli(["-v"]).stdout == b"Lua 5.1.4  Copyright (C) 1994-2011 Lua.org, PUC-Rio\n"


def test_default_output_is_luac_cross_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "apps").mkdir()
    shutil.copyfile(CORPUS / "apps/init.lua", tmp_path / "apps/init.lua")
    assert run_cli(["--lua", "5.3", "apps/init.lua"]).status == 0
    (expected,) = output_files(case("lua53/version/with-compile")).values()
    assert (tmp_path / "luac.cross.out").read_bytes() == expected
    # -l without files lists that file
    run = run_cli(["--lua", "5.3", "-l"])
    assert run.status == 0 and run.stdout.startswith(b"\nmain <apps/init.lua:0,0>")


def test_image_option_F_only_for_5_3(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(CORPUS / "apps/init.lua", tmp_path / "init.lua")
    # without -a or -e, luac.cross (5.3) accepts -F and ignores it
    assert run_cli(["--lua", "5.3", "-F", "none.img", "-o", "a.lc", "init.lua"]).status == 0
    run = run_cli(["-F", "none.img", "-o", "b.lc", "init.lua"])
    assert run.status == 1 and b"unrecognized option '-F'" in run.stderr
    assert run_cli(["--lua", "5.3", "-o", "c.lc", "-F"]).status == 1


def test_precompiled_inputs_among_sources(tmp_path, monkeypatch):
    """`.lc` inputs (named or on stdin) load as lundump loads them."""
    monkeypatch.chdir(tmp_path)
    (app_lc,) = output_files(case("lua53/lc/apps/app")).values()
    (tmp_path / "app.lc").write_bytes(app_lc)
    shutil.copyfile(CORPUS / "apps/init.lua", tmp_path / "init.lua")
    assert run_cli(["--lua", "5.3", "-o", "same.lc", "app.lc"]).status == 0
    assert (tmp_path / "same.lc").read_bytes() == app_lc
    assert run_cli(["--lua", "5.3", "-o", "stdin.lc", "-"], app_lc).status == 0
    assert (tmp_path / "stdin.lc").read_bytes() == app_lc
    assert run_cli(["--lua", "5.3", "-o", "both.lc", "app.lc", "init.lua"]).status == 0
    assert b"@apps/app.lua" in (tmp_path / "both.lc").read_bytes()
    # the other build's chunk, and a truncated one
    run = run_cli(["--lua", "5.3", "--numbers", "64", "-p", "app.lc"])
    assert run.stderr == b"luacross: app.lc: lua_Integer size mismatch in precompiled chunk\n"
    (tmp_path / "cut.lc").write_bytes(app_lc[:100])
    run = run_cli(["--lua", "5.3", "-p", "init.lua", "cut.lc"])
    assert run.stderr == b"luacross: cut.lc: truncated precompiled chunk\n"
    run = run_cli(["--lua", "5.3", "-p", "-"], b"#!x\n" + app_lc)  # stdin is not reopened
    assert run.stderr == b"luacross: stdin:2: unexpected symbol near '<\\27>'\n"


def test_api_selects_and_serves_each_core():
    for target in (api.select_target("5.1"), api.select_target("5.3", "64")):
        core = api.core_of(target)
        for name in ("load_inputs", "combine", "list_chunk", "dump_lc", "build_image"):
            assert callable(getattr(core, name))
