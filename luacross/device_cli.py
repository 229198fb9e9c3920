"""`luacross check` and `luacross run`: the device model on the command line.

These are ordinary typer commands (they have no luac.cross rules to honour).
They call `luacross.device`, which finds the firmware build an image is for
(Lua 5.1 float/integer, Lua 5.3 32/64-bit) and models that firmware: its
loader, and a Lua VM of that version holding the firmware's libraries only.

`run` runs the device in a child process (where `os.fork` exists): whatever
the image does to that process (a pattern that overflows the C stack, an
endless loop, memory exhausted) ends in one `luacross:` line and status 1,
and Ctrl-C or SIGTERM stop it at once (status 130/143). Once the image is
loaded, and before any of its code runs, the child confines itself
(`luacross.confine`: no file, process or network system calls), so even
bytecode that breaks out of the Lua VM cannot touch the host.
"""

import faulthandler
import os
import select
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from lfs_format.errors import LuacrossError

app = typer.Typer(
    name="luacross",
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Check and run NodeMCU LFS images on the PC.",
    rich_markup_mode=None,  # plain help text, as the compiler's (no panels)
    context_settings={"help_option_names": ["-h", "--help"]},
)

DEFAULT_TIMEOUT = 60.0  # seconds
DEFAULT_MEMORY = 64 << 20  # bytes of Lua memory (an ESP8266 has about 40 KiB of heap)
# the signals that stop luacross, with the word it reports (as the compiler's CLI)
STOPPING = {
    getattr(signal, name): word
    for name, word in (("SIGINT", "interrupted"), ("SIGTERM", "terminated"), ("SIGHUP", "hung up"))
    if hasattr(signal, name)
}


def _plain_help() -> None:
    """Help as the compiler's reads: `IMAGE` rather than typer's `{IMAGE} <path>`
    (typer 0.2x marks required arguments with braces and shows types)."""
    try:
        from typer.core import TyperArgument
    except ImportError:
        return

    def usage_name(self) -> str:
        name = self.metavar or self.name.upper()
        return name if self.required else f"[{name}]"

    if hasattr(TyperArgument, "_usage_display_name"):
        TyperArgument._usage_display_name = usage_name
    if hasattr(TyperArgument, "display_type_rich"):
        TyperArgument.display_type_rich = lambda self, ctx: None


_plain_help()


def _write(stream, text: str) -> None:
    """Write a line as the shell would show it: undecodable bytes of file
    names or arguments (surrogate escapes) go out as the bytes they were."""
    data = (text + "\n").encode("utf-8", "surrogateescape")
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode("utf-8", "replace"))
        stream.flush()


def parse_size(text: str) -> int:
    """A size or address as `-m`/`-a` read them: 0x.., octal, decimal, K/M suffixes."""
    from luacross.cli import UsageError, parse_number

    if isinstance(text, int):  # a default value
        return text
    try:
        return parse_number(text, "size", sizes=True)
    except UsageError as exc:
        raise typer.BadParameter(str(exc)) from None


def parse_seconds(text: str) -> float:
    if isinstance(text, float):  # the default value
        return text
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < 1e6:
        raise typer.BadParameter(f"'{text}' is not a number of seconds (> 0)")
    return seconds


SizeOption = Annotated[
    int | None,
    typer.Option(
        "--lfs-size",
        parser=parse_size,
        metavar="SIZE",
        help="LFS partition size (64K, 0x10000, ...; at most 1M); "
        "default: as large as the image needs",
    ),
]


def read_image(path: Path, named_build: bool = False) -> bytes:
    """The image file's bytes. A file of another kind (source, .lc) is refused by
    name, unless the command line names the device's build (`named_build`): then
    that firmware's loader refuses it in its own words."""
    from lfs_format.sniff import refuse_non_image

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LuacrossError(f"cannot open {path}: {exc.strerror}") from None
    if not named_build:
        refuse_non_image(str(path), data)
    return data


