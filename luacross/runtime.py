"""Run LFS images on the PC: the firmware's LFS API around a stock Lua 5.1 VM.

`LfsDevice` loads an image as the firmware would (a relocatable gzip image
through the loader's two passes, an absolute `-a` image flashed at its
address), boots it (`luaN_init`), reads the partition back into Protos and
runs them in `lupa.lua51`, each Proto converted to a stock 64-bit chunk
(`dump_chunk(proto, HOST)`) and `loadstring`-ed. The lookup main itself
becomes the LFS index function, so module lookup is the image's own code.

The Lua side offers what the 5.1 firmware offers around LFS (app/modules/node.c,
app/lua/lnodemcu.c):
- `node.flashindex(name)`, `node.LFS.get(name)`, `node.LFS.<name>`: the
  module's main function, or nil;
- `node.LFS.list()` (sorted names), `node.LFS.time`, `node.LFS.config` and
  `node.info("lfs")` (`lfs_mapped`, `lfs_base`, `lfs_size`, `lfs_used`);
- `node.LFS.reload(file)` / `node.flashreload(file)`: runs the loader on
  `LfsDevice.files[file]`; returns pass 1's error string, or writes the flash,
  prints "LFS region updated.  Restarting." and reboots the VM (a `pcall`
  around the call cannot stop that restart on the device; here it stops the
  calling code at the next return to Python);
- `require(name)`: `package.preload`, then LFS (the `_init` convention's
  loader). The host filesystem is not searched (the device would search
  SPIFFS, which is not modelled);
- `print` is captured into `LfsDevice.output`.

Limits, by design:
- Integer-build images run on the float VM: their int32 constants become
  doubles and arithmetic is floating point (`7/2` is 3.5 here, 3 on an
  integer firmware).
- No NodeMCU C modules (wifi, gpio, tmr, net, ...) exist. Inject what a run
  needs with `globals=` (Python values, dicts become tables, callables are
  callable from Lua) and/or `prelude=` (Lua code run after boot, before any
  module); see `LfsDevice`.
- The VM has stock Lua's standard libraries (including `io` and `os`).
"""

import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import lupa.lua51 as lua51

from lfs_format.errors import LoaderError, LuacrossError
from lfs_format.flash import SECTOR_SIZE, SimulatedFlash
from lfs_format.lua51.image_structs import FLASH_SIG_B1
from lfs_format.lua51.lc import dump_chunk, read_chunk
from lfs_format.lua51.lineinfo import LineInfoWriter
from lfs_format.lua51.loader import (
    NOT_FOUND,
    LoaderPass,
    absolute_base,
    boot,
    place_absolute,
    read_partition,
)
from lfs_format.lua51.proto import Proto
from lfs_format.target import HOST, Target

DEFAULT_LFS_BASE = 0x40220000  # mapped address of the partition (ESP8266 IROM)
FLASH_MAPPING = 0x40200000  # ESP8266: mapped = physical + this
GZIP_MAGIC = b"\x1f\x8b"


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


class _Restart(Exception):
    """node.LFS.reload succeeded: the device restarts."""


# ---------------------------------------------------------------------------
# image summary (`luacross check`)


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def image_is_integral(data: bytes) -> bool:
    """The build an image was made for, from its signature (B1 bit); float if unreadable."""
    head = data
    if is_gzip(data):
        try:
            head = zlib.decompressobj(31).decompress(data, 4)
        except zlib.error:
            return False
    return len(head) >= 4 and bool(int.from_bytes(head[:4], "little") & FLASH_SIG_B1)


