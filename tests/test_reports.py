"""Build reports, wrong-kind messages, module names and the shared command line.

Facts come from the recorded luac.cross runs (image sizes, the files they wrote).
"""

import gzip
import json
import re

import pytest

from golden import CORPUS, REPO, blob, cases, output_blob, run_cli

APPS = cases("float/image/apps")[0]
APP_SOURCES = [arg for arg in APPS["args"] if arg.endswith(".lua")]  # relative to CORPUS
APPS_SIZE = int(re.search(r"Image size: (\d+)", APPS["expect"]["stdout"]).group(1))
LC_FLOAT = next(case for case in cases("float/lc/") if case["expect"]["files"])


@pytest.fixture(autouse=True)
def in_corpus(monkeypatch):
    """Run where the recording ran: chunk names are the paths given (apps/init.lua)."""
    monkeypatch.chdir(CORPUS)


def _build(tmp_path, monkeypatch, *extra):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704067200")
    image = tmp_path / "lfs.img"
    run = run_cli(["-f", *extra, "-o", str(image), *APP_SOURCES])
    return run, image


# -- the wrong kind of file ------------------------------------------------------


def test_check_and_run_name_a_bytecode_or_source_file(tmp_path):
    lc = tmp_path / "x.lc"
    lc.write_bytes(output_blob(LC_FLOAT))
    for command in ("check", "run"):
        run = run_cli([command, str(lc)])
        assert run.status == 1
        assert (
            run.stderr
            == (
                f"luacross: {lc} is a NodeMCU Lua 5.1 bytecode file (float build), "
                "not an LFS image\n"
            ).encode()
        )
    source = tmp_path / "init.lua"
    source.write_text("print(1)\n")
    run = run_cli(["check", str(source)])
    assert run.stderr == f"luacross: {source} is a Lua source file, not an LFS image\n".encode()


def test_compiler_names_an_image_given_as_source(tmp_path):
    image = tmp_path / "lfs.img"
    image.write_bytes(output_blob(APPS))
    for flags in ([], ["--lua", "5.3"]):
        run = run_cli([*flags, "-o", str(tmp_path / "out.lc"), str(image)])
        assert run.status == 1
        assert (
            run.stderr
            == (
                f"luacross: {image} is a NodeMCU Lua 5.1 LFS image, relocatable (float build), "
                "not Lua source\n"
            ).encode()
        )
    packed = tmp_path / "src.gz"
    packed.write_bytes(gzip.compress(b"print(1)\n"))
    run = run_cli(["-o", str(tmp_path / "out.lc"), str(packed)])
    assert (
        run.stderr
        == f"luacross: {packed} is a gzip file of Lua source (text), not Lua source\n".encode()
    )


def test_a_real_syntax_error_keeps_the_lexers_message(tmp_path):
    source = tmp_path / "bad.lua"
    source.write_bytes(b"x = = 1\n")
    run = run_cli(["-p", str(source)])
    assert run.status == 1
    assert run.stderr == f"luacross: {source}:1: unexpected symbol near '='\n".encode()


# -- one command line ------------------------------------------------------------


def test_version():
    run = run_cli(["--version"])
    assert run.status == 0
    text = run.stdout.decode()
    assert text.startswith("luacross ") and "Lua 5.1" in text and "Lua 5.3" in text
    assert text.count("\n") == 1


def test_source_date_epoch_outside_32_bits_is_refused(tmp_path, monkeypatch):
    for value in ("4294967296", "-1", "99999999999"):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
        run = run_cli(["-f", "-o", str(tmp_path / "lfs.img"), APP_SOURCES[0]])
        assert run.status == 1
        assert run.stderr.startswith(
            f"luacross: SOURCE_DATE_EPOCH {int(value)} is outside".encode()
        )
        assert run.stderr.count(b"\n") == 1
        assert not (tmp_path / "lfs.img").exists()


def test_options_that_do_not_apply_get_a_note(tmp_path):
    plain = run_cli(["-o", str(tmp_path / "a.lc"), APP_SOURCES[0]])
    best = run_cli(["--best", "-o", str(tmp_path / "b.lc"), APP_SOURCES[0]])
    assert best.status == 0
    assert best.stderr == b"luacross: note: --best applies to -f images only; ignored\n"
    assert (tmp_path / "a.lc").read_bytes() == (tmp_path / "b.lc").read_bytes()
    assert plain.stderr == b""
    strip = run_cli(["--strip-image", "-o", str(tmp_path / "c.lc"), APP_SOURCES[0]])
    assert strip.stderr == b"luacross: note: --strip-image applies to -f/-a images only; ignored\n"


def test_image_to_stdout_holds_only_the_image(tmp_path, monkeypatch):
    run, image = _build(tmp_path, monkeypatch)
    to_stdout = run_cli(["-f", "-o", "-", *APP_SOURCES])
    assert to_stdout.status == 0
    assert to_stdout.stdout == image.read_bytes() == output_blob(APPS)
    assert to_stdout.stderr == f"Image size: {APPS_SIZE}\n".encode()


