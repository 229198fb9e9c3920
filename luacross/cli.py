"""The `luacross` command: luac.cross's command line, plus device-model commands.

`luacross [options] [filenames]` behaves as NodeMCU's `luac.cross` (the flags,
their order rules, messages and exit codes of `luac.c`'s `doargs`/`pmain`);
click cannot express those rules (counted `-l`, `-` for stdin, `--`,
`strtol`-style numbers), so `parse_args` handles them by hand.
`luacross check IMAGE` and `luacross run IMAGE` are typer commands
(`luacross.device_cli`), dispatched on the first argument.

Fatal errors print one line `luacross: <luac.cross's text>` on stderr and
exit 1; an existing output file is never left half-written.
"""

import os
import sys

from lfs_format.errors import LuacrossError
from luacross import signals

PROGNAME = "luacross"
DEFAULT_OUTPUT = "luac.out"
DEVICE_COMMANDS = ("check", "run")
COMMANDS = (*DEVICE_COMMANDS, "inspect")  # luacross's own commands: first argument
EXTRA_OPERAND_FLAGS = {  # luacross's own flags with an operand -> Options attribute
    "--lua": "lua",
    "--numbers": "numbers",
    "--seed": "seed",
    "--json": "json",
    "--name": "names",
    "--chip": "chip",
    "--partition-table": "partition_table",
    "--resource": "resources",
}
EXTRA_FLAGS = {  # luacross's own flags -> Options attribute
    "--int": "integral",
    "--best": "best",
    "--strip-image": "strip_image",
    "--report": "report",
    "-q": "quiet",
    "--quiet": "quiet",
    "-h": "help",
    "--help": "help",
}

USAGE = f"""\
usage: {PROGNAME} [options] [filenames].
Available options are:
  -        process stdin
  -l       list
  -o name  output to file 'name' (default is "{DEFAULT_OUTPUT}"; Lua 5.3: "luac.cross.out")
  -e name  execute a lua source file
  -f       output a flash image file
  -a addr  generate an absolute, rather than position independent flash image file
  -F image Lua 5.3, with -a: the LFS image to load (instead of source files)
  -i       generate lookup combination master (default with option -f)
  -m size  maximum LFS image in bytes
  -p       parse only
  -s       strip debug information
  -v       show version information
  --       stop handling options
luacross options:
  --lua 5.1|5.3  the NodeMCU Lua core to compile for (default 5.1; also 51, 53)
  --numbers 64   Lua 5.3: the LUA_NUMBER_64BITS build (64-bit integers, doubles);
                 default 32 (32-bit integers, floats)
  --int          Lua 5.1: compile for the integer build (luac.cross.int)
  --chip esp32   the ESP32 firmware's builds (default esp8266); with --lua 5.3
                 also --numbers int64 (64-bit integers) and double (doubles)
  --partition-table CSV  -m from the LFS partition of an ESP-IDF partition table
  --seed N       Lua 5.3 images: the string hash seed (default: derived from the image)
  --best         smallest flash image the device can inflate (for OTA downloads)
  --strip-image  really strip debug information from flash image functions
  --report       after -f/-a: each module's bytes in flash, the total against -m
  --json FILE    after -f/-a: that report as JSON (docs/inspect-json.md)
  --name FILE=NAME  the module name of input FILE (default: its base name)
  --resource PATH  with -f/-a: PATH (a file, or the files in a directory) in
                 module 'resource', as the firmware's make_resource.lua makes
                 it: node.LFS.resource("index.html") returns that file
  -q, --quiet    no progress line, notes or summary on stderr (errors remain)
  -h, --help     show this help
  --version      luacross's version, the Lua versions it compiles for, and its
                 build (compiled with mypyc, or pure Python)
Device model (luacross COMMAND --help):
  check IMAGE    validate an LFS image as the firmware's loader does
  run IMAGE      load, boot and run an LFS image in a Lua 5.1 or 5.3 VM
  inspect FILE   say what a file is; an image's modules and their sizes
"""


class UsageError(LuacrossError):
    """A command-line error: luac.cross prints the message, then the usage text."""


class CommandUsageError(LuacrossError):
    """A command-line error of luacross's own commands: one line, exit status 2."""