def refuse_other_base(path: Path, data: bytes, lfs_base: int | None) -> None:
    """An absolute (-a) image runs only where it was built for: its addresses are fixed."""
    from lfs_format.lua51.loader import absolute_base

    if lfs_base is None or data[:2] == b"\x1f\x8b" or data[1:2] == b"\xa2":
        return  # 5.3 regions (0xFAFAA2xx): bit 0 is the ESP32's int64 bit, not "absolute"
    base = absolute_base(data)
    if base is not None and base != lfs_base:
        raise LuacrossError(
            f"{path} is an absolute image for 0x{base:08x}; it cannot run at "
            f"--lfs-base 0x{lfs_base:08x}"
        )


def fail(message: str) -> typer.Exit:
    _write(sys.stderr, f"luacross: {message}")
    return typer.Exit(code=1)


LuaOption = Annotated[
    str | None,
    typer.Option(
        "--lua",
        metavar="VERSION",
        help="the device's firmware core, 5.1 or 5.3 (default: the image's)",
    ),
]
NumbersOption = Annotated[
    str | None,
    typer.Option(
        "--numbers",
        metavar="BITS",
        help="Lua 5.3 firmware: 32 (default build) or 64 (LUA_NUMBER_64BITS); "
        "the ESP32's also int64 or double",
    ),
]
ChipOption = Annotated[
    str | None,
    typer.Option(
        "--chip", metavar="CHIP", help="the device's chip, esp8266 or esp32 (default: esp8266)"
    ),
]
IntOption = Annotated[
    bool, typer.Option("--int", help="the device has the Lua 5.1 integer firmware build")
]


def choose_build(
    data: bytes, lua: str | None, numbers: str | None, integral: bool, chip: str | None = None
):
    """The firmware build to model: the one the options name, else the
    image's own; and the image's build (None when it has none)."""
    from lfs_format.errors import LoaderError
    from luacross.device import detect, firmware

    wanted = firmware(lua, numbers, integral, chip)
    try:
        found = detect(data)
    except LoaderError:
        if wanted is None:
            raise
        found = None
    return wanted or found, found


def validate(data: bytes, build, found, lfs_size: int | None):
    """`build`'s loader over `data`; a rejection names the image's own build
    when the device's is another."""
    from lfs_format.errors import LoaderError
    from luacross.device import core

    try:
        return core(build).check_image(data, build, lfs_size=lfs_size)
    except LoaderError as exc:
        if found is not None and found != build:
            raise LoaderError(f"{exc} (the image is for {found.label})") from None
        raise


@app.command()
def check(
    image: Annotated[
        Path,
        typer.Argument(
            metavar="IMAGE", help="LFS image: from -f, or the raw region from -a (5.1 and 5.3)"
        ),
    ],
    lua: LuaOption = None,
    numbers: NumbersOption = None,
    integral: IntOption = False,
    chip: ChipOption = None,
    lfs_size: SizeOption = None,
) -> None:
    """Validate IMAGE as the firmware's loader would, before anything is
    erased, and summarise it: the build it needs (found in the image; the
    options name the device's, to check against), flash size, modules."""
    from luacross.runtime import check_partition

    try:
        check_partition(0, lfs_size)
        data = read_image(image, named_build=bool(lua or numbers or integral or chip))
        build, found = choose_build(data, lua, numbers, integral, chip)
        summary = validate(data, build, found, lfs_size)
    except LuacrossError as exc:
        raise fail(str(exc)) from None
    lines = summary.lines()
    if found is not None:  # after "build:": the firmware builds that load it, by chip
        from luacross.device import firmware_names

        lines[2:2] = [f"firmware: {name}" for name in firmware_names(data, found)]
    for line in lines:
        _write(sys.stdout, line)