def test_device_commands_help_and_usage_errors():
    for command in ("check", "run", "inspect"):
        help_run = run_cli([command, "--help"])
        assert help_run.status == 0
        text = help_run.stdout.decode()
        for noise in ("<bool>", "<path>", "{IMAGE}", "{image}", "╭", "│"):
            assert noise not in text, (command, noise)
        usage = run_cli([command, "--no-such-option"])
        assert usage.status == 2
        assert usage.stderr.startswith(b"luacross: ") and usage.stderr.count(b"\n") == 1
    assert "--code CODE" in run_cli(["run", "--help"]).stdout.decode()


# -- build reports ---------------------------------------------------------------


def test_report_table_adds_up_to_the_image_size(tmp_path, monkeypatch):
    run, image = _build(tmp_path, monkeypatch, "--report")
    assert run.status == 0
    assert image.read_bytes() == output_blob(APPS)  # --report changes nothing written
    out = run.stdout.decode()
    assert out.startswith(f"Image size: {APPS_SIZE}\n")
    assert f"total: {APPS_SIZE} bytes of flash of 262144" in out
    assert "╭" not in out and "┃" not in out  # plain when piped
    rows = [line.split() for line in out.splitlines()[2:] if line.startswith("  ")]
    names = [row[0] for row in rows]
    assert names[:-1] == [a.rsplit("/", 1)[1][:-4] for a in APP_SOURCES]
    assert sum(int(row[1]) for row in rows) == APPS_SIZE


def test_json_report_for_ci(tmp_path, monkeypatch):
    report = tmp_path / "size.json"
    run, _ = _build(tmp_path, monkeypatch, "-m", "128K", "--json", str(report))
    assert run.status == 0
    doc = json.loads(report.read_text())
    assert doc["schema"] == "luacross-inspect/1" and doc["limit"] == 131072
    from test_inspect import _validate

    schema = json.loads((REPO / "docs" / "inspect-schema.json").read_text())
    _validate(doc, schema, schema)
    (entry,) = doc["files"]
    image = entry["image"]
    assert image["flash_size"] == APPS_SIZE and image["timestamp"] == 1704067200
    total = sum(m["bytes"] for m in image["modules"]) + sum(image["overhead"].values())
    assert total == APPS_SIZE


def test_over_the_limit_names_both_numbers_and_the_biggest_modules(tmp_path, monkeypatch):
    toobig = cases("float/image-toobig/apps")[0]
    limit = int(toobig["args"][toobig["args"].index("-m") + 1], 0)
    run, image = _build(tmp_path, monkeypatch, "-m", str(limit))
    assert run.status == 1
    assert run.stdout == toobig["expect"]["stdout"].encode()  # luac.cross's size line
    message = run.stderr.decode()
    assert message.startswith(
        f"luacross: {image}: {APPS_SIZE} bytes, over the {limit}-byte limit by "
        f"{APPS_SIZE - limit}; biggest modules: httpserver "
    )
    assert message.count("\n") == 1
    assert not image.exists()


# -- module names ----------------------------------------------------------------


def test_same_module_name_twice_warns_and_name_chooses(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1704067200")
    other = tmp_path / "sub" / "init.lua"  # an absolute path: not staged in the corpus
    other.parent.mkdir()
    other.write_text("return 2\n")
    first = "apps/init.lua"
    image = tmp_path / "lfs.img"
    run = run_cli(["-f", "-o", str(image), first, str(other)])
    assert run.status == 0
    assert (
        run.stderr
        == (
            f"luacross: warning: {other} and {first} both make module 'init'; only {first} "
            "can be reached (--name FILE=NAME names a module)\n"
        ).encode()
    )
    run = run_cli(["-f", "--name", f"{other}=init2", "-o", str(image), first, str(other)])
    assert run.status == 0 and run.stderr == b""
    doc = json.loads(run_cli(["inspect", "--json", str(image)]).stdout)
    assert [m["name"] for m in doc["files"][0]["image"]["modules"]] == ["init", "init2"]
    bad = run_cli(["-f", "--name", "nonsense", "-o", str(image), first])
    assert bad.status == 2 and bad.stderr.count(b"\n") == 1
    missing = run_cli(["-f", "--name", "zzz.lua=x", "-o", str(image), first])
    assert missing.status == 1


def test_blob_helper_is_the_recording():
    assert blob(APPS["expect"]["files"]["lfs.img"]["sha256"]) == output_blob(APPS)


def test_run_refuses_an_absolute_image_elsewhere(tmp_path):
    case = cases("float/absimage/apps")[0]
    address = int(case["args"][case["args"].index("-a") + 1], 0)
    image = tmp_path / "abs.img"
    image.write_bytes(output_blob(case))
    other = address + 0x10000
    run = run_cli(["run", str(image), "--lfs-base", hex(other), "--code", "print(1)"])
    assert run.status == 1
    assert (
        run.stderr
        == (
            f"luacross: {image} is an absolute image for 0x{address:08x}; it cannot run at "
            f"--lfs-base 0x{other:08x}\n"
        ).encode()
    )
    run = run_cli(["run", str(image), "--lfs-base", hex(address), "--code", "print(1)"])
    assert run.status == 0 and run.stdout.endswith(b"1\n")