class Options:
    """What `doargs` leaves in luac.c's globals, plus luacross's own flags."""

    __slots__ = (
        "listing", "dumping", "stripping", "flash", "address", "max_size", "lookup", "output",
        "execute", "version", "version_only", "integral", "best", "strip_image", "help", "files",
        "lua", "numbers", "lfs_image", "output_given", "target", "seed", "json", "names", "report",
        "chip", "partition_table", "resources", "quiet",
    )  # fmt: skip

    def __init__(self) -> None:
        self.listing = 0
        self.dumping = True
        self.stripping = False
        self.flash = False
        self.address: int | None = None  # absolute image address; None: position independent
        self.max_size: int | None = None  # -m; None: the core's default_max_size()
        self.lookup = False
        self.output: str | None = DEFAULT_OUTPUT  # None: stdout; set from the core
        self.execute: str | None = None
        self.version = False
        self.version_only = False  # `-v` was all there was: print and stop
        self.integral = False
        self.best = False
        self.strip_image = False
        self.help = False
        self.files: list[str | None] = []  # None: stdin
        self.lua = "5.1"  # --lua
        self.numbers: str | None = None  # --numbers
        self.lfs_image: str | None = None  # -F (Lua 5.3's luac.c only)
        self.json: str | None = None  # --json FILE: the build report as JSON
        self.names: list[str] = []  # --name FILE=NAME, as given
        self.report = False  # --report: the per-module table after an image build
        self.output_given = False  # -o was given (else the core's default output name)
        self.target: object = None  # the build, chosen once from --lua/--numbers/--int
        self.seed: str | None = None  # --seed (Lua 5.3 images: the string hash seed)
        self.chip = "esp8266"  # --chip: the firmware (ESP8266 or ESP32) to build for
        self.partition_table: str | None = None  # --partition-table: -m from its LFS partition
        self.resources: list[str] = []  # --resource PATH, as given
        self.quiet = False  # -q: no progress line, notes or summary


_NUMBER = r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmM]?)"  # re: imported when used


def parse_number(text: str, what: str, *, sizes: bool = False) -> int:
    """Read a number as C's `strtol(text, NULL, 0)` does (0x.., 0.., decimal).

    With `sizes`, a K or M suffix multiplies by 1024 or 1024*1024 (`64K`).
    Unlike strtol, trailing garbage or no digits at all is an error, not 0.
    """
    import re

    match = re.fullmatch(_NUMBER, text)
    if not match or (match.group(3) and not sizes):
        raise UsageError(f"'{what}' needs a number, not '{text}'")
    sign, digits, suffix = match.groups()
    if digits[:2] in ("0x", "0X"):
        value = int(digits, 16)
    elif digits.startswith("0"):
        value = int(digits, 8)
    else:
        value = int(digits)
    value *= {"": 1, "k": 1024, "m": 1024 * 1024}[suffix.lower()]
    return -value if sign == "-" else value


def _target_of(argv: list[str]):
    """The build luacross's own flags select, looked up early (for a usage
    error luac.c raises while it reads its options); the default when they
    cannot be read."""
    from luacross import api

    chosen = {"--lua": "5.1", "--numbers": None, "--chip": "esp8266"}
    integral = False
    with_operand = {"-o", "-e", "-a", "-m", "-F", *EXTRA_OPERAND_FLAGS}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--" or not arg.startswith("-") or arg == "-":
            break
        if arg in chosen and i + 1 < len(argv):
            chosen[arg] = argv[i + 1]
        integral = integral or arg == "--int"
        i += 2 if arg in with_operand else 1
    try:
        return api.select_target(
            chosen["--lua"],
            chosen["--numbers"],
            integral,
            chosen["--chip"],  # type: ignore[arg-type]
        )
    except LuacrossError:
        return api.select_target()