@app.command()
def run(
    image: Annotated[Path, typer.Argument(metavar="IMAGE", help="LFS image to load, boot and run")],
    module: Annotated[
        str | None,
        typer.Argument(
            metavar="MODULE", help="module to run after the start-up (init.lua, else _init)"
        ),
    ] = None,
    code: Annotated[
        str | None, typer.Option("--code", metavar="CODE", help="Lua code to run after boot")
    ] = None,
    code_alias: Annotated[str | None, typer.Option("-e", hidden=True)] = None,  # the old name
    lfs_base: Annotated[
        int | None,
        typer.Option(
            "--lfs-base", parser=parse_size, metavar="ADDR", help="mapped address of the partition"
        ),
    ] = None,
    lfs_size: SizeOption = None,
    lua: LuaOption = None,
    numbers: NumbersOption = None,
    integral: IntOption = False,
    chip: ChipOption = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            parser=parse_seconds,
            metavar="SECONDS",
            help=f"stop the image after this long (default {DEFAULT_TIMEOUT:g})",
            show_default=False,
        ),
    ] = DEFAULT_TIMEOUT,
    memory: Annotated[
        int,
        typer.Option(
            "--memory",
            parser=parse_size,
            metavar="SIZE",
            help="memory the image's Lua VM may use (default 64M)",
            show_default=False,
        ),
    ] = DEFAULT_MEMORY,
    prelude: Annotated[
        list[Path] | None,
        typer.Option(
            "--prelude",
            metavar="FILE.lua",
            help="Lua file run on the device at boot, before the image's code: stubs for "
            "firmware modules the model lacks (tmr, wifi, gpio, ...); repeat it for "
            "several, run in order",
        ),
    ] = None,
    spiffs: Annotated[
        Path | None,
        typer.Option(
            "--spiffs",
            metavar="DIR",
            help="use the folder DIR as the device's file system (SPIFFS, flat names): "
            "the file module, node.LFS.reload, require and init.lua find its files, and "
            "what the image writes, renames or removes changes the files in DIR",
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "-q", "--quiet", help="no notes on stderr (errors remain), as the compiler's -q"
        ),
    ] = False,
) -> None:
    """Load IMAGE into a simulated LFS partition, boot it and run MODULE or CODE.

    The image runs in a Lua VM of its core (5.1 or 5.3, found in the image)
    holding that firmware's libraries only: it can read, write or run nothing
    on the PC, except the files of the --spiffs folder. At boot the preludes
    run, then init.lua (from --spiffs) or else the _init module, then MODULE,
    then CODE. A successful node.LFS.reload restarts the device on the new
    image (preludes and init again); if MODULE or CODE caused it, the run
    ends after that start-up.
    """
    from luacross.device.vm import preludes
    from luacross.runtime import DEFAULT_LFS_BASE, MIN_MEMORY, check_partition

    code = code if code is not None else code_alias
    try:
        base = DEFAULT_LFS_BASE if lfs_base is None else lfs_base
        check_partition(base, lfs_size)
        if memory < MIN_MEMORY:
            raise LuacrossError(f"--memory {memory}: at least {MIN_MEMORY} (1M) is needed")
        chunks = preludes(prelude or [])
        if spiffs is not None and not spiffs.is_dir():
            raise LuacrossError(f"--spiffs {spiffs}: not a folder")
        data = read_image(image, named_build=bool(lua or numbers or integral or chip))
        refuse_other_base(image, data, lfs_base)
        build, found = choose_build(data, lua, numbers, integral, chip)
    except LuacrossError as exc:
        raise fail(str(exc)) from None
    job = _DeviceJob(data, module, code, base, lfs_size, memory, build, chunks, spiffs, quiet)
    status = run_isolated(job, timeout=timeout, memory=memory)
    if status:
        raise typer.Exit(code=status)