def _round_sectors(size: int) -> int:
    return max(SECTOR_SIZE, (size + SECTOR_SIZE - 1) // SECTOR_SIZE * SECTOR_SIZE)


@dataclass(slots=True)
class ImageSummary:
    """What `luacross check` reports about an image that passed the checks."""

    modules: list[str]
    flash_size: int
    compressed_size: int | None  # None for an absolute image
    timestamp: float | int
    build: str  # "float" or "int"
    address: int | None = None  # absolute images: the mapped address

    def lines(self) -> list[str]:
        kind = "absolute" if self.address is not None else "relocatable"
        lines = [f"LFS image OK ({kind}, {self.build} build)"]
        if self.address is not None:
            lines.append(f"address: 0x{self.address:08x}")
        lines.append(f"flash size: {self.flash_size} bytes")
        if self.compressed_size is not None:
            lines.append(f"compressed size: {self.compressed_size} bytes")
        lines.append(f"timestamp: {self.timestamp:.0f} ({_utc(self.timestamp)})")
        lines.append(f"modules ({len(self.modules)}): {' '.join(self.modules)}")
        if self.build == "int":
            lines.append(f"note: {INTEGER_ON_FLOAT_VM}")
        return lines


INTEGER_ON_FLOAT_VM = (
    "luacross run executes integer-build images on a float Lua VM: "
    "numbers are exact, but arithmetic follows float rules (7/2 is 3.5, not 3)"
)


def _utc(timestamp: float) -> str:
    import time

    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))
    except (OverflowError, OSError, ValueError):
        return "out of range"


def _lookup_info(main: Proto) -> tuple[list[str], float | int]:
    """Module names and timestamp from a lookup main's constants (k[0..n-1], k[n])."""
    *names, stamp = main.constants or [0]
    if not all(isinstance(n, bytes) for n in names) or isinstance(stamp, (bytes, bool)):
        raise LoaderError("LFS main function is not a luac.cross lookup index")
    return [_text(n) for n in names], stamp or 0


def check_image(
    data: bytes, *, integral: bool = False, lfs_size: int | None = None
) -> ImageSummary:
    """Validate an image as the firmware build `integral` selects would.

    A gzip image goes through the loader's first pass (LoaderError carries
    the firmware's message), then is written to a scratch partition, booted
    and read back for the summary. A raw image (not gzip) is taken as an
    absolute `-a` image: flashed at its own address and boot-checked
    (`node.LFS.reload` itself would refuse it: "read error on LFS image file").
    """
    device = LfsDevice(integral=integral, lfs_size=lfs_size)
    device.load(data)
    names, stamp = _lookup_info(device.main)
    absolute = not is_gzip(data)
    return ImageSummary(
        modules=names,
        flash_size=device.boot_result.flash_size,
        compressed_size=None if absolute else len(data),
        timestamp=stamp,
        build="int" if integral else "float",
        address=device.flash.base if absolute else None,
    )


# ---------------------------------------------------------------------------
# the device


def _loadstring(lua):
    """Lua's loadstring, always returning (function or nil, message or nil)."""
    return lua.eval("function(s, name) local f, e = loadstring(s, name) return f, e end")


_NODE_API = r"""
local index, config, capture, reload = ...
print = function(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  capture(table.concat(parts, "\t"))
end

local function lfsmodule(name)        -- luaL_pushlfsmodule
  if not index then return nil end
  local f = index(name)
  if type(f) ~= "function" then return nil end
  return f
end
local function lfsconfig()
  return {lfs_mapped = config[1], lfs_base = config[2], lfs_size = config[3], lfs_used = config[4]}
end

node = type(node) == "table" and node or {}
node.flashindex = lfsmodule
node.flashreload = reload
local info = node.info
node.info = function(what, ...)
  if what == "lfs" then return lfsconfig() end
  if info then return info(what, ...) end
end
node.LFS = setmetatable({
  get = lfsmodule,
  list = function()
    if not index then return nil end
    local _, names = index()
    table.sort(names)
    return names
  end,
  reload = reload,
}, {__index = function(_, name)        -- node_lfs_func
  if type(name) ~= "string" and type(name) ~= "number" then return nil end
  if name == "config" then return lfsconfig() end
  if name == "time" then return index and (index()) end
  return lfsmodule(name)
end})

package.loaders = {package.loaders[1], function(name)
  return lfsmodule(name) or ("\n\tno module '" .. tostring(name) .. "' in LFS")
end}

local traceback = debug.traceback
local function pack(...) return {n = select("#", ...), ...} end
return function(f, ...)               -- f(...) as {ok, results...}, number of results
  local n, args = select("#", ...), {...}
  local res = pack(xpcall(function() return f(unpack(args, 1, n)) end,
                          function(e) return {e, traceback("", 2)} end))
  return res, res.n - 1
end
"""