def parse_args(argv: list[str]) -> Options:
    """luac.c's `doargs`: options up to the first non-option, then the files."""
    opts = Options()
    extra_flags = 0  # luacross's own flags, which do not count against `-v` alone
    version_count = 0
    i = 0

    def operand(flag: str) -> str:
        nonlocal i
        i += 1
        if i >= len(argv) or not argv[i]:
            raise UsageError(f"'{flag}' needs argument")
        return argv[i]

    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-"):
            break
        if arg == "--":
            i += 1
            if version_count:
                version_count += 1
            break
        if arg == "-":
            break
        if arg == "-e":
            opts.execute = operand("-e")
            if opts.execute.startswith("-"):
                raise UsageError("'-e' needs argument")
        elif arg == "-f":
            opts.flash = opts.lookup = True
        elif arg == "-a":
            opts.flash = opts.lookup = True
            opts.address = parse_number(operand("-a"), "-a") & 0xFFFFFFFF
        elif arg == "-i":
            opts.lookup = True
        elif arg == "-l":
            opts.listing += 1
        elif arg == "-m":
            opts.flash = opts.lookup = True
            opts.max_size = parse_number(operand("-m"), "-m", sizes=True) & 0xFFFFFFFF
            if opts.max_size & 0xFFF:
                raise UsageError(_target_of(argv).max_size_error)
        elif arg == "-o":
            output = operand("-o")
            opts.output = None if output == "-" else output
            opts.output_given = True
        elif arg == "-F":
            opts.lfs_image = operand("-F")
            if opts.lfs_image.startswith("-"):
                raise UsageError('"-F" needs an LFS image file argument')
        elif arg == "-p":
            opts.dumping = False
        elif arg == "-s":
            opts.stripping = True
        elif arg == "-v":
            version_count += 1
        elif arg == "--name":
            extra_flags += 2
            opts.names.append(operand(arg))
        elif arg == "--resource":
            extra_flags += 2
            opts.resources.append(operand(arg))
        elif arg in EXTRA_OPERAND_FLAGS:
            extra_flags += 2
            setattr(opts, EXTRA_OPERAND_FLAGS[arg], operand(arg))
        elif arg in EXTRA_FLAGS:
            extra_flags += 1
            setattr(opts, EXTRA_FLAGS[arg], True)
        else:
            raise UsageError(f"unrecognized option '{arg}'")
        i += 1

    from luacross import api

    opts.target = target = api.select_target(opts.lua, opts.numbers, opts.integral, opts.chip)
    core = api.core_of(target)
    if opts.partition_table is not None:
        from lfs_format.partitions import lfs_partition_size

        if opts.max_size is None:
            opts.max_size = lfs_partition_size(opts.partition_table)
    if opts.address is not None and not core.address_ok(opts.address, target):
        raise UsageError(core.ADDRESS_ERROR)
    if opts.lfs_image is not None and "-F" not in core.LUAC_OPTIONS:
        raise UsageError("unrecognized option '-F'")
    if not opts.output_given:
        opts.output = core.DEFAULT_OUTPUT
    elif opts.output is not None and opts.output[0] == "-" and not core.DASH_OUTPUT_NAMES:
        raise UsageError("'-o' needs argument")
    opts.files = [None if name == "-" else name for name in argv[i:]]
    if not opts.files and (opts.listing or not opts.dumping):
        opts.dumping = False
        opts.files = [core.DEFAULT_OUTPUT]  # luac.c lists the existing luac.out
    opts.version = version_count > 0
    opts.version_only = opts.version and version_count == len(argv) - extra_flags
    return opts


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `luacross` console script; returns the exit status."""
    global _quiet
    args = sys.argv[1:] if argv is None else list(argv)
    _quiet = False  # -q is the compiler's; set again by each compile_command
    try:
        if args == ["--version"]:  # luacross's own; `-v` is luac.cross's version line
            from luacross import version_text

            print(version_text())
            return 0
        if args and args[0] == "inspect":
            from luacross.inspect import command

            return command(args[1:])
        if args and args[0] in DEVICE_COMMANDS:
            from luacross.device_cli import run_device_command

            return run_device_command(args)
        return compile_command(args)
    except CommandUsageError as exc:
        report(str(exc))
        return 2
    except UsageError as exc:
        report(str(exc))
        sys.stderr.write(USAGE)
        return 1
    except LuacrossError as exc:
        report(str(exc))
        return 1
    except (KeyboardInterrupt, signals.Interrupted) as exc:
        stop = signals.stopped(exc)
        report(stop.message)
        return stop.status
    except Exception as exc:  # a bug in luacross: still one line, never a traceback
        report(f"internal error: {type(exc).__name__}: {exc} (please report this)")
        return 1


def run() -> None:
    """The console script: `main`, then exit without the interpreter's teardown.

    Signals stop luacross with one line and status 128 + N (`luacross.signals`),
    also while the last output is flushed. Everything luacross writes is
    flushed or closed by then; skipping the module teardown saves several
    milliseconds on every build step.
    """
    signals.install()
    try:
        status = main()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # stdout closed by the reader
            status = status or 1
    except (KeyboardInterrupt, signals.Interrupted) as exc:
        stop = signals.stopped(exc)
        report(stop.message)
        status = stop.status
    os._exit(status)


def compile_command(args: list[str]) -> int:
    """luac.c's `main` + `pmain`."""
    global _quiet
    opts = parse_args(args)
    if opts.help:
        sys.stdout.write(USAGE)
        return 0
    _quiet = opts.quiet
    from luacross import api

    target = opts.target
    core = api.core_of(target)
    if opts.version:
        print(target.version, flush=True)
        if opts.version_only:
            return 0
    use_resources = bool(opts.resources) and opts.flash and opts.lfs_image is None
    core.check_options(
        absolute=opts.address is not None,
        execute=opts.execute is not None,
        lfs_image=opts.lfs_image,
        files=len(opts.files) + use_resources,
        to_stdout=opts.output is None,
    )
    seed = None if opts.seed is None else parse_number(opts.seed, "--seed") & 0xFFFFFFFF
    note_unused_options(opts)
    if opts.lfs_image is not None and opts.address is not None:
        # -F IMAGE -a ADDR (Lua 5.3): the flash image the device holds after loading IMAGE
        write_image(opts, core, core.absolute_image(opts.lfs_image, opts.address, target))
        return 0
    if not opts.files and opts.execute is None and not use_resources:
        raise UsageError("no input files given")
    resource_files = None
    if use_resources:
        from luacross import resources

        resources.check_inputs(opts.files, opts.names, target)
        resource_files = resources.collect(opts.resources, notice)
    leading = []
    if opts.execute is not None:
        from luacross.runtime import run_host_script

        with signals.lua_running():
            module = run_host_script(opts.execute, target)
        if module is None and not opts.files and not use_resources:
            return 0
        leading = [module] if module is not None else []
    image = opts.flash and opts.dumping
    progress = start_progress(opts, len(opts.files) + use_resources + image)
    try:
        on_input = None
        if progress is not None:
            step = progress.step

            def on_input(path: str | None) -> None:
                step(f"compiling {'stdin' if path is None else path}")

        protos = leading + api.compile_files(opts.files, target, on_input)
        if resource_files is not None:
            if progress is not None:
                progress.step(f"compiling {len(resource_files)} resources")
            protos.append(resources.compile_files(resource_files, target))
        if len(protos) == 1 and not opts.lookup:
            main_proto = protos[0]
        else:
            from luacross.lua51.combine import TooManyModulesError

            try:
                main_proto = api.combine(protos, lookup=opts.lookup, target=target)
            except TooManyModulesError as exc:
                raise UsageError(str(exc)) from None
        if opts.lookup and len(protos) > 0:
            from luacross.names import apply_names

            apply_names(main_proto, opts.names, target, generated=int(resource_files is not None))
        elif opts.names:
            notice("note: --name applies to -f, -a and -i builds only; ignored")
        if opts.listing:
            stop_progress()
            list_protos(main_proto, full=opts.listing > 1, target=target)
        if not opts.dumping:
            return 0
        if not opts.flash:
            stop_progress()
            api.write_output(opts.output, api.dump_lc(main_proto, target, strip=opts.stripping))
            return 0
        if progress is not None:
            progress.step("laying out the image")
        result = api.build_image(
            main_proto,
            target,
            address=opts.address,
            best=opts.best,
            strip_image=opts.strip_image,
            seed=seed,
            strip=opts.stripping,
        )
    finally:
        stop_progress()
    write_image(opts, core, result)
    return 0


