"""The device's file system (SPIFFS), shared by both cores.

NodeMCU's `file` module (app/modules/file.c, the same for the 5.1 and the 5.3
firmware) over a flat set of names -> bytes:

- `files`: the mapping the device reads and writes (`LfsDevice.files`,
  `Lua53Device.files`): a plain dict (the file system lives in memory, and
  starts empty unless the caller fills it), or a `SpiffsFolder`, a folder of
  the PC whose regular files are the device's files and which every change is
  written back to (`luacross run --spiffs DIR`, the `spiffs=` argument);
- `Spiffs`: the `file` module's operations on `files` (open files with their
  position and mode, reads that stop at a character, writes kept in a
  buffer until the file is flushed or closed, as SPIFFS caches them), called
  from the Lua side in `luacross.device.libs`.

Names are flat, as SPIFFS's are: at most 31 bytes (FS_OBJ_NAME_LEN), no `/`
or `\\`, not `.` or `..`, no NUL. The firmware would take `a/b` as one flat
name; luacross refuses it (opening it fails, as a full file system does), so
that no name can leave the folder. A folder's symbolic links, directories
and other special files are not part of the device's file system: reading
them finds nothing, writing them fails.
"""

import os
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path

from lfs_format.errors import LuacrossError
from luacross.output import write_output

NAME_LIMIT = 31  # FS_OBJ_NAME_LEN (app/include/user_config.h)
MAX_TOTAL = 16 << 20  # the largest ESP8266 flash: no SPIFFS holds more


def valid_name(name: str) -> bool:
    """A name the device's flat file system (and the folder behind it) can hold."""
    if name in ("", ".", ".."):
        return False
    if "/" in name or "\\" in name or "\0" in name:
        return False
    return len(name.encode("utf-8", "surrogateescape")) <= NAME_LIMIT


def write_file(folder: Path, name: str, data: bytes | None) -> None:
    """Write (None: remove) `name` in `folder`, never through a symbolic link
    and never outside the folder; written as the compiler writes its outputs
    (`luacross.output`: a complete temporary file renamed over the old one)."""
    if not valid_name(name):
        raise LuacrossError(f"refused file name {name!r}: not a flat SPIFFS name")
    path = os.path.join(folder, name)
    if os.path.islink(path):
        raise LuacrossError(f"cannot write {path}: a symbolic link")
    if data is None:
        try:
            if os.path.isfile(path):
                os.unlink(path)
        except OSError as exc:
            raise LuacrossError(f"cannot remove {path}: {exc.strerror}") from None
        return
    write_output(path, data)


def _unusable(entry: os.DirEntry) -> str | None:
    """Why a folder entry is not one of the device's files (None: it is)."""
    if entry.is_symlink():
        return "a symbolic link"
    if entry.is_dir():
        return "a folder"
    if not entry.is_file():
        return "not a regular file"
    if not valid_name(entry.name):
        return f"not a SPIFFS name (flat, at most {NAME_LIMIT} bytes)"
    return None


class SpiffsFolder(MutableMapping):
    """A folder of the PC as the device's file system: read once, when made;
    every change goes to `writer(name, data or None)` (by default: into the
    folder itself)."""

    def __init__(
        self, folder: str | os.PathLike, writer: Callable[[str, bytes | None], None] | None = None
    ) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise LuacrossError(f"--spiffs {self.folder}: not a folder")
        self._files: dict[str, bytes] = {}
        self.blocked: dict[str, str] = {}  # names the device cannot see, and why
        total = 0
        try:
            entries = sorted(os.scandir(self.folder), key=lambda entry: entry.name)
            for entry in entries:
                why = _unusable(entry)
                if why:
                    self.blocked[entry.name] = why
                    continue
                with open(entry.path, "rb") as stream:
                    self._files[entry.name] = stream.read()
                total += len(self._files[entry.name])
                if total > MAX_TOTAL:
                    raise LuacrossError(
                        f"--spiffs {self.folder}: more than {MAX_TOTAL >> 20} MiB of files, "
                        "more than an ESP8266's flash holds"
                    )
        except OSError as exc:
            raise LuacrossError(f"--spiffs {self.folder}: {exc.strerror}") from None
        self.writer = writer or (lambda name, data: write_file(self.folder, name, data))

    def notes(self) -> list[str]:
        """What of the folder the device does not see, for the user."""
        return [
            f"--spiffs {self.folder}: {name} is {why}: not part of the device's file system"
            for name, why in self.blocked.items()
        ]

    def __getitem__(self, name: str) -> bytes:
        return self._files[name]

    def __setitem__(self, name: str, data: bytes) -> None:
        if not valid_name(name) or name in self.blocked:
            raise LuacrossError(f"refused file name {name!r} in {self.folder}")
        self._files[name] = bytes(data)
        self.writer(name, self._files[name])

    def __delitem__(self, name: str) -> None:
        del self._files[name]
        self.writer(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._files))

    def __len__(self) -> int:
        return len(self._files)


class _Open:
    """An open file: its name, position and what its mode allows."""

    __slots__ = ("name", "pos", "read", "write", "append")

    def __init__(self, name: str, read: bool, write: bool, append: bool) -> None:
        self.name, self.pos = name, 0
        self.read, self.write, self.append = read, write, append