@dataclass(slots=True)
class LfsDevice:
    """A NodeMCU with an LFS partition, running Lua on the PC.

    - `integral`: firmware build (None: the build the loaded image was made for);
    - `lfs_base`: mapped address of the partition (absolute images use their own);
    - `lfs_size`: partition size (None: the image's size rounded up to 4 KiB);
    - `globals`: values set as Lua globals after boot (stubs for C modules),
      e.g. `{"wifi": {"STATION": 1, "setmode": lambda m: m}}`;
    - `prelude`: Lua code run after `globals`, before any module;
    - `files`: SPIFFS stand-in for `node.LFS.reload(name)` (name -> bytes).

    `load(image)` writes and boots an image; then `call`, `require`,
    `run_module` and `execute` run Lua, raising `LuaRuntimeError` on a Lua
    error. Lua strings come back as `bytes`; `print` lines collect in `output`.
    """

    integral: bool | None = None
    lfs_base: int = DEFAULT_LFS_BASE
    lfs_size: int | None = None
    globals: Mapping[str, object] = field(default_factory=dict)
    prelude: str | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)
    flash: SimulatedFlash | None = field(default=None, init=False)
    boot_result: object = field(default=None, init=False)
    main: Proto | None = field(default=None, init=False)
    lua: object = field(default=None, init=False)
    _invoke: object = field(default=None, init=False)
    _index: object = field(default=None, init=False)
    _restart: bool = field(default=False, init=False)

    # -- loading and booting ----------------------------------------------------

    def load(self, image: bytes) -> str:
        """Write `image` into the partition and boot it; return the loader's message.

        Raises LoaderError: pass 1's message for a rejected gzip image, or
        luaN_init's message when the result does not boot.
        """
        if self.integral is None:
            self.integral = image_is_integral(image)
        if is_gzip(image):
            loader = LoaderPass(integral=self.integral, partition_size=self.lfs_size)
            validated = loader.first(image)
            if self.flash is None:
                size = self.lfs_size or _round_sectors(validated.flash_size)
                self.flash = SimulatedFlash(self.lfs_base, size)
            message = loader.second(validated, self.flash)
        else:
            base = absolute_base(image)
            if base is None:
                raise LoaderError(
                    "not an LFS image: neither gzip (-f) nor an absolute image (-a)"
                )
            self.flash = SimulatedFlash(base, self.lfs_size or _round_sectors(len(image)))
            place_absolute(image, self.flash)
            message = "absolute image flashed"
        self.boot()
        if self.main is None:
            raise LoaderError(self.boot_result.message.rstrip("\n"))
        return message

    def boot(self) -> None:
        """Restart: luaN_init on the partition, then a fresh Lua VM with the node API."""
        self.main = None
        self.boot_result = boot(self.flash, bool(self.integral))
        if self.boot_result.booted:
            self.main = read_partition(self.flash, bool(self.integral))
        else:
            self.output.append(self.boot_result.message.rstrip("\n"))
        self.lua = lua51.LuaRuntime(encoding=None, unpack_returned_tuples=True)
        index = self._load(self.main, b"=(luac)") if self.main is not None else None
        self._index = index
        config = self.lua.table_from(self._config())
        api = self._loadstring(_NODE_API.encode(), b"=(node)")
        self._invoke = api(index, config, self._capture, self._reload_from_lua)
        g = self.lua.globals()
        for name, value in self.globals.items():
            g[self._to_lua(name)] = self._to_lua(value)
        if self.prelude:
            self.execute(self.prelude, chunkname="=(prelude)")

    def _config(self) -> list[int]:
        base = self.flash.base
        used = self.boot_result.flash_size if self.main is not None else 0
        physical = base - FLASH_MAPPING if base >= FLASH_MAPPING else base
        return [base, physical, self.flash.size, used]

    def _load(self, proto: Proto, chunkname: bytes):
        return self._loadstring(dump_chunk(_host_proto(proto), HOST), chunkname)

    def _loadstring(self, chunk: bytes, chunkname: bytes):
        f, err = _loadstring(self.lua)(chunk, chunkname)
        if f is None:
            raise LuaRuntimeError(_text(err))
        return f

    def _capture(self, line: bytes) -> None:
        self.output.append(_text(line))

    def _reload_from_lua(self, name: bytes | None = None) -> bytes:
        image = self.files.get(_text(name or b""))
        if image is None:
            return NOT_FOUND.encode()
        loader = LoaderPass(integral=bool(self.integral), partition_size=self.flash.size)
        try:
            validated = loader.first(image)
        except LoaderError as exc:
            return str(exc).encode()
        self.output.append(loader.second(validated, self.flash))
        self._restart = True
        raise _Restart()

    # -- running Lua --------------------------------------------------------------

    def _to_lua(self, value):
        if isinstance(value, str):
            return value.encode()
        if isinstance(value, Mapping):
            table = self.lua.table()
            for key, item in value.items():
                table[self._to_lua(key)] = self._to_lua(item)
            return table
        if isinstance(value, (list, tuple)):
            return self.lua.table(*[self._to_lua(v) for v in value])
        return value

    def _call(self, function, *args) -> tuple:
        res, n = self._invoke(function, *[self._to_lua(a) for a in args])
        if self._restart:
            self._restart = False
            self.boot()
            return ()
        if not res[1]:
            err = res[2]
            if lua51.lua_type(err) == "table":
                message, trace = err[1], err[2]
            else:
                message, trace = err, b""
            if isinstance(message, BaseException):
                raise message
            text = message if isinstance(message, bytes) else str(message).encode()
            raise LuaRuntimeError(_text(text), _user_traceback(_text(trace)))
        return tuple(res[i] for i in range(2, n + 2))

    def module(self, name: str):
        """The module's main function as `node.flashindex(name)` returns it (None if absent)."""
        result = self._call(self.lua.globals().node.flashindex, name)
        return result[0] if result else None

    @property
    def modules(self) -> list[str]:
        return _lookup_info(self.main)[0] if self.main is not None else []

    def call(self, module: str, *args) -> tuple:
        """Run module `module`'s main function with `args` (as `LFS.module(...)`)."""
        function = self.module(module)
        if function is None:
            raise LuaRuntimeError(f"module '{module}' is not in LFS")
        return self._call(function, *args)

    def run_module(self, name: str) -> tuple:
        """Run a module's main function with no arguments, as `node.flashindex(name)()`."""
        return self.call(name)

    def require(self, name: str):
        """Lua's `require(name)`: the module's cached value."""
        result = self._call(self.lua.globals().require, name)
        return result[0] if result else None

    def execute(self, code: str | bytes, *, chunkname: str = "=stdin") -> tuple:
        """Compile and run Lua source, as typed at the device's prompt."""
        source = code.encode() if isinstance(code, str) else code
        return self._call(self._loadstring(source, chunkname.encode()))