def start_progress(opts: Options, steps: int):
    """The transient progress line of a build (luacross.progress): only when stderr
    is a terminal and not `-q`; None otherwise (luacross.progress is not even imported)."""
    if opts.quiet or not sys.stderr.isatty():
        return None
    from luacross import progress

    return progress.start(steps)


def stop_progress() -> None:
    """Erase the progress line, if one is shown, before anything else is written."""
    progress = sys.modules.get("luacross.progress")
    if progress is not None:
        progress.stop()


def write_image(opts: Options, core, result) -> None:
    """The size gate (`-m`, else the core's default: 256 KiB for 5.1; for 5.3
    none for `-f` as in luac.cross, the 256 KiB region for `-a`), then the image;
    an existing output is left untouched when the image is too big."""
    from luacross.api import write_output, write_stdout

    absolute = opts.address is not None
    limit = core.default_max_size(absolute=absolute) if opts.max_size is None else opts.max_size
    line = core.image_size_line(result.flash_size, limit, opts.target)
    if line is not None and opts.output is None:  # -o -: stdout holds the image only
        sys.stderr.flush()
        sys.stderr.buffer.write(line)
        sys.stderr.buffer.flush()
    elif line is not None:
        write_stdout(line)
    if limit is not None and result.flash_size > limit:
        # luac.cross: "The image is too large for specfied LFS size" (README: differs on purpose)
        from luacross.reports import too_large

        raise LuacrossError(too_large(opts, result, limit))
    write_output(opts.output, result.data)
    summarize_image(opts, result)
    if opts.report or opts.json is not None:
        from luacross.reports import build_report

        build_report(opts, result, limit)


