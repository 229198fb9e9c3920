"""What the `luacross` command does, as functions a script can call.

`luacross.cli` only parses arguments, calls these and reports; everything here
raises `LuacrossError` subclasses and writes nothing to the terminal.
The flow mirrors `luac.c`'s `pmain`: load every input (source or `.lc`),
combine the mains, then list and/or write a `.lc` file or an LFS image.
"""

import errno
import os
import stat
import sys
import time
from collections.abc import Sequence

from lfs_format.errors import LcFormatError, LuacrossError
from lfs_format.lua51 import lc
from lfs_format.lua51.proto import Proto
from lfs_format.target import FLOAT, INT, Target

LUA_SIGNATURE = b"\x1bLua"
STDIN = None  # the input name luac.cross gives to `-`


class InputError(LuacrossError):
    """An input file that cannot be opened or read (luaL_loadfile's errfile)."""


class OutputError(LuacrossError):
    """An output that cannot be opened or written (luac.c's `cannot`)."""


class ChunkError(LuacrossError):
    """A precompiled input rejected as lundump rejects it."""


def target_for(integral: bool) -> Target:
    return INT if integral else FLOAT


def read_input(path: str | None) -> tuple[bytes, bytes]:
    """Read one input as luaL_loadfile does; return (chunk bytes, chunk name).

    A first line starting with `#` is replaced by an empty line (line numbers
    still count it). Only a named file is checked for a binary chunk after it.
    """
    if path is STDIN:
        data, chunkname = sys.stdin.buffer.read(), b"=stdin"
    else:
        try:
            with open(path, "rb") as source:
                data = source.read()
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            # fopen() succeeds on a directory; luaL_loadfile's first read then fails
            what = "read" if isinstance(exc, IsADirectoryError) else "open"
            raise InputError(f"cannot {what} {path}: {reason}") from None
        chunkname = b"@" + os.fsencode(path)
    if data.startswith(b"#"):
        newline = data.find(b"\n")
        rest = b"\n" if newline < 0 else data[newline:]
        if path is not STDIN and rest[1:2] == LUA_SIGNATURE[:1]:
            # luaL_loadfile reopens a binary file and skips to its first ESC
            return data[data.find(LUA_SIGNATURE[:1]) :], chunkname
        data = rest
    return data, chunkname


def load_chunk(data: bytes, chunkname: bytes, target: Target) -> Proto:
    """Compile source, or read a precompiled chunk (lua_load's choice by first byte)."""
    if data.startswith(LUA_SIGNATURE[:1]):
        return read_precompiled(data, chunkname, target)
    from luacross.lua51.parser import compile_source  # the compiler is only loaded when needed

    return compile_source(data, chunkname, target)


def read_precompiled(data: bytes, chunkname: bytes, target: Target) -> Proto:
    """Read a `.lc` input as the target's lundump does: its header is checked
    first, and an INT chunk loads into the float build (numbers converted)."""
    name = chunkname[1:] if chunkname[:1] in (b"@", b"=") else chunkname
    display = name.decode("utf-8", "surrogateescape")
    try:
        proto, _ = lc.read_chunk(data, target)
    except LcFormatError as exc:
        raise ChunkError(f"{display}: {exc.reason} in precompiled chunk") from None
    return proto


def compile_files(paths: Sequence[str | None], target: Target) -> list[Proto]:
    """Load every input in command-line order (`None` is stdin)."""
    return [load_chunk(*read_input(path), target) for path in paths]


def image_timestamp() -> int:
    """The lookup main's timestamp: SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        try:
            return int(epoch)
        except ValueError:
            raise LuacrossError(f"SOURCE_DATE_EPOCH is not an integer: {epoch!r}") from None
    return int(time.time())


def combine(protos: list[Proto], *, lookup: bool, target: Target) -> Proto:
    """The main function to dump: luac.c's `combine` (type 0, or type 1 lookup)."""
    from luacross.lua51.combine import build_lookup_main, combine_mains

    if lookup:
        return build_lookup_main(protos, image_timestamp(), target)
    return combine_mains(protos)