class _DeviceJob:
    """What `run` does with the device; `emit(kind, text)` reports: "o" a
    printed line, "e" a note for stderr, "x" the error that ends the run,
    "f" a file the image wrote into the --spiffs folder (name NUL data), "r"
    one it removed. `show(kind, text)` carries a report out on the PC's side."""

    def __init__(
        self,
        data,
        module,
        code,
        base,
        size,
        memory,
        build=None,
        prelude=None,
        spiffs=None,
        quiet=False,
    ):
        self.build = build  # luacross.device.Build that runs the image (None: the image's)
        self.data, self.module, self.code = data, module, code
        self.base, self.size, self.memory = base, size, memory
        self.prelude = prelude  # luacross.device.vm.Chunk list, read on the PC
        self.spiffs = spiffs  # the --spiffs folder (None: an empty file system)
        self.timeout: float | None = None  # in-process runs only: the VM's own limit
        self.quiet = quiet  # -q: no notes
        self._failed: set[str] = set()  # --spiffs writes that failed, each said once

    def _notes(self, emit, notes) -> None:
        for note in () if self.quiet else notes:
            emit("e", f"note: {note}")

    def __call__(self, emit, confine=None) -> None:
        """`confine()`, if given, runs once the image is loaded, before any of its code."""
        from luacross.device import core, detect
        from luacross.device.spiffs import SpiffsFolder
        from luacross.device.vm import run_device

        build = self.build or detect(self.data)
        device_core = core(build)
        files = {}
        if self.spiffs is not None:  # read here; the PC's side writes what changes

            def writer(name: str, data: bytes | None) -> None:
                if data is None:
                    emit("r", name)
                else:
                    emit("f", name + "\0" + data.decode("utf-8", "surrogateescape"))

            files = SpiffsFolder(self.spiffs, writer)
            self._notes(emit, files.notes())
        device = device_core.open_device(
            build,
            lfs_base=self.base,
            lfs_size=self.size,
            memory_limit=self.memory,
            timeout=self.timeout,
            output=_Emitted(emit),
            files=files,
        )
        device.load(self.data)  # a rejected image: its message alone
        self._notes(emit, device_core.notes(build))
        if confine is not None:
            confine()
        device.apply_prelude(self.prelude)
        run_device(device, self.module, self.code)

    def show(self, kind: str, text: str) -> None:
        if kind in ("f", "r"):
            from luacross.device.spiffs import write_file

            name, _, data = text.partition("\0")
            try:
                write_file(self.spiffs, name, data.encode("utf-8", "surrogateescape")
                           if kind == "f" else None)  # fmt: skip
            except LuacrossError as exc:
                if str(exc) not in self._failed:  # a file is often written twice (open, close)
                    self._failed.add(str(exc))
                    _show("e", str(exc))
            return
        _show(kind, text)


class _Emitted(list):
    """The device's print output, reported as each line is printed."""

    def __init__(self, emit):
        super().__init__()
        self.emit = emit

    def append(self, line: str) -> None:
        self.emit("o", line)


def _job_error(exc: BaseException) -> str:
    if isinstance(exc, LuacrossError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, RecursionError):
        return "the image's data is nested too deeply"
    return f"internal error: {type(exc).__name__}: {exc} (please report this)"


def _show(kind: str, text: str) -> None:
    if kind == "o":
        _write(sys.stdout, text)
    else:
        _write(sys.stderr, f"luacross: {text}")


def run_in_process(job) -> int:
    """Run `job` here (no fork on this platform): no timeout, no crash guard."""
    try:
        job(getattr(job, "show", _show))
    except KeyboardInterrupt:
        _show("x", "interrupted")
        return 130
    except Exception as exc:
        _show("x", _job_error(exc))
        return 1
    return 0


class _Stop(BaseException):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def run_isolated(job, *, timeout: float, memory: int) -> int:
    """Run `job` in a child process; return the exit status for luacross.

    The child reports through a pipe (what it prints, then any error); the
    parent shows it as it comes. A child that crashes, outlives `timeout`
    seconds or exits strangely becomes one `luacross:` line and status 1;
    SIGINT/SIGTERM/SIGHUP to luacross kill the child and give 130/143/129.
    """
    if not hasattr(os, "fork"):
        job.timeout = timeout
        return run_in_process(job)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    read_end, write_end = os.pipe()
    handlers = _catch_stop_signals()  # before the fork: no moment without them
    pid = None
    try:
        pid = os.fork()
        if pid == 0:  # the child: never returns, whatever happens
            try:
                os.close(read_end)
                _child(job, write_end, timeout)
            finally:
                os._exit(1)
        os.close(write_end)
        write_end = None
        return _parent(pid, read_end, timeout, memory, getattr(job, "show", _show))
    except _Stop as stop:
        _show("x", STOPPING[stop.signum])
        return 128 + stop.signum
    finally:
        if pid:
            _kill(pid)  # a child still running (a signal, an error here) dies with the run
        _restore(handlers)
        os.close(read_end)
        if write_end is not None:
            os.close(write_end)