def note_unused_options(opts: Options) -> None:
    """One line on stderr for each of luacross's options that this command line ignores."""
    image = opts.flash and opts.dumping
    if opts.best and not image:
        notice("note: --best applies to -f images only; ignored")
    elif opts.best and opts.address is not None:
        notice("note: --best: absolute images (-a) are not compressed; ignored")
    if opts.strip_image and not image:
        notice("note: --strip-image applies to -f/-a images only; ignored")
    elif opts.strip_image and opts.lfs_image is not None:
        notice("note: --strip-image: -F loads an image as it is; ignored")
    if (opts.report or opts.json is not None) and not image:
        notice("note: --report and --json apply to -f/-a images only; ignored")
    if opts.resources and not opts.flash:
        notice("note: --resource applies to -f/-a images only; ignored")
    elif opts.resources and opts.lfs_image is not None:
        notice("note: --resource: -F loads an image as it is; ignored")


def list_protos(main_proto, *, full: bool, target) -> None:
    """Print the listing on stdout, before any output file is written."""
    from luacross.api import list_chunk, write_stdout

    write_stdout(list_chunk(main_proto, full=full, target=target))


def summarize_image(opts: Options, result) -> None:
    """Report what luacross's own image options achieved, then (at a terminal) a summary.

    Stdout is luac.cross's (and maybe the image itself), so all of this goes to stderr.
    """
    if result.strip_saved is not None:
        notice(
            f"--strip-image: debug information removed, {result.strip_saved} bytes of flash saved"
        )
    if result.default_compressed_size is not None:
        saved = result.default_compressed_size - len(result.data)
        ratio = len(result.data) / result.default_compressed_size
        notice(
            f"--best: {len(result.data)} bytes, {saved} bytes smaller than luac.cross's "
            f"compression ({ratio:.3f}x)"
        )
    if not sys.stderr.isatty():
        return
    where = "stdout" if opts.output is None else opts.output
    kind = f"absolute at 0x{opts.address:08x}" if opts.address is not None else "relocatable"
    notice(
        f"{where}: {result.modules} modules, {kind}, "
        f"{result.flash_size} bytes of flash, {len(result.data)} bytes written"
    )


_quiet = False  # -q: notes and summaries are not printed (warnings and errors are)


def notice(message: str) -> None:
    """An informational line on stderr (never part of luac.cross's own output);
    with `-q` only warnings are printed."""
    if not _quiet or message.startswith("warning:"):
        report(message)


def report(message: str) -> None:
    """Print a fatal error as luac.cross does: `luacross: message` on stderr.

    File names in `message` come back as the bytes the shell passed
    (os.fsencode's surrogates), as a C program prints them. A stderr that is
    gone (a closed terminal) is not an error of its own.
    """
    line = f"{PROGNAME}: {message}\n".encode("utf-8", "surrogateescape")
    stop_progress()
    try:
        sys.stderr.flush()
        sys.stderr.buffer.write(line)
        sys.stderr.buffer.flush()
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    run()
