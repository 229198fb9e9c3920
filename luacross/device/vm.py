"""What both cores' devices share on the Python side of their Lua VM: the
error type, and calls into the sandbox (`SandboxCalls`: a protected call with
the time limit re-armed around it, Lua errors and memory exhaustion as
`LuaRuntimeError`, `execute` of source typed at the prompt).

A device class mixes `SandboxCalls` in and provides `_lupa` (lupa.lua51 or
lupa.lua53), `timeout`, `memory_limit`, `_invoke` and `_loadchunk` (from its
firmware chunk), `_rearm` (None without a timeout, else the firmware's
(limit state, sethook, hook)), `_deadline`, `_stopped`, `_restart`, `boot()`
and `_to_lua(value)`.
"""

import time

from lfs_format.errors import LuacrossError

HOOK_COUNT = 10_000  # Lua instructions between two looks at the clock (timeout)


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


class SandboxCalls:
    """Calls into a device's sandboxed VM (see the module docstring)."""

    __slots__ = ()

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
            if self._rearm:
                self._deadline = None
                state, sethook, hook = self._rearm[1], self._rearm[2], self._rearm[3]
                state[b"stop"] = None  # from Python: no Lua instruction runs, no hook
                sethook(hook, b"", HOOK_COUNT)  # a C function: no hook either
        if self._stopped:
            raise LuaRuntimeError(self._stopped)
        if self._restart:
            self._restart = False
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
