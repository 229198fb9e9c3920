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
  the file of the device's file system; returns pass 1's error string, or writes the flash,
  prints "LFS region updated.  Restarting." and reboots the VM (a `pcall`
  around the call cannot stop that restart on the device; here it stops the
  calling code at the next return to Python);
- `require(name)`: `package.preload`, the device's file system
  (`LfsDevice.files`, `package.path` "?.lc;?.lua"), then LFS (the `_init`
  convention's loader);
- `file`: NodeMCU's file module on `LfsDevice.files` (or a folder, `spiffs=`):
  open/close/read/readline/write/writeline/seek/flush, exists, list, remove,
  rename, stat, getcontents, putcontents (`luacross.device.libs`, shared
  with the 5.3 core);
- `print` is captured into `LfsDevice.output`.

The VM holds what NodeMCU's 5.1 firmware holds, and nothing of the host (see
`_FIRMWARE`): base functions, `string`, `table`, `coroutine`, the firmware's
`math`, its minimal `debug` (getregistry, getstrings, traceback), `node` and `file`,
reached through `_G`'s metatable as on the device; no `io`, no `os`, no
native code; `loadfile`, `dofile` and `require` read `LfsDevice.files`; a
binary chunk loads only if this VM's `string.dump` made it.

Limits, by design:
- Integer-build images run on the float VM: their int32 constants become
  doubles and arithmetic is floating point (`7/2` is 3.5 here, 3 on an
  integer firmware).
- No NodeMCU C modules (wifi, gpio, tmr, net, ...) exist. Inject what a run
  needs with `globals=` (Python values, dicts become tables, callables are
  callable from Lua) and/or `prelude=` (Lua code run after boot, before any
  module; `luacross run --prelude FILE.lua`); see `LfsDevice`.
- Lua 5.1's pattern matcher has no depth limit (nor has the firmware's): a
  pattern that recurses a million levels deep overflows the C stack of the
  process. `luacross run` runs the device in a child process for this.
"""

import os
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

import lupa.lua51 as lua51

from lfs_format.errors import LoaderError, LuacrossError
from lfs_format.flash import SECTOR_SIZE, SimulatedFlash
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
from lfs_format.sniff import lua51_image_integral
from lfs_format.target import HOST, Target
from luacross.device.spiffs import Spiffs, SpiffsFolder
from luacross.device.vm import (
    HOOK_COUNT,
    Hidden as _Hidden,
    LuaRuntimeError,
    SandboxCalls,
    results as _results,
    run_device,
    text as _text,
)

DEFAULT_LFS_BASE = 0x40220000  # mapped address of the partition (ESP8266 IROM)
FLASH_MAPPING = 0x40200000  # ESP8266: mapped = physical + this
GZIP_MAGIC = b"\x1f\x8b"


class _Restart(Exception):
    """node.LFS.reload succeeded: the device restarts."""


# ---------------------------------------------------------------------------
# image summary (`luacross check`)


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


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
    device.load(data, run=False)
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


# The firmware's world. This chunk runs first in every fresh VM, before any
# image code, and turns lupa's stock Lua 5.1 (all standard libraries, plus
# lupa's `python` bridge) into what NodeMCU's 5.1 firmware offers (linit.c,
# lbaselib.c, lstrlib.c, lmathlib.c, ldblib.c, loadlib.c, luaconf.h and
# user_config.h of the default build):
# - base functions, `string`, `table`, `coroutine`, `math` (the firmware's
#   trimmed list), `debug` as LUA_USE_BUILTIN_DEBUG_MINIMAL leaves it
#   (getregistry, getstrings, traceback) and `node`, in a ROM table that `_G`
#   reaches through its own metatable (`_G.__index == ROM`), as on the device;
# - RAM globals: _G, _VERSION, ipairs, pairs, newproxy, __index, package,
#   require, module;
# - no `io`, no `os`, no `python`, no package.loadlib, no C loaders;
#   loadfile/dofile/require read the device's file system (`LfsDevice.files`),
#   never the host's; binary chunks load only when this VM's own
#   string.dump made them (crafted bytecode can break out of a Lua 5.1 VM).
# What the image can reach is built from these locals; the originals stay
# upvalues here (the firmware's debug library cannot read upvalues).
_FIRMWARE = r"""
local index, config, capture, reload, readfile, integral, romstrings, tick, hookcount,
      shared_calls, shared_node, shared_getstrings, shared_file, fsops = ...
