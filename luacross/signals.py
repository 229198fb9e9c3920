"""How luacross stops on Ctrl-C, SIGTERM or a hang-up.

luac.cross dies at once on these signals. luacross stops as promptly, but
through Python's unwinding so that it can clean up and say so on one line:

- `install()` (the console script calls it) makes SIGINT, SIGTERM and SIGHUP
  raise `Interrupted`; the command reports it as `luacross: interrupted`
  (`terminated`, `hung up`) and exits 128 + the signal number (130, 143, 129).
  A second signal while luacross is already stopping ends it at once.
- `deferred()` holds these signals back while a few system calls must finish
  together (an output file's temporary copy written and renamed), then
  delivers them.
- `watch_lua(lua)` lets a signal stop Lua code running in a lupa runtime:
  lupa runs a Lua loop without returning to Python, where signal handlers
  run, so a count hook calls into Python every `HOOK_COUNT` instructions.
- `lua_running()` is the command line's backstop for Lua code a hook cannot
  reach (a long C call, or a script whose `pcall` keeps catching the stop):
  if Lua has not stopped `GRACE` seconds after a signal, the process exits.
"""

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

PROGNAME = "luacross"
HOOK_COUNT = 10_000  # Lua instructions between two looks at the signals (~0.1 ms)
GRACE = 0.5  # seconds Lua gets to unwind after a signal before the process exits

# the signals that stop luacross, with the word it reports
STOPPING = {
    getattr(signal, name): word
    for name, word in (("SIGINT", "interrupted"), ("SIGTERM", "terminated"), ("SIGHUP", "hung up"))
    if hasattr(signal, name)
}

_caught: int | None = None  # the first stopping signal received since install()
_deferring = 0  # how many deferred() blocks are running


class Interrupted(BaseException):
    """luacross was asked to stop by a signal.

    Like SystemExit, not an Exception; not a KeyboardInterrupt either, which
    libraries catch for their own ends (click turns one into "Aborted!").
    """

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def status(self) -> int:
        """The exit status a shell shows for this signal: 128 + its number."""
        return 128 + self.signum

    @property
    def message(self) -> str:
        return STOPPING.get(self.signum, "interrupted")


def stopped(exc: BaseException) -> Interrupted:
    """`exc` (Interrupted or KeyboardInterrupt) as an Interrupted: a plain
    KeyboardInterrupt is SIGINT met before `install()`."""
    return exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)


def _on_signal(signum: int, frame: object) -> None:
    global _caught
    if _caught is not None:  # asked twice: stop now, whatever is still unwinding
        _exit_now(_caught)
    _caught = signum
    raise Interrupted(signum)


def _exit_now(signum: int) -> None:
    try:
        os.write(2, f"{PROGNAME}: {STOPPING.get(signum, 'interrupted')}\n".encode())
    finally:
        os._exit(128 + signum)


def install() -> None:
    """Make every stopping signal raise `Interrupted` (main thread only).

    SIGPIPE gets its default action back, as in a C program: a reader that
    goes away (`luacross -l big.lua | head`) ends luacross silently.
    """
    for signum in STOPPING:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup keeps its SIG_IGN
            signal.signal(signum, _on_signal)
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def check() -> None:
    """Raise `Interrupted` if a stopping signal arrived since `install()`."""
    if _caught is not None:
        raise Interrupted(_caught)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold the stopping signals back while the block runs; deliver them after.

    Only for blocks that cannot wait long (nothing here may block on a pipe
    or a terminal): the signals are not lost, just late.
    """
    global _deferring
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    saved: list[tuple[int, object]] = []

    def hold(signum: int, frame: object) -> None:
        held.append(signum)

    _deferring += 1
    try:
        for signum in STOPPING:
            previous = signal.signal(signum, hold)
            saved.append((signum, signal.SIG_DFL if previous is None else previous))
        yield
    finally:
        _deferring -= 1
        for signum, handler in saved:
            signal.signal(signum, handler)  # type: ignore[arg-type]
        if held:
            _deliver(held[0], dict(saved).get(held[0]))


def _deliver(signum: int, handler: object) -> None:
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        os.kill(os.getpid(), signum)


_LUA_HOOK = """
local check, count = ...
local stop
debug.sethook(function()
  if stop == nil then
    local ok, err = pcall(check)
    if ok then return end
    stop = err
  end
  error(stop, 0)
end, "", count)
"""


def watch_lua(lua) -> None:
    """Let a signal stop the Lua code `lua` (a lupa LuaRuntime with `debug`) runs.

    A count hook calls into Python every `HOOK_COUNT` instructions; Python
    runs any pending signal handler there, and the KeyboardInterrupt it
    raises becomes a Lua error, raised again at every later hook so that a
    `pcall` in the script cannot swallow it for good. Coroutines created
    afterwards inherit the hook (Lua 5.1's lua_newthread copies it). A Lua
    `pcall` that ends in this error returns the exception object itself:
    callers re-raise a KeyboardInterrupt they get back from Lua.
    """
    lua.execute(_LUA_HOOK, check, HOOK_COUNT)


def reraise_stop(value: object) -> None:
    """Raise `value` again if it is a stop (a signal's exception) that Lua caught."""
    if isinstance(value, BaseException) and not isinstance(value, Exception):
        raise value


@contextmanager
def lua_running() -> Iterator[None]:
    """The command line's backstop while Lua code runs: a signal that has not
    stopped the Lua code within `GRACE` seconds ends the process.

    Python's signal handlers only run in the main thread, between Python
    instructions; a thread blocked on the signal wakeup pipe sees the signal
    even while the main thread is deep in Lua (lupa releases the GIL there).
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(os, "pipe"):
        yield
        return
    wakeup_r, wakeup_w = os.pipe()
    done = threading.Event()
    try:
        os.set_blocking(wakeup_w, False)
        previous = signal.set_wakeup_fd(wakeup_w, warn_on_full_buffer=False)
    except (ValueError, OSError, AttributeError):  # e.g. Windows (sockets only): no backstop
        os.close(wakeup_r)
        os.close(wakeup_w)
        yield
        return
    watcher = threading.Thread(target=_watch, args=(wakeup_r, done), daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        signal.set_wakeup_fd(previous)
        os.close(wakeup_w)  # the watcher reads end-of-file and closes its end


def _watch(wakeup_r: int, done: threading.Event) -> None:
    try:
        while not done.is_set():
            got = os.read(wakeup_r, 64)
            if not got:
                return
            signum = next((s for s in got if s in STOPPING), None)
            if signum is None or done.wait(GRACE):
                continue
            while _deferring and not done.wait(0.05):
                pass  # a file is being written: it finishes first
            if not done.is_set():
                _exit_now(signum)
    finally:
        os.close(wakeup_r)
