"""Writing an output (`-o NAME`) as the file system expects.

The bytes are complete in memory before any file is opened, so a failed
build never touches an existing output. Then, by what NAME is:

- a regular file, or a new one: written through its real path (a symlink is
  followed and stays a symlink) to a temporary file beside it, which is
  renamed over it. An existing file must be writable, as for luac.cross's
  `fopen(NAME, "wb")` (a read-only file is refused, not replaced); its mode
  and owner are kept.
- a file the rename cannot keep whole is written in place: one with other
  hard links (replacing it would split them), one in a folder where no
  temporary file can be made (a read-only folder), one whose owner cannot
  be kept, or one the rename is refused for;
- anything else (stdout for `-o -`, `/dev/null`, a FIFO, a terminal,
  `/dev/stdout` and the kernel's other names under /dev and /proc) is opened
  and written directly, as luac.cross does.

Every file is opened in binary mode (`O_BINARY` where the system has it).
Failures are luac.c's `cannot open|write|close NAME: strerror(errno)`.
"""

import errno
import os
import stat
import sys

from lfs_format.errors import LuacrossError
from luacross import signals

O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no CR/LF translation
STDIO_BUFSIZ = 8192  # glibc's BUFSIZ: the most a FILE buffers before a write
KERNEL_NAMES = ("/dev/", "/proc/")  # names that stand for something else
# the temporary file cannot be made, but the file itself may still be writable
NO_TEMPORARY = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG, errno.EINVAL}


class OutputError(LuacrossError):
    """An output that cannot be opened or written (luac.c's `cannot`)."""


def write_output(path: str | None, data: bytes) -> None:
    """Write `data` to the output `path` (`None`: stdout), all or nothing
    where the file system allows it (see the module's description)."""
    if path is None:
        _write_stdout_output(data)
        return
    if path.endswith(("/", os.sep)) or (os.altsep and path.endswith(os.altsep)):
        # fopen() of "dir/" fails so, whether or not dir exists
        raise _cannot("open", path, OSError(errno.EISDIR, ""))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _cannot("open", path, exc) from None
    if (st is not None and not stat.S_ISREG(st.st_mode)) or _is_kernel_name(path):
        _write_direct(path, path, data)
    elif st is not None and st.st_nlink > 1:
        with signals.deferred():
            _write_direct(path, path, data)
    else:
        _replace(path, os.path.realpath(path), data, st)


def write_stdout(data: bytes) -> None:
    """Bytes to stdout, after any text already printed there."""
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except OSError as exc:
        raise _cannot("write", "stdout", exc) from None


def _write_stdout_output(data: bytes) -> None:
    """`-o -`: the output itself on stdout, failing as luac.cross's fwrite/fclose."""
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except OSError as exc:
        raise _cannot(_failing_step(data, _blksize(sys.stdout)), "stdout", exc) from None


def _is_kernel_name(path: str) -> bool:
    if os.name != "posix":
        return False
    return os.path.abspath(path).startswith(KERNEL_NAMES) or os.path.realpath(path).startswith(
        KERNEL_NAMES
    )


def _replace(path: str, real: str, data: bytes, st: os.stat_result | None) -> None:
    """Write a temporary file beside `real` and rename it over `real`; write
    `real` in place where no temporary file can stand in for it."""
    if st is not None:
        # fopen(NAME, "wb")'s permission check on the file itself, not on its folder
        os.close(_open(path, real, os.O_WRONLY))
    with signals.deferred():
        tmp = _write_temporary(path, real, data, st)
        if tmp is None or not _rename(path, tmp, real):
            _write_direct(path, real, data)


def _write_temporary(path: str, real: str, data: bytes, st: os.stat_result | None) -> str | None:
    """A complete copy of the output beside `real`, with the existing file's
    owner and mode; None where none can be made (nothing is left behind).

    tempfile.mkstemp, without the cost of importing tempfile on every run. A
    new output gets fopen's 0666 less the umask; a replaced one starts private.
    """
    folder, name = os.path.split(real)
    mode = 0o600 if st is not None else 0o666
    while True:
        tmp = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_BINARY, mode)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            if st is None or exc.errno in NO_TEMPORARY:
                return None  # a new file is then opened directly, for fopen's own reason
            raise _cannot("open", path, exc) from None
    try:
        try:
            _write_all(path, fd, data)
            kept = st is None or _keep_owner(fd, st)
        finally:
            _close(path, fd)
        if not kept:
            os.unlink(tmp)
            return None
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))  # the umask does not narrow it
    except BaseException:
        _remove(tmp)
        raise
    return tmp


def _rename(path: str, tmp: str, real: str) -> bool:
    """Rename `tmp` over `real`; False (and `tmp` removed) where that is refused."""
    try:
        os.replace(tmp, real)
    except OSError as exc:
        _remove(tmp)
        if exc.errno in NO_TEMPORARY or exc.errno == errno.EBUSY:
            return False  # e.g. a sticky folder, a mount point
        raise _cannot("write", path, exc) from None
    except BaseException:
        _remove(tmp)
        raise
    return True


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


def _keep_owner(fd: int, st: os.stat_result) -> bool:
    """Give the temporary file the existing file's owner and group, if allowed."""
    if not hasattr(os, "fchown"):
        return True
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) == (st.st_uid, st.st_gid):
        return True
    try:
        os.fchown(fd, st.st_uid, st.st_gid)
    except OSError:
        return False
    return True


def _write_direct(path: str, real: str, data: bytes) -> None:
    """fopen(NAME, "wb"), fwrite, fclose."""
    fd = _open(path, real, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        _write_all(path, fd, data)
    except BaseException:
        os.close(fd)
        raise
    _close(path, fd)


def _open(path: str, real: str, flags: int) -> int:
    try:
        return os.open(real, flags | O_BINARY, 0o666)
    except OSError as exc:
        raise _cannot("open", path, exc) from None


def _write_all(path: str, fd: int, data: bytes) -> None:
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:
        blksize = getattr(os.fstat(fd), "st_blksize", 0)
        raise _cannot(_failing_step(data, blksize), path, exc) from None


def _close(path: str, fd: int) -> None:
    try:
        os.close(fd)
    except OSError as exc:
        raise _cannot("close", path, exc) from None


def _blksize(stream) -> int:
    try:
        return getattr(os.fstat(stream.fileno()), "st_blksize", 0)
    except (OSError, AttributeError, ValueError):
        return 0


def _failing_step(data: bytes, blksize: int) -> str:
    """The step at which luac.cross's stdio would have met a write error.

    Its FILE buffers min(BUFSIZ, st_blksize) bytes: an output that fits is
    only written by fclose ("cannot close"), a longer one fails in a write
    while the dump runs ("cannot write").
    """
    buffer = min(STDIO_BUFSIZ, blksize) if blksize and blksize > 0 else STDIO_BUFSIZ
    return "close" if len(data) <= buffer else "write"


def _cannot(what: str, path: str, exc: OSError) -> OutputError:
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return OutputError(f"cannot {what} {path}: {reason}")
