"""What both cores' devices share on the Python side of their Lua VM: the
error type, and calls into the sandbox (`SandboxCalls`: a protected call with
the time limit re-armed around it, Lua errors and memory exhaustion as
`LuaRuntimeError`, `execute` of source typed at the prompt).

A device class mixes `SandboxCalls` in and provides `_lupa` (lupa.lua51 or
lupa.lua53), `lua` (its LuaRuntime), `timeout`, `memory_limit`, `files`,
`globals`, `prelude`, `modules`, `run_module(name)`, `_invoke`, `_loadchunk`
and `_bridge` (from its firmware chunk), `_rearm` (None without a timeout,
else the firmware's (limit state, sethook, hook)), `_deadline`, `_stopped`,
`_restart`, `restarts`, `init_blocked`, `_spiffs` and `boot()`.

Also shared: the preludes and globals a boot installs (`_install`), the
firmware's start-up (`startup`: init.lua or the `_init` module) and what
`luacross run` does with a device (`run_device`), restarts included.
"""

import os
import time
from collections.abc import Mapping
from typing import NamedTuple

from lfs_format.errors import LuacrossError
from luacross.device import libs
from luacross.device.spiffs import Spiffs

HOOK_COUNT = 10_000  # Lua instructions between two looks at the clock (timeout)
MAX_RESTARTS = 10  # restarts in one run before luacross calls it a boot loop


class LuaRuntimeError(LuacrossError):
    """A Lua error while running an image: the Lua message and Lua traceback."""

    def __init__(self, message: str, traceback: str = ""):
        super().__init__(message)
        self.lua_message = message
        self.lua_traceback = traceback

    def __str__(self) -> str:
        if not self.lua_traceback:
            return self.lua_message
        return f"{self.lua_message}\n{self.lua_traceback}"


class PreludeError(LuacrossError):
    """A prelude failed: its Lua message alone (`FILE.lua:LINE: message`)."""


class Hidden(AttributeError):
    """A Python attribute Lua may not see (a Lua error, not a Python one)."""


def text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def results(value) -> tuple:
    """A Lua call's results as a tuple (lupa returns one result bare)."""
    return value if isinstance(value, tuple) else (value,)


def size_text(size: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size} bytes"


# the sandbox's xpcall in a traceback: Lua 5.1, Lua 5.3
_XPCALL_FRAMES = ("[C]: in function 'xpcall'", "[C]: in upvalue 'xpcall'")


def user_traceback(trace: str) -> str:
    """Lua's traceback without the frames of the xpcall wrapper around the call."""
    lines = trace.strip("\n").splitlines()
    for i, line in enumerate(lines):
        if line.strip() in _XPCALL_FRAMES:
            lines = lines[: i - 1] if i and lines[i - 1].strip() == "(tail call): ?" else lines[:i]
            break
    return "\n".join(lines)


class Chunk(NamedTuple):
    """Lua source and the chunk name its messages carry."""

    source: bytes
    name: str


def preludes(prelude) -> list[Chunk]:
    """`prelude=` as chunks, in order: a string is Lua source ("=(prelude)"),
    a path a Lua file read now ("@path", as Lua names a file's chunk: its
    messages read `path:LINE: message`), a `Chunk` itself, a list or tuple
    any of these."""
    if prelude is None:
        return []
    if isinstance(prelude, Chunk):
        return [prelude]
    if isinstance(prelude, (list, tuple)):
        return [chunk for item in prelude for chunk in preludes(item)]
    if isinstance(prelude, bytes):
        return [Chunk(prelude, "=(prelude)")]
    if isinstance(prelude, str):
        return [Chunk(prelude.encode("utf-8", "surrogateescape"), "=(prelude)")]
    path = os.fspath(prelude)
    try:
        with open(path, "rb") as stream:
            source = stream.read()
    except OSError as exc:
        raise LuacrossError(f"cannot open {os.fsdecode(path)}: {exc.strerror}") from None
    return [Chunk(source, "@" + os.fsdecode(path))]