def _user_traceback(trace: str) -> str:
    """Lua's traceback without the frames of the xpcall wrapper around the call."""
    lines = trace.strip("\n").splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "[C]: in function 'xpcall'":
            lines = lines[: i - 1] if i and lines[i - 1].strip() == "(tail call): ?" else lines[:i]
            break
    return "\n".join(lines)


def run_image(
    data: bytes,
    *,
    module: str | None = None,
    code: str | None = None,
    lfs_base: int | None = None,
    lfs_size: int | None = None,
    globals: Mapping[str, object] | None = None,
    prelude: str | None = None,
    output: list[str] | None = None,
) -> list[str]:
    """Load and boot `data`, run `_init` if the image has it (as a device's
    init.lua does), then MODULE and/or CODE; return the printed lines.

    `output` is the list printed lines are appended to as they happen (so a
    caller can show them live, and keeps them when a Lua error is raised).
    """
    device = LfsDevice(
        lfs_base=DEFAULT_LFS_BASE if lfs_base is None else lfs_base,
        lfs_size=lfs_size,
        globals=globals or {},
        prelude=prelude,
        output=[] if output is None else output,
    )
    device.load(data)
    if "_init" in device.modules:
        device.run_module("_init")
    if module is not None and module != "_init":
        device.run_module(module)
    if code is not None:
        device.execute(code)
    if module is None and code is None and "_init" not in device.modules:
        raise LuacrossError(
            f"no _init module; name one of: {' '.join(sorted(device.modules))}"
        )
    return device.output