def list_chunk(main: Proto, *, full: bool, target: Target) -> bytes:
    """The `-l` (or with `full`, `-l -l`) listing of `main`, as the bytes luac.cross prints."""
    import io

    from luacross.lua51.listing import print_listing

    text = io.StringIO()
    print_listing(main, text, full=full, target=target)
    return text.getvalue().encode("latin-1")  # the listing writes one character per byte


def dump_lc(main: Proto, target: Target, *, strip: bool = False) -> bytes:
    """The `.lc` bytes of `main` for `target`."""
    return lc.dump_chunk(main, target, strip=strip)


class ImageResult:
    """A built LFS image: what to write, and the figures worth reporting."""

    __slots__ = ("data", "flash_size", "modules", "default_compressed_size", "strip_saved")

    def __init__(self, data: bytes, flash_size: int, modules: int) -> None:
        self.data = data  # the bytes to write: gzip (relocatable) or raw (absolute)
        self.flash_size = flash_size  # bytes of flash the image occupies ("Image size: N")
        self.modules = modules
        self.default_compressed_size: int | None = None  # uzlib's size, when --best ran
        self.strip_saved: int | None = None  # flash bytes --strip-image saved


def build_image(
    main: Proto,
    target: Target,
    *,
    address: int | None = None,
    best: bool = False,
    strip_image: bool = False,
) -> ImageResult:
    """Lay out `main` (a lookup main) as an LFS image; compress it unless absolute."""
    from lfs_format import compress
    from lfs_format.lua51 import image

    strip_saved = None
    if strip_image:
        strip_saved = image.strip_savings(main)
        main = image.strip_protos(main)
    flash = image.build_image(main, target, absolute_addr=address)
    result = ImageResult(b"", flash.flash_size, len(main.protos))
    result.strip_saved = strip_saved
    if address is not None:
        result.data = flash.absolute_image()
        return result
    payload = flash.relocatable_payload()
    result.data = compress.uzlib_compress(payload)
    if best:
        result.default_compressed_size = len(result.data)
        result.data = compress.best_compress(payload)
    return result


def write_output(path: str | None, data: bytes) -> None:
    """Write `data` to `path` all-or-nothing; `None` is stdout.

    A regular file (or a new one) is written to a temporary file beside it and
    renamed over it, keeping an existing file's mode; anything else that exists
    (`/dev/null`, a FIFO) is written in place, never renamed over. Failures are
    luac.c's `cannot open` / `cannot write` errors.
    """
    if path is None:
        write_stdout(data)
        return
    if path.endswith("/"):  # fopen() of "dir/" fails so, whether or not dir exists
        raise OutputError(f"cannot open {path}: {os.strerror(errno.EISDIR)}")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"cannot open {path}: {os.strerror(exc.errno or 0)}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_in_place(path, data)
    else:
        _replace_file(path, data, st)


def write_stdout(data: bytes) -> None:
    """Bytes to stdout, after any text already printed there."""
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except OSError as exc:
        raise OutputError(f"cannot write stdout: {os.strerror(exc.errno or 0)}") from None


def _write_in_place(path: str, data: bytes) -> None:
    try:
        out = open(path, "wb")
    except OSError as exc:
        raise OutputError(f"cannot open {path}: {os.strerror(exc.errno or 0)}") from None
    try:
        with out:
            out.write(data)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {os.strerror(exc.errno or 0)}") from None


def _replace_file(path: str, data: bytes, st: os.stat_result | None) -> None:
    # a new file gets 0666 less the umask (as fopen gives); a replaced one keeps its mode
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666
    folder, name = os.path.split(path)
    while True:  # tempfile.mkstemp, without the cost of importing tempfile on every run
        tmp = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot open {path}: {os.strerror(exc.errno or 0)}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        if st is not None:
            os.chmod(tmp, mode)  # not narrowed by the umask
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        raise OutputError(f"cannot write {path}: {os.strerror(exc.errno or 0)}") from None
    except BaseException:
        os.unlink(tmp)
        raise