class SandboxCalls:
    """Calls into a device's sandboxed VM (see the module docstring)."""

    __slots__ = ()

    # -- booting: the shared firmware pieces, globals and preludes ---------------

    def _shared_firmware(self, load) -> tuple:
        """The shared chunks (`luacross.device.libs`) compiled with `load`,
        and the file module's operations on a fresh `Spiffs` (open files do not
        survive a restart; what was written but not flushed is written now)."""
        if self._spiffs is not None:
            self._spiffs.sync()
        self._spiffs = Spiffs(self.files)
        chunks = tuple(
            load(text.encode(), b"=(firmware)")
            for text in (libs.CALLS, libs.NODE, libs.GETSTRINGS, libs.FILE)
        )
        return (*chunks, libs.file_operations(self._spiffs, self.lua.table_from))

    def _install(self) -> None:
        """After the firmware: `globals` as Lua globals, then the preludes."""
        g = self.lua.globals()
        for name, value in self.globals.items():
            g[self._to_lua(name)] = self._to_lua(value)
        self._run_prelude()

    def apply_prelude(self, prelude) -> None:
        """Set `prelude` and run it now (it runs again at every restart):
        `luacross run` runs it once the image is loaded and the process confined."""
        self.prelude = prelude
        self._run_prelude()

    def _run_prelude(self) -> None:
        for chunk in preludes(self.prelude):
            try:
                self.execute(chunk.source, chunkname=chunk.name)
            except LuaRuntimeError as exc:
                raise PreludeError(exc.lua_message) from None

    def _to_lua(self, value):
        """A Python value as the image sees it: strings as Lua strings, mappings
        and sequences as tables, callables as Lua functions (their results
        converted the same way); anything else stays an opaque Python object
        whose public attributes only are visible."""
        if isinstance(value, str):
            return value.encode("utf-8", "surrogateescape")
        if isinstance(value, Mapping):
            table = self.lua.table()
            for key, item in value.items():
                table[self._to_lua(key)] = self._to_lua(item)
            return table
        if isinstance(value, (list, tuple)):
            return self.lua.table(*[self._to_lua(v) for v in value])
        if callable(value) and not self._lupa.lua_type(value):
            return self._bridge(self._python_function(value))
        return value

    def _python_function(self, function):
        def call(*args):
            result = function(*args)
            if isinstance(result, tuple):
                return tuple(self._to_lua(item) for item in result)
            return self._to_lua(result)

        return call

    def _read_file(self, name: bytes) -> bytes | None:
        """A file for loadfile, dofile, require and the LFS loader (what is
        written but not yet flushed included)."""
        return self._spiffs.getcontents(name) if self._spiffs is not None else None

    def sync(self) -> None:
        """Write what the image wrote but did not flush into `files`."""
        if self._spiffs is not None:
            self._spiffs.sync()

    # -- the firmware's start-up -------------------------------------------------

    def startup(self) -> None:
        """What the firmware runs once booted: its LUA_INIT_STRING, "@init.lua"
        (init.lua from the file system), or, when there is no init.lua, the
        LFS module `_init` (luacross's convention, the firmware's documented
        alternative `node.flashindex'_init'()`). Nothing after a restart whose
        image the 5.3 firmware failed to load (pmain stopped with the error)."""
        if self.init_blocked:
            return
        source = self._read_file(b"init.lua")
        if source is not None:
            if source.startswith(b"#"):  # luaL_loadfile skips a first '#' line
                source = b"\n" + source.partition(b"\n")[2] if b"\n" in source else b""
            self.execute(source, chunkname="@init.lua")
        elif "_init" in self.modules:
            self.run_module("_init")

    # -- calls into Lua ----------------------------------------------------------

    def _lua_message(self, exc: BaseException) -> str:
        if isinstance(exc, self._lupa.LuaMemoryError) or str(exc) == "not enough memory":
            return self._memory_message()
        message = str(exc).strip()
        return message.splitlines()[0] if message else type(exc).__name__

    def _memory_message(self) -> str:
        if self.memory_limit is None:
            return "not enough memory"
        return f"not enough memory (the Lua memory limit is {size_text(self.memory_limit)})"

    def _tick(self) -> bytes | None:
        if self._deadline is not None and time.monotonic() > self._deadline:
            self._stopped = f"timeout: Lua was still running after {self.timeout:g} s"
            return self._stopped.encode()
        return None

    def _call(self, function, *args) -> tuple:
        lupa = self._lupa
        if self._rearm:
            self._stopped = None
            self._deadline = time.monotonic() + self.timeout
        try:
            res, n = self._invoke(function, *[self._to_lua(a) for a in args])
        except lupa.LuaError as exc:  # an error outside the protected call
            raise LuaRuntimeError(self._lua_message(exc)) from None
        finally:
            self.sync()
            if self._rearm:
                self._deadline = None
                state, sethook, hook = self._rearm[1], self._rearm[2], self._rearm[3]
                state[b"stop"] = None  # from Python: no Lua instruction runs, no hook
                sethook(hook, b"", HOOK_COUNT)  # a C function: no hook either
        if self._stopped:
            raise LuaRuntimeError(self._stopped)
        if self._restart:
            self._restart = False
            self.restarts += 1
            if self.restarts > MAX_RESTARTS:
                raise LuacrossError(
                    f"the device restarted {MAX_RESTARTS} times in one run (a boot loop: "
                    "does init.lua reload LFS at every start?)"
                )
            self.boot()
            return ()
        if not res[1]:
            err = res[2]
            if lupa.lua_type(err) == "table":
                message, trace = err[1], err[2]
            else:  # not enough memory, error in error handling: no handler ran
                message, trace = err, b""
            if isinstance(message, Hidden):
                message = str(message)
            if isinstance(message, BaseException):
                raise message
            error = text(message) if isinstance(message, bytes) else str(message)
            if error == "not enough memory":
                error = self._memory_message()
            raise LuaRuntimeError(error, user_traceback(text(trace or b"")))
        return tuple(res[i] for i in range(2, n + 2))

    def execute(self, code: str | bytes, *, chunkname: str = "=stdin") -> tuple:
        """Compile and run Lua source, as typed at the device's prompt."""
        source = code if isinstance(code, bytes) else code.encode("utf-8", "surrogateescape")
        name = chunkname.encode("utf-8", "surrogateescape")
        try:
            f, *err = results(self._loadchunk(source, name))
        except self._lupa.LuaError as exc:
            raise LuaRuntimeError(self._lua_message(exc)) from None
        if f is None:
            message = text(err[0]) if err else "cannot load chunk"
            raise LuaRuntimeError(
                self._memory_message() if message == "not enough memory" else message
            )
        return self._call(f)

    # -- modules in LFS: each device's `module(name)` finds a module's main function

    def call(self, name: str, *args) -> tuple:
        """Run module `name`'s main function with `args`."""
        function = self.module(name)
        if function is None:
            raise LuaRuntimeError(f"module '{name}' is not in LFS")
        return self._call(function, *args)

    def run_module(self, name: str) -> tuple:
        """Run a module's main function with no arguments."""
        return self.call(name)

    def require(self, name: str):
        """Lua's `require(name)`: the module's cached value."""
        result = self._call(self._require, name)
        return result[0] if result else None