def _catch_stop_signals() -> dict:
    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum, frame):
        raise _Stop(signum)

    saved = {}
    for signum in STOPPING:
        previous = signal.getsignal(signum)
        if previous is not signal.SIG_IGN:
            saved[signum] = signal.signal(signum, stop)
    return saved


def _restore(saved: dict) -> None:
    for signum, handler in saved.items():
        signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def _kill(pid: int) -> None:
    """Kill and reap the child, if it is still there."""
    try:
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return  # already ended (and now reaped)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _parent(pid: int, read_end: int, timeout: float, memory: int, show=_show) -> int:
    deadline = time.monotonic() + timeout
    buffer = b""
    ended = False  # the child sent its final error
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _kill(pid)
            _show("x", f"timeout: the image was still running after {timeout:g} s (--timeout)")
            return 1
        ready, _, _ = select.select([read_end], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(read_end, 1 << 16)
        if not chunk:
            break
        buffer += chunk
        while len(buffer) >= 5:
            size = int.from_bytes(buffer[1:5], "little")
            if len(buffer) < 5 + size:
                break
            kind, text = chr(buffer[0]), buffer[5 : 5 + size].decode("utf-8", "surrogateescape")
            buffer = buffer[5 + size :]
            show(kind, text)
            ended = ended or kind == "x"
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        if code in (0, 1) and (code == 1) == ended:
            return code
        _show("x", f"the device process ended with status {code}")
        return 1
    signum = os.WTERMSIG(status)
    if signum == getattr(signal, "SIGXCPU", None):
        _show("x", f"timeout: the image used more than {timeout:g} s of CPU time (--timeout)")
    elif signum == signal.SIGKILL:
        _show("x", "the device process was killed (out of memory?)")
    else:
        _show(
            "x",
            f"the image crashed the Lua VM ({_signal_name(signum)}): damaged "
            "bytecode, or (Lua 5.1) a string pattern that recurses too deep for the C stack",
        )
    return 1


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _child(job, write_end: int, timeout: float) -> None:
    """The device's process: run `job`, report through `write_end`, exit."""
    status = 1
    try:
        for signum in STOPPING:
            signal.signal(signum, signal.SIG_DFL)
        faulthandler.disable()  # a crash is the parent's to report, in one line
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # the child speaks through the pipe only
            os.dup2(null, fd)
        _die_with_parent()
        _limit_cpu(timeout)

        def emit(kind: str, text: str) -> None:
            payload = text.encode("utf-8", "surrogateescape")
            data = kind.encode() + len(payload).to_bytes(4, "little") + payload
            while data:
                data = data[os.write(write_end, data) :]

        def confine() -> None:
            from luacross.confine import confine as confine_process

            confine_process(write_end)

        try:
            job(emit, confine)
            status = 0
        except BaseException as exc:  # noqa: BLE001 - every ending is one line
            emit("x", _job_error(exc))
    finally:
        os._exit(status)


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL if luacross itself dies (kill -9)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _limit_cpu(timeout: float) -> None:
    """A backstop for the parent's timer: the kernel stops the child too."""
    try:
        import resource

        seconds = int(timeout) + 2
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY or hard > seconds:
            resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    except (ImportError, ValueError, OSError):
        pass


def run_device_command(args: list[str]) -> int:
    """Run `check`/`run` with typer; return the exit status instead of exiting."""
    try:
        status = app(args, prog_name="luacross", standalone_mode=False)
    except typer.Abort:
        return 1
    except KeyboardInterrupt:  # outside `run`'s own handlers
        _show("x", "interrupted")
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:  # usage errors: one line, status 2
        format_message = getattr(exc, "format_message", None)
        message = format_message() if format_message is not None else str(exc)
        command = args[0] if args else "luacross"
        _write(sys.stderr, f"luacross: {command}: {message} (see luacross {command} --help)")
        return 2
    return status if isinstance(status, int) else 0