# ---------------------------------------------------------------------------
# luac.cross -e


def _host_proto(proto: Proto) -> Proto:
    """A copy fit for a stock dump: one line per instruction (none if unknown)."""
    lines = proto.lineinfo
    if lines and len(lines) != len(proto.code):
        lines = (lines + [lines[-1]] * len(proto.code))[: len(proto.code)]
    return proto.replace(
        constants=[float(k) if type(k) is int else k for k in proto.constants],
        protos=[_host_proto(p) for p in proto.protos],
        lineinfo=lines,
    )


def _nodemcu_proto(proto: Proto, target: Target) -> Proto:
    """A stock-Lua proto as luac.cross's parser leaves it: no local or upvalue
    names, packed line info replayed from the per-instruction lines."""
    packed = None
    if proto.lineinfo:
        writer = LineInfoWriter()
        for pc, line in enumerate(proto.lineinfo):
            writer.code(pc, line)
        packed = writer.packed()
    constants = proto.constants
    if target.integral:
        constants = [int(k) if isinstance(k, float) and k.is_integer() else k for k in constants]
    return proto.replace(
        constants=constants,
        protos=[_nodemcu_proto(p, target) for p in proto.protos],
        packedlineinfo=packed,
        locvars=[],
        upvalues=[],
    )


def _find_compiled(host: Proto, target: Target) -> Proto | None:
    """luacross's own compilation of the function, when its source file is at hand."""
    source = host.source or b""
    if not source.startswith(b"@"):
        return None
    path = source[1:].decode(errors="surrogateescape")
    if not Path(path).is_file():
        return None
    from luacross import api

    try:
        (compiled,) = api.compile_files([path], target)
    except LuacrossError:
        return None
    for candidate in compiled.walk():
        if (
            candidate.linedefined,
            candidate.lastlinedefined,
            candidate.numparams,
            len(candidate.code),
        ) == (host.linedefined, host.lastlinedefined, host.numparams, len(host.code)):
            return candidate
    return None


def run_host_script(path: str, target: Target) -> Proto | None:
    """luac.cross `-e FILE`: run FILE in a fresh Lua 5.1 with the standard
    libraries; if it returns a Lua function, return that function's Proto
    (it becomes the first module), else None.

    The function comes out of stock Lua via `string.dump`. When it was
    loaded from a source file that still exists, luacross recompiles that
    file and uses its own Proto for the function (exact NodeMCU code and
    packed line info). Otherwise the stock Proto is converted: names
    dropped, line info replayed per instruction, which can differ from
    luac.cross where its compiler rewinds line info (formats doc §3) or
    generates different code (§4). Upvalue values are lost, as in luac.cross.
    """
    from luacross import api

    # luac.cross's own VM compiles the script: its messages (an integer build's
    # "malformed number", "cannot open") are luacross's compiler's
    api.compile_files([path], target)
    from luacross import signals

    lua = lua51.LuaRuntime(encoding=None, unpack_returned_tuples=True)
    signals.watch_lua(lua)  # a signal stops an endless loop in the script
    f, err = lua.eval("function(p) local f, e = loadfile(p) return f, e end")(os.fsencode(path))
    if f is None:
        raise LuacrossError(err.decode("utf-8", "surrogateescape"))
    ok, value = lua.eval("function(f) local r = {pcall(f)} return r[1], r[2] end")(f)
    if not ok:
        signals.reraise_stop(value)
        if isinstance(value, bytes):
            raise LuacrossError(value.decode("utf-8", "surrogateescape"))
        raise LuacrossError(str(value))
    if lua51.lua_type(value) != "function":
        return None
    dumped = lua.eval("function(f) return pcall(string.dump, f) end")(value)
    if not dumped[0]:  # a C function: luac.cross would crash on it
        raise LuacrossError(f"{path}: returned function is not a Lua function")
    host, _ = read_chunk(dumped[1])
    return _find_compiled(host, target) or _nodemcu_proto(host, target)