# modes as NodeMCU's SPIFFS layer reads them (app/spiffs/spiffs.c fs_mode2flag):
# (read, write, create, truncate, append); any other mode is "r"
_MODES = {
    "r": (True, False, False, False, False),
    "w": (False, True, True, True, False),
    "a": (False, True, True, False, True),
    "r+": (True, True, False, False, False),
    "w+": (True, True, True, True, False),
    "a+": (True, True, True, False, True),
}


def _name(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


class Spiffs:
    """The `file` module's operations on a device's `files` (see the module
    docstring); names and data are the Lua strings (bytes) the image passes."""

    def __init__(self, files: MutableMapping[str, bytes]) -> None:
        self.files = files
        self._open: dict[int, _Open] = {}
        self._next = 1
        self._buffers: dict[str, bytearray] = {}  # written and not yet flushed

    def _content(self, name: str) -> bytes | bytearray | None:
        buffer = self._buffers.get(name)
        return buffer if buffer is not None else self.files.get(name)

    def _store(self, name: str, data: bytes) -> bool:
        try:
            self.files[name] = data
        except LuacrossError:
            return False
        return True

    # -- names ------------------------------------------------------------------

    def exists(self, name: bytes) -> bool:
        return valid_name(_name(name)) and self._content(_name(name)) is not None

    def size(self, name: bytes) -> int | None:
        data = self._content(_name(name)) if valid_name(_name(name)) else None
        return None if data is None else len(data)

    def names(self) -> list[tuple[bytes, int]]:
        found = {name: len(data) for name, data in self.files.items()}
        found.update((name, len(data)) for name, data in self._buffers.items())
        return [(name.encode("utf-8", "surrogateescape"), n) for name, n in sorted(found.items())]

    def remove(self, name: bytes) -> None:
        text = _name(name)
        self._buffers.pop(text, None)
        if valid_name(text) and text in self.files:
            del self.files[text]

    def rename(self, old: bytes, new: bytes) -> bool:
        """SPIFFS_rename: fails if `old` is missing or `new` exists."""
        source, target = _name(old), _name(new)
        if not (valid_name(source) and valid_name(target)):
            return False
        data = self._content(source)
        if data is None or self._content(target) is not None:
            return False
        if not self._store(target, bytes(data)):
            return False
        self.remove(old)
        for handle in self._open.values():
            if handle.name == source:
                handle.name = target
        return True

    # -- open files ---------------------------------------------------------------

    def open(self, name: bytes, mode: bytes) -> int | None:
        text = _name(name)
        if not valid_name(text):
            return None
        read, write, create, truncate, append = _MODES.get(_name(mode), _MODES["r"])
        exists = self._content(text) is not None
        if not exists and not create:
            return None
        if truncate or not exists:
            if not self._store(text, b""):
                return None
            self._buffers.pop(text, None)
        handle = self._next
        self._next += 1
        self._open[handle] = _Open(text, read, write, append)
        return handle

    def close(self, handle: int) -> None:
        opened = self._open.pop(int(handle), None)
        if opened is not None and opened.write:
            self._flush(opened.name)

    def flush(self, handle: int) -> bool:
        opened = self._open.get(int(handle))
        if opened is None:
            return False
        return self._flush(opened.name) if opened.write else True

    def _flush(self, name: str) -> bool:
        buffer = self._buffers.get(name)
        if buffer is None:
            return True
        if not any(o.name == name and o.write for o in self._open.values()):
            del self._buffers[name]
        return self._store(name, bytes(buffer))

    def sync(self) -> None:
        """Write every buffered file (the run ends)."""
        for name in list(self._buffers):
            self._flush(name)

    def read(self, handle: int, size: int, end: bytes | None) -> bytes | None:
        """vfs_read up to `size` bytes, stopping after `end`; None at the end of the file."""
        opened = self._open.get(int(handle))
        if opened is None or not opened.read:
            return None
        size = int(size)
        data = self._content(opened.name) or b""
        chunk = bytes(data[opened.pos : opened.pos + max(size, 0)])
        if end:
            stop = chunk.find(end)
            if stop >= 0:
                chunk = chunk[: stop + 1]
        if not chunk and size > 0:
            return None
        opened.pos += len(chunk)
        return chunk

    def write(self, handle: int, data: bytes) -> bool:
        opened = self._open.get(int(handle))
        if opened is None or not opened.write:
            return False
        buffer = self._buffers.get(opened.name)
        if buffer is None:
            buffer = self._buffers[opened.name] = bytearray(self.files.get(opened.name, b""))
        if opened.append:
            opened.pos = len(buffer)
        if opened.pos > len(buffer):
            buffer.extend(bytes(opened.pos - len(buffer)))
        buffer[opened.pos : opened.pos + len(data)] = data
        opened.pos += len(data)
        return True

    def seek(self, handle: int, whence: bytes, offset: int) -> int | None:
        opened = self._open.get(int(handle))
        if opened is None:
            return None
        size = len(self._content(opened.name) or b"")
        start = {b"set": 0, b"cur": opened.pos, b"end": size}[whence]
        offset = int(offset)
        if start + offset < 0:
            return None
        opened.pos = start + offset
        return opened.pos

    # -- whole files ----------------------------------------------------------------

    def getcontents(self, name: bytes) -> bytes | None:
        text = _name(name)
        data = self._content(text) if valid_name(text) else None
        return None if data is None else bytes(data)