local G = _G
local type, select, unpack, xpcall, pcall, error, tostring, next, pairs, ipairs =
      type, select, unpack, xpcall, pcall, error, tostring, next, pairs, ipairs
local setmetatable, rawget = setmetatable, rawget
local loadstring_host, dump, traceback, sethook =
      loadstring, string.dump, debug.traceback, debug.sethook
local getrawmetatable, setrawmetatable = debug.getmetatable, debug.setmetatable
local concat, sub, gsub, gmatch, format =
      table.concat, string.sub, string.gsub, string.gmatch, string.format
local string, table, coroutine, math, package = string, table, coroutine, math, package

-- lupa's Python objects: their metatable stays out of reach
local registry = debug.getregistry()
local pobject = rawget(registry, "POBJECT")
if pobject then pobject.__metatable = false end
local print, handler, limit, hook = shared_calls(capture, pobject, tick, hookcount)

local function typename(n, ...)
  if select("#", ...) < n then return "no value" end
  return type((select(n, ...)))
end
-- "bad argument" as luaL_argerror words it, at the position of the caller
-- of the library function (`level` counts from argerror's caller)
local function argerror(level, n, fname, expected, ...)
  error(format("bad argument #%d to '%s' (%s expected, got %s)",
               n, fname, expected, typename(n, ...)), level + 1)
end
local function checkstring(n, fname, ...)
  local v = select(n, ...)
  if type(v) == "number" then return tostring(v) end
  if type(v) ~= "string" then argerror(3, n, fname, "string", ...) end
  return v
end

-- chunks: source text, or a binary chunk this VM's string.dump produced
local dumped = {}
local BINARY = "binary chunk refused: luacross runs only source code and " ..
               "chunks made by its own string.dump"
local function loadchunk(text, chunkname)
  if sub(text, 1, 1) == "\27" and not dumped[text] then return nil, BINARY end
  return loadstring_host(text, chunkname)
end

local ROM = {}
for _, name in ipairs{"assert", "collectgarbage", "error", "gcinfo", "getfenv",
    "getmetatable", "next", "pcall", "rawequal", "rawget", "rawset", "select",
    "setfenv", "setmetatable", "tonumber", "tostring", "type", "unpack", "xpcall"} do
  ROM[name] = G[name]
end

ROM.print = print                     -- into LfsDevice.output

function ROM.loadstring(...)
  local s = checkstring(1, "loadstring", ...)
  local chunkname = select(2, ...)
  if chunkname == nil then chunkname = s end
  return loadchunk(s, checkstring(2, "loadstring", s, chunkname))
end

function ROM.load(...)
  local reader, chunkname = ...
  if type(reader) ~= "function" then argerror(2, 1, "load", "function", ...) end
  if chunkname == nil then chunkname = "=(load)" end
  chunkname = checkstring(2, "load", reader, chunkname)
  local parts = {}
  while true do
    local ok, piece = pcall(reader)
    if not ok then return nil, piece end
    if piece == nil or piece == "" then break end
    if type(piece) == "number" then piece = tostring(piece) end
    if type(piece) ~= "string" then return nil, "reader function must return a string" end
    parts[#parts + 1] = piece
  end
  return loadchunk(concat(parts), chunkname)
end

local function loadfile(name)         -- luaL_loadfile on the device's file system
  local text = readfile(name)
  if text == nil then return nil, "cannot open " .. name end
  if sub(text, 1, 1) == "#" then text = gsub(text, "^#[^\n]*", "") end
  return loadchunk(text, "@" .. name)
end
function ROM.loadfile(...)
  if (...) == nil then error("filename is NULL", 2) end
  return loadfile(checkstring(1, "loadfile", ...))
end
function ROM.dofile(...)
  if (...) == nil then error("filename is NULL", 2) end
  local f, err = loadfile(checkstring(1, "dofile", ...))
  if not f then error(err, 0) end
  return f()
end

-- string: the strlib ROTable is both `string` and the strings' metatable
string.__index = string
function string.__mod(fmt, args)     -- str_format2: "%d-%d" % {1, 2}
  if type(args) == "table" then
    local n = #args
    local values = {}
    for i = 1, n do values[i] = rawget(args, i) end
    return format(fmt, unpack(values, 1, n))
  end
  return format(fmt, args)
end
function string.gfind()
  error("'string.gfind' was renamed to 'string.gmatch'", 2)
end
function string.dump(...)
  local f = ...
  if type(f) ~= "function" then argerror(2, 1, "dump", "function", ...) end
  local ok, chunk = pcall(dump, f)
  if not ok then error("unable to dump given function", 2) end
  dumped[chunk] = true
  return chunk
end
setrawmetatable("", string)

local m = math
math = {abs = m.abs, ceil = m.ceil, floor = m.floor, max = m.max, min = m.min,
        pow = m.pow, random = m.random, randomseed = m.randomseed, sqrt = m.sqrt}
if integral then
  math.huge = 2147483647               -- INT_MAX; the integer build has no pi
else
  math.pi, math.huge = m.pi, m.huge
end

-- debug as the default build has it (LUA_USE_BUILTIN_DEBUG_MINIMAL)
local fake_registry = {_LOADED = package.loaded}
local debug = {
  getregistry = function() return fake_registry end,
  traceback = traceback,
  getstrings = shared_getstrings(index and romstrings or nil),
}

-- node: the LFS API (app/modules/node.c, app/lua/lnodemcu.c); file (file.c)
local function lfsmodule(name)        -- luaL_pushlfsmodule
  if not index then return nil end
  local f = index(name)
  if type(f) ~= "function" then return nil end
  return f
end
local function lfsnames()             -- the lookup main's second result
  if not index then return nil end
  local _, names = index()
  return names
end
local function lfsreload(...)         -- luaL_lfsreload: the loader on a file
  return reload(checkstring(1, "reload", ...))
end
local node = shared_node(lfsmodule, lfsnames, function() return index and (index()) end,
                         lfsreload, config)
local file = shared_file(fsops)

-- require: package.preload, the device's file system (package.path), LFS
package.loadlib, package.cpath, package.path = nil, "", "?.lc;?.lua"
local function fsloader(name)         -- loader_Lua on the device's file system
  local path = package.path
  if type(path) ~= "string" then error("'package.path' must be a string", 2) end
  local file, tried = gsub(name, "%.", "/"), {}
  for template in gmatch(path, "[^;]+") do
    local filename = gsub(template, "%?", file)
    if readfile(filename) ~= nil then
      local f, err = loadfile(filename)
      if not f then
        error(format("error loading module '%s' from file '%s':\n\t%s", name, filename, err), 2)
      end
      return f
    end
    tried[#tried + 1] = "\n\tno file '" .. filename .. "'"
  end
  return concat(tried)
end
package.loaders = {package.loaders[1], fsloader, function(name)
  return lfsmodule(name) or ("\n\tno module '" .. tostring(name) .. "' in LFS")
end}
local loaded = package.loaded
for name in pairs(loaded) do loaded[name] = nil end
loaded._G, loaded.package, loaded.string, loaded.table = G, package, string, table
loaded.coroutine, loaded.math, loaded.debug = coroutine, math, debug

ROM.string, ROM.table, ROM.coroutine, ROM.math, ROM.debug = string, table, coroutine, math, debug
ROM.node, ROM.file, ROM.ROM = node, file, ROM
local ram = {_G = true, _VERSION = true, ipairs = true, pairs = true, newproxy = true,
             package = true, require = true, module = true}
local names = {}
for name in pairs(G) do names[#names + 1] = name end
for _, name in ipairs(names) do
  if not ram[name] then G[name] = nil end
end
G.__index = ROM
setmetatable(G, G)

-- calls from Python: f(...) as {ok, results...} and the number of results;
-- an error as {message, traceback} with the message as Lua's interpreter shows it
local function pack(...) return {n = select("#", ...), ...} end
local function invoke(f, ...)
  local n, args = select("#", ...), {...}
  local res = pack(xpcall(function() return f(unpack(args, 1, n)) end, handler))
  return res, res.n - 1
end
local function bridge(f)              -- a Python callable, as a plain Lua function
  return function(...) return f(...) end
end
-- the time limit (LfsDevice.timeout): the shared count hook
if hookcount then
  -- Lua 5.1 keeps a Lua hook per thread: every coroutine gets it explicitly
  sethook(hook, "", hookcount)
  local create, resume = coroutine.create, coroutine.resume
  function coroutine.create(f)
    local ok, co = pcall(create, f)
    if not ok then error("bad argument #1 to 'create' (Lua function expected)", 2) end
    sethook(co, hook, "", hookcount)
    return co
  end
  -- an error raised in a hook runs xpcall's handler with hooks off: once
  -- stopped, the image's handler is not called, so it cannot loop for ever
  function ROM.xpcall(f, handler)
    return xpcall(f, function(e)
      if limit.stop ~= nil then return e end
      return handler(e)
    end)
  end
  function coroutine.wrap(f)          -- luaB_cowrap / auxwrap
    local ok, co = pcall(create, f)
    if not ok then error("bad argument #1 to 'wrap' (Lua function expected)", 2) end
    sethook(co, hook, "", hookcount)
    return function(...)
      local r = pack(resume(co, ...))
      if r[1] then return unpack(r, 2, r.n) end
      error(r[2], 2)
    end
  end
end
return invoke, loadchunk, lfsmodule, G.require, bridge, {limit, sethook, hook}
"""


def _attribute_filter(obj, name, is_setting):
    """What Lua may see of a Python object a stub returns: public attributes only."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    if isinstance(name, str) and name and not name.startswith("_"):
        return name
    raise _Hidden(f"attribute '{name}' is not accessible from the device's Lua")


def _proto_strings(main: Proto | None) -> list[bytes]:
    """The strings an image's functions hold (what its ROstrt holds, near enough)."""
    if main is None:
        return []
    found: set[bytes] = set()
    seen: set[int] = set()
    stack = [main]
    while stack:
        proto = stack.pop()
        if id(proto) in seen:
            continue
        seen.add(id(proto))
        found.update(k for k in proto.constants if isinstance(k, bytes))
        if proto.source:
            found.add(proto.source)
        found.update(v.varname for v in proto.locvars)
        found.update(proto.upvalues)
        stack.extend(proto.protos)
    return sorted(found)


MIN_MEMORY = 1 << 20  # the Lua VM and its libraries need a few hundred KiB


@dataclass(slots=True)
class LfsDevice(SandboxCalls):
    """A NodeMCU with an LFS partition, running Lua on the PC.

    - `integral`: firmware build (None: the build the loaded image was made for);
    - `lfs_base`: mapped address of the partition (absolute images use their own);
    - `lfs_size`: partition size (None: the image's size rounded up to 4 KiB);
    - `globals`: values set as Lua globals at every boot (stubs for C modules),
      e.g. `{"wifi": {"STATION": 1, "setmode": lambda m: m}}`;
    - `prelude`: Lua run at every boot after `globals`, before any module: a
      string of Lua source, a path of a Lua file (read on the PC when it
      runs), or a list of these, run in order (`luacross.device.vm.preludes`); an error
      raises `PreludeError` with Lua's one-line message;
    - `files`: the device's file system (SPIFFS) as name -> bytes: what the
      `file` module, `node.LFS.reload(name)`, `loadfile`, `dofile` and
      `require` use (empty by default);
    - `spiffs`: a folder of the PC as that file system instead: its files are
      read once, and every file the image writes, renames or removes is
      written back there (`luacross.device.spiffs`: flat names only);
    - `memory_limit`: bytes the Lua VM may allocate (None: no limit);
    - `timeout`: seconds each call into Lua may run (None: no limit); a count
      hook stops Lua code, not a long C function (e.g. a pathological
      pattern), nor code that keeps Lua's C stack full (pcall recursing to
      "C stack overflow" in a loop): the hook cannot run there. Best effort;
      `luacross run`'s child process is the guarantee.

    The VM holds what NodeMCU's Lua 5.1 firmware offers (see `_FIRMWARE`),
    nothing of the host: no `io`, no `os`, no native code, no host files.
    `load(image)` writes and boots an image; then `startup`, `call`,
    `require`, `run_module` and `execute` run Lua, raising `LuaRuntimeError`
    on a Lua error. Lua strings come back as `bytes`; `print` lines collect
    in `output`. A successful `node.LFS.reload` restarts the device
    (`restarts` counts them): a fresh VM on the new image, `globals` and
    `prelude` again; `luacross.device.vm.run_device` then runs the start-up.
    """

    _lupa = lua51  # the VM's lupa module (SandboxCalls); a class attribute, not a field

    integral: bool | None = None
    lfs_base: int = DEFAULT_LFS_BASE
    lfs_size: int | None = None
    globals: Mapping[str, object] = field(default_factory=dict)
    prelude: object = None
    files: MutableMapping[str, bytes] = field(default_factory=dict)
    spiffs: str | os.PathLike | None = None
    output: list[str] = field(default_factory=list)
    memory_limit: int | None = None
    timeout: float | None = None
    restarts: int = field(default=0, init=False)
    init_blocked: bool = field(default=False, init=False)
    _spiffs: Spiffs | None = field(default=None, init=False)
    flash: SimulatedFlash | None = field(default=None, init=False)
    boot_result: object = field(default=None, init=False)
    main: Proto | None = field(default=None, init=False)
    lua: object = field(default=None, init=False)
    _invoke: object = field(default=None, init=False)
    _loadchunk: object = field(default=None, init=False)
    _flashindex: object = field(default=None, init=False)
    _require: object = field(default=None, init=False)
    _bridge: object = field(default=None, init=False)
    _restart: bool = field(default=False, init=False)
    _rearm: object = field(default=None, init=False)
    _deadline: float | None = field(default=None, init=False)
    _stopped: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        check_partition(self.lfs_base, self.lfs_size)
        if self.spiffs is not None:
            self.files = SpiffsFolder(self.spiffs)
        if self.memory_limit is not None and self.memory_limit < MIN_MEMORY:
            raise LuacrossError(
                f"Lua memory limit {self.memory_limit} is too small (at least {MIN_MEMORY})"
            )

    # -- loading and booting ----------------------------------------------------

    def load(self, image: bytes, *, run: bool = True) -> str:
        """Write `image` into the partition and boot it; return the loader's message.

        Raises LoaderError: pass 1's message for a rejected gzip image, or
        luaN_init's message when the result does not boot. `run=False` stops
        after reading the partition back (no Lua VM: what `check` needs).
        """
        if self.integral is None:
            self.integral = lua51_image_integral(image)
        if is_gzip(image):
            loader = LoaderPass(integral=self.integral, partition_size=self.lfs_size)
            validated = loader.first(image)
            if self.flash is None:
                size = self.lfs_size or _round_sectors(validated.flash_size)
                check_partition(self.lfs_base, size)
                self.flash = SimulatedFlash(self.lfs_base, size)
            message = loader.second(validated, self.flash)
        else:
            base = absolute_base(image)
            if base is None:
                raise LoaderError("not an LFS image: neither gzip (-f) nor an absolute image (-a)")
            size = self.lfs_size or _round_sectors(len(image))
            check_partition(base, size)
            self.flash = SimulatedFlash(base, size)
            place_absolute(image, self.flash)
            message = "absolute image flashed"
        self.boot(run=run)
        if self.main is None:
            raise LoaderError(self.boot_result.message.rstrip("\n"))
        return message

    def boot(self, *, run: bool = True) -> None:
        """Restart: luaN_init on the partition, then a fresh VM with the firmware's libraries
        (`run=False`: no VM, the partition read back only)."""
        self.main = None
        self.boot_result = boot(self.flash, bool(self.integral))
        if self.boot_result.booted:
            self.main = read_partition(self.flash, bool(self.integral))
        else:
            self.output.append(self.boot_result.message.rstrip("\n"))
        if not run:
            return
        self.lua = lua51.LuaRuntime(
            encoding=None,
            unpack_returned_tuples=True,
            register_eval=False,
            register_builtins=False,
            attribute_filter=_attribute_filter,
            max_memory=self.memory_limit,
        )
        try:
            self._setup()
        except lua51.LuaError as exc:  # the memory limit, hit while booting
            raise LuaRuntimeError(self._lua_message(exc)) from None

    def _setup(self) -> None:
        host_loadstring = self.lua.globals().loadstring  # held by Python only

        def load_host(chunk: bytes, chunkname: bytes):
            f, *err = _results(host_loadstring(chunk, chunkname))
            if f is None:
                raise LuaRuntimeError(_text(err[0] if err else b"cannot load chunk"))
            return f

        index = None
        if self.main is not None:
            index = load_host(dump_chunk(_host_proto(self.main), HOST), b"=(luac)")
        setup = load_host(_FIRMWARE.encode(), b"=(firmware)")
        results = setup(
            index,
            self.lua.table_from(self._config()),
            self._capture,
            self._reload_from_lua,
            self._read_file,
            bool(self.integral),
            self.lua.table_from(_proto_strings(self.main)),
            self._tick,
            HOOK_COUNT if self.timeout is not None else None,
            *self._shared_firmware(load_host),
        )
        (self._invoke, self._loadchunk, self._flashindex, self._require, self._bridge, limit) = (
            results
        )
        if self.timeout is not None:
            self._rearm = limit
        self._install()

    def _config(self) -> list[int]:
        base = self.flash.base
        used = self.boot_result.flash_size if self.main is not None else 0
        physical = base - FLASH_MAPPING if base >= FLASH_MAPPING else base
        return [base, physical, self.flash.size, used]

    def _capture(self, line: bytes) -> None:
        self.output.append(_text(line))

    def _reload_from_lua(self, name: bytes) -> bytes:
        image = self._read_file(name)
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

    def module(self, name: str):
        """The module's main function as `node.flashindex(name)` returns it (None if absent)."""
        result = self._call(self._flashindex, name)
        return result[0] if result else None

    @property
    def modules(self) -> list[str]:
        return _lookup_info(self.main)[0] if self.main is not None else []


# The ESP8266 maps one MiB of its SPI flash into the CPU's address space
# (0x40200000..0x40300000); the LFS partition is read through that window,
# so no partition can be larger.
MAX_LFS_SIZE = 0x100000


def check_partition(base: int, size: int | None) -> None:
    """Refuse a partition the device cannot have (before anything is allocated)."""
    if not 0 <= base <= 0xFFFFFFFF or base % 4:
        raise LuacrossError(f"LFS base {base:#x} is not a word-aligned 32-bit address")
    if size is None:
        return
    if size < 0 or size % SECTOR_SIZE:
        raise LuacrossError(f"LFS size {size:#x} is not a multiple of 4 KiB (0x1000)")
    if size > MAX_LFS_SIZE:
        raise LuacrossError(
            f"LFS size {size:#x} is larger than an ESP8266's LFS partition can be "
            f"(at most {MAX_LFS_SIZE:#x}, the 1 MiB of flash the CPU maps)"
        )
    if not 0 <= base <= 0xFFFFFFFF - size:
        raise LuacrossError(f"LFS base {base:#x} does not leave room for the partition")


def run_image(
    data: bytes,
    *,
    module: str | None = None,
    code: str | None = None,
    lfs_base: int | None = None,
    lfs_size: int | None = None,
    globals: Mapping[str, object] | None = None,
    prelude: object = None,
    spiffs: str | os.PathLike | None = None,
    output: list[str] | None = None,
) -> list[str]:
    """`luacross run` as a function, for images of either core: load and boot
    `data` on the device of the build it is for, run the start-up (init.lua
    from `spiffs`, else the `_init` module), then MODULE and/or CODE
    (`luacross.device.vm.run_device`, restarts included); return the printed
    lines.

    `globals`, `prelude` and `spiffs` are the device's (see `LfsDevice`).
    `output` is the list printed lines are appended to as they happen (so a
    caller can show them live, and keeps them when a Lua error is raised).
    """
    from luacross.device import core, detect

    build = detect(data)
    device = core(build).open_device(
        build,
        lfs_base=DEFAULT_LFS_BASE if lfs_base is None else lfs_base,
        lfs_size=lfs_size,
        globals=globals or {},
        prelude=prelude,
        spiffs=spiffs,
        output=[] if output is None else output,
    )
    device.load(data)
    run_device(device, module, code)
    return device.output


# ---------------------------------------------------------------------------
# luac.cross -e


def _host_proto(proto: Proto, copies: dict | None = None) -> Proto:
    """A copy fit for a stock dump: one line per instruction (none if unknown).
    A Proto shared by several parents (read back from an image) is copied once."""
    copies = {} if copies is None else copies
    copy = copies.get(id(proto))
    if copy is not None:
        return copy
    lines = proto.lineinfo
    if lines and len(lines) != len(proto.code):
        lines = (lines + [lines[-1]] * len(proto.code))[: len(proto.code)]
    copy = copies[id(proto)] = proto.replace(
        constants=[float(k) if type(k) is int else k for k in proto.constants],
        protos=[_host_proto(p, copies) for p in proto.protos],
        lineinfo=lines,
    )
    return copy


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
    args = (os.fsencode(path),) if target.execute_passes_name else ()  # the ESP32's `...`
    ok, value = lua.eval("function(f, ...) local r = {pcall(f, ...)} return r[1], r[2] end")(
        f, *args
    )
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