def run_device(device, module: str | None = None, code: str | None = None) -> None:
    """What `luacross run` does with a booted device: the start-up, then
    MODULE, then CODE (as typed at the prompt once the device has started).

    A successful `node.LFS.reload` restarts the device: the Lua code that
    called it ends, the new image boots (globals and preludes again) and the
    start-up runs again. A restart during the start-up comes before MODULE
    and CODE; a restart caused by MODULE or CODE ends the run after the new
    image's start-up (the device rebooted: what was typed is gone)."""
    _start(device)
    for kind, what in (("module", module), ("code", code)):
        if what is None or (kind == "module" and what == "_init" and _init_ran(device)):
            continue
        restarts = device.restarts
        if kind == "module":
            device.run_module(what)
        else:
            device.execute(what)
        if device.restarts != restarts:
            _start(device)
            return
    if module is None and code is None and not _has_init(device):
        raise LuacrossError(
            "no init.lua and no _init module; name one of: " + " ".join(sorted(device.modules))
        )


def _init_ran(device) -> bool:
    """The start-up ran the `_init` module (no init.lua took its place)."""
    return "_init" in device.modules and device._read_file(b"init.lua") is None


def _has_init(device) -> bool:
    return "_init" in device.modules or device._read_file(b"init.lua") is not None


def _start(device) -> None:
    """The start-up, again after every restart it causes."""
    while True:
        restarts = device.restarts
        device.startup()
        if device.restarts == restarts:
            return
