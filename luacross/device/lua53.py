"""The Lua 5.3 device: NodeMCU's app/lua53 firmware around lupa's Lua 5.3.

Loading: `lfs_format.lua53.loader.load_image` reads the image as the
firmware's `luaU_undumpLFS` does (its checks, its messages) and lays out the
LFS region. Each module's Proto becomes a stock Lua 5.3 binary chunk
(`lfs_format.lua53.stock`) that the VM's own `load` takes in binary mode;
`node.LFS.get(name)` makes a fresh closure with `_ENV` = the globals, as
`lua_pushlfsfunc` does.

The VM holds what the 5.3 firmware's `linit.c` gives a Lua program: base
functions (with LUA_COMPAT_LOADSTRING/UNPACK: `loadstring`, `unpack`),
`string` (also the strings' metatable, with `__mod`), `table`, `coroutine`,
`math` (the firmware's list), `utf8`, `package`/`require` over the device's
file system, a reduced `debug`, `node`'s LFS API (app/modules/node.c):
`node.flashindex`, `node.flashreload`, `node.LFS.get/list/reload`,
`node.LFS.time/config/<module>`, `node.info("lfs")`, and the `file` module
(the Lua of node, file, print and the error handler is shared with the 5.1
core: `luacross.device.libs`). Nothing of the host:
no `io`, `os`, `python`, `package.loadlib`/`cpath`; `load` refuses binary
chunks that this VM's `string.dump` did not write; `debug` keeps only
`traceback`, `getinfo` (without `func`), `getstrings` and a private
`getregistry` (the firmware also has the hook, local and upvalue functions:
they would reach the sandbox's own functions).

Numbers: the VM is the host's 64-bit Lua 5.3. Images of the 64-bit build
run as on the device; images of the default build (32-bit integers, C
floats) run with 64-bit integers and doubles (`NARROW_BUILD_NOTE`).
"""

import os
from collections.abc import Mapping, MutableMapping

import lupa.lua53 as lua53

from lfs_format.errors import LoaderError, LuacrossError
from lfs_format.lua53.loader import LoadedImage, load_image
from lfs_format.lua53.region import Region, is_region, read_region
from lfs_format.lua53.stock import dump_stock
from lfs_format.target import Lua53Target
from luacross import runtime as rt
from luacross.device import Build, round_sectors
from luacross.device.spiffs import SpiffsFolder
from luacross.device.vm import HOOK_COUNT, LuaRuntimeError, SandboxCalls, text

NARROW_BUILD_NOTE = (
    "luacross run executes 32-bit-build images on a 64-bit Lua 5.3: integers are "
    "64-bit (they wrap at 2^63, not 2^31) and floats are doubles, not C floats "
    "(a float constant is the double of its shortest decimal: 0.1 stays 0.1)"
)
NO_FILE = "No LFS partition allocated"  # luaL_lfsreload: no partition, or no such file


def build_label(target: Lua53Target) -> str:
    if target.chip != "esp8266" or (target.int_size, target.float_size) not in ((4, 4), (8, 8)):
        floats = "doubles" if target.float_size == 8 else "32-bit floats"
        return f"Lua 5.3, ESP32 build ({8 * target.int_size}-bit integers, {floats})"
    if (target.int_size, target.float_size) == (8, 8):
        return "Lua 5.3, 64-bit build (LUA_NUMBER_64BITS: 64-bit integers, doubles)"
    return "Lua 5.3, default build (32-bit integers, 32-bit floats)"


def _load(data: bytes, build: Build, base: int, lfs_size: int | None) -> LoadedImage | Region:
    """The firmware's loader (or, for a region from -F/-a, its boot check),
    then the partition: the region must fit (the firmware writes on past the
    partition's end: `luaN_flushFlash` only asserts, and asserts are
    compiled out)."""
    if is_region(data):
        loaded = read_region(data)
        wide = build.target.int_size == 8 or build.target.float_size == 8
        if loaded.wide != wide or loaded.sig_bits != build.target.flash_sig_bits:
            raise LoaderError("an LFS region of another build: this firmware would misread it")
    else:
        loaded = load_image(data, build.target, address=base)
    if lfs_size is not None and len(loaded.flash) > lfs_size:
        raise LoaderError(
            f"the image needs {len(loaded.flash)} bytes of flash, more than the "
            f"{lfs_size}-byte LFS partition (--lfs-size); the 5.3 firmware does not "
            "check this and would write past the partition"
        )
    return loaded


class Summary53:
    """What `luacross check` reports about a 5.3 image that loads."""

    def __init__(
        self, data: bytes, loaded: LoadedImage | Region, build: Build, lfs_size: int | None
    ):
        self.data, self.loaded, self.build, self.lfs_size = data, loaded, build, lfs_size

    def lines(self) -> list[str]:
        loaded = self.loaded
        names = [text(n) for n in loaded.names]
        lines = ["LFS image OK (Lua 5.3)", f"build: {build_label(self.build.target)}"]
        if isinstance(loaded, Region):  # what the device boots as it is
            lines[0] = "LFS region OK (Lua 5.3, absolute: flash it as it is)"
            lines.append(f"address: 0x{loaded.base:08x}")
        else:
            lines.append(f"image size: {len(self.data)} bytes")
        lines.append(f"flash size: {len(loaded.flash)} bytes")
        if self.lfs_size is not None:
            free = self.lfs_size - len(loaded.flash)
            lines.append(f"partition: {self.lfs_size} bytes, {free} free")
        lines.append(f"seed: 0x{loaded.seed:08x}")
        lines.append(f"timestamp: {loaded.timestamp} ({rt._utc(loaded.timestamp)})")
        lines.append(f"modules ({len(names)}): {' '.join(names)}")
        lines.extend(f"note: {note}" for note in notes(self.build))
        return lines


def check_image(data: bytes, build: Build, *, lfs_size: int | None = None) -> Summary53:
    """Validate `data` as the firmware `build` selects would load it, and
    convert every module for the VM (no Lua runs)."""
    loaded = _load(data, build, rt.DEFAULT_LFS_BASE, lfs_size)
    for proto in loaded.protos:
        dump_stock(proto, float32=build.target.float_size == 4)
    return Summary53(data, loaded, build, lfs_size)


# The 5.3 firmware's world (see the module docstring); runs first in every
# fresh VM, before any image code. The host's functions it needs stay
# upvalues here.
_FIRMWARE = r"""
local index, names, timestamp, config, capture, reload, readfile, tick, hookcount,
      romstrings, maxint, shared_calls, shared_node, shared_getstrings, shared_file, fsops = ...
local G = _G
local type, select, xpcall, pcall, error, tostring, setmetatable, rawget, pairs, ipairs =
      type, select, xpcall, pcall, error, tostring, setmetatable, rawget, pairs, ipairs
local hostload, dump, traceback, sethook, getinfo =
      load, string.dump, debug.traceback, debug.sethook, debug.getinfo
local getrawmetatable, setrawmetatable = debug.getmetatable, debug.setmetatable
local concat, sort, pack, unpack = table.concat, table.sort, table.pack, table.unpack
local sub, gsub, gmatch, format = string.sub, string.gsub, string.gmatch, string.format
local string, table, coroutine, math, utf8, package = string, table, coroutine, math, utf8, package

local registry = debug.getregistry()
local pobject = rawget(registry, "POBJECT")
if pobject then pobject.__metatable = false end
local print, handler, limit, hook = shared_calls(capture, pobject, tick, hookcount)

-- chunks: source text, or a binary chunk this VM's string.dump wrote
local dumped = {}
local BINARY = "attempt to load a binary chunk (luacross runs source code and " ..
               "chunks made by its own string.dump)"
local function loadchunk(n, chunk, chunkname, mode, env)
  if sub(chunk, 1, 1) == "\27" and not dumped[chunk] then return nil, BINARY end
  if n >= 4 then return hostload(chunk, chunkname, mode, env) end
  return hostload(chunk, chunkname, mode)
end

local ROM = {}
for _, name in ipairs{"assert", "collectgarbage", "error", "getmetatable", "ipairs",
    "next", "pairs", "pcall", "rawequal", "rawlen", "rawget", "rawset", "select",
    "setmetatable", "tonumber", "tostring", "type", "xpcall"} do
  ROM[name] = G[name]
end
ROM.unpack = unpack

ROM.print = print                     -- into the device's output

function ROM.load(...)
  local n, chunk, chunkname, mode, env = select("#", ...), ...
  if type(chunk) == "string" then
    if chunkname == nil then chunkname = chunk end
  elseif type(chunk) == "function" then
    if chunkname == nil then chunkname = "=(load)" end
    local parts = {}
    while true do
      local ok, piece = pcall(chunk)
      if not ok then return nil, piece end
      if piece == nil or piece == "" then break end
      if type(piece) ~= "string" then return nil, "reader function must return a string" end
      parts[#parts + 1] = piece
    end
    chunk = concat(parts)
  else
    error(format("bad argument #1 to 'load' (string expected, got %s)",
                 n == 0 and "no value" or type(chunk)), 2)
  end
  return loadchunk(n, chunk, chunkname, mode, env)
end
ROM.loadstring = ROM.load

local function loadfile(n, name, mode, env)   -- luaL_loadfilex on the device's files
  local text = readfile(name)
  if text == nil then return nil, "cannot open " .. name end
  if sub(text, 1, 1) == "#" then text = gsub(text, "^#[^\n]*", "") end
  return loadchunk(n, text, "@" .. name, mode, env)
end
function ROM.loadfile(...)
  local n, name = select("#", ...), ...
  if type(name) ~= "string" then error("bad argument #1 to 'loadfile' (string expected)", 2) end
  return loadfile(n, ...)
end
function ROM.dofile(name)
  if type(name) ~= "string" then error("bad argument #1 to 'dofile' (string expected)", 2) end
  local f, err = loadfile(1, name)
  if not f then error(err, 0) end
  return f()
end

-- string: the strlib ROTable is both `string` and the strings' metatable
string.__index = string
function string.__mod(fmt, args)      -- str_format2: "%d-%d" % {1, 2}
  if type(args) == "table" then return format(fmt, unpack(args)) end
  return format(fmt, args)
end
function string.dump(...)
  local f, strip = ...
  if type(f) ~= "function" then
    error("bad argument #1 to 'dump' (function expected)", 2)
  end
  local ok, chunk = pcall(dump, f, strip)
  if not ok then error("unable to dump given function", 2) end
  dumped[chunk] = true
  return chunk
end
setrawmetatable("", string)

local m = math
math = {}
for _, name in ipairs{"abs", "acos", "asin", "atan", "ceil", "cos", "deg", "exp",
    "tointeger", "floor", "fmod", "ult", "log", "max", "min", "modf", "rad", "random",
    "randomseed", "sin", "sqrt", "tan", "type", "pi", "huge"} do
  math[name] = m[name]
end
math.maxinteger, math.mininteger = maxint, -maxint - 1

-- getinfo without `func`: the functions on the stack include the sandbox's own
local function getinfo_nofunc(...)
  local t
  if type((...)) == "number" then        -- a level: one more for this wrapper
    local level, what = ...
    if select("#", ...) >= 2 then t = getinfo(level + 1, what) else t = getinfo(level + 1) end
  else
    t = getinfo(...)
  end
  if type(t) == "table" then t.func = nil end
  return t
end
local fake_registry = {_LOADED = package.loaded}
local debug = {
  traceback = traceback,
  getinfo = getinfo_nofunc,
  getregistry = function() return fake_registry end,
  getstrings = shared_getstrings(romstrings),
}

-- node: the LFS API (app/modules/node.c, app/lua53/lnodemcu.c); file (file.c)
local function lfsmodule(name)        -- luaL_pushlfsmodule / lua_pushlfsfunc
  if index == nil or type(name) ~= "string" then return nil end
  local chunk = index[name]
  if chunk == nil then return nil end
  return (hostload(chunk, "=" .. name, "b", G))
end
local function lfsnames()
  if index == nil then return nil end  -- no LFS loaded
  local list = {}
  for i, name in ipairs(names) do list[i] = name end
  return list
end
local function lfsreload(image)       -- luaL_lfsreload: the file module says if it exists
  image = tostring(image)
  local file = G.file
  if file == nil then return "No file system mounted" end
  if not file.exists(image) then return "No LFS partition allocated" end
  return reload(image)
end
local node = shared_node(lfsmodule, lfsnames, function() return timestamp end, lfsreload, config)
local file = shared_file(fsops)

-- require: package.preload, then Lua files on the device (package.path)
package.loadlib, package.cpath, package.path = nil, nil, "?.lc;?.lua"
local function fssearcher(name)       -- searcher_Lua over the device's files
  local path = package.path
  if type(path) ~= "string" then error("'package.path' must be a string", 2) end
  local file, tried = gsub(name, "%.", "/"), {}
  for template in gmatch(path, "[^;]+") do
    local filename = gsub(template, "%?", file)
    if readfile(filename) ~= nil then
      local f, err = loadfile(1, filename)
      if not f then
        error(format("error loading module '%s' from file '%s':\n\t%s", name, filename, err), 2)
      end
      return f, filename
    end
    tried[#tried + 1] = "\n\tno file '" .. filename .. "'"
  end
  return concat(tried)
end
package.searchers = {package.searchers[1], fssearcher}
package.loaders = package.searchers
package.searchpath = nil
local loaded = package.loaded
for name in pairs(loaded) do loaded[name] = nil end
loaded._G, loaded.package, loaded.string, loaded.table = G, package, string, table
loaded.coroutine, loaded.math, loaded.debug, loaded.utf8 = coroutine, math, debug, utf8

ROM.string, ROM.table, ROM.coroutine, ROM.math, ROM.debug, ROM.utf8 =
    string, table, coroutine, math, debug, utf8
ROM.node, ROM.file, ROM.ROM = node, file, ROM
local ram = {_G = true, _VERSION = true, package = true, require = true}
local all = {}
for name in pairs(G) do all[#all + 1] = name end
for _, name in ipairs(all) do
  if not ram[name] then G[name] = nil end
end
setmetatable(G, {__index = ROM})

-- calls from Python: f(...) as {ok, results...} and the number of results;
-- an error as {message, traceback}
local function invoke(f, ...)
  local res = pack(xpcall(f, handler, ...))
  return res, res.n - 1
end
-- the time limit: the shared count hook (Lua 5.3 threads inherit the hook
-- of the thread that creates them)
if hookcount then
  sethook(hook, "", hookcount)
  function ROM.xpcall(f, h, ...)
    return xpcall(f, function(e)
      if limit.stop ~= nil then return e end
      return h(e)
    end, ...)
  end
end
local function bridge(f)              -- a Python callable, as a plain Lua function
  return function(...) return f(...) end
end
return invoke, function(code, name) return loadchunk(2, code, name) end, lfsmodule,
       G.require, bridge, {limit, sethook, hook}
"""


class Lua53Device(SandboxCalls):
    """A NodeMCU running the Lua 5.3 firmware with an LFS partition.

    `load(image)` loads and boots an image (LoaderError: the firmware's
    message); then `startup`, `run_module`, `call`, `require` and `execute`
    run Lua, raising `luacross.runtime.LuaRuntimeError` on a Lua error;
    printed lines go to `output`. `globals`, `prelude`, `files` and `spiffs`
    are as `luacross.runtime.LfsDevice`'s: stubs set and Lua run at every
    boot, the file system (name -> bytes, or a folder of the PC) that the
    `file` module, `node.LFS.reload`, `loadfile`, `dofile` and `require` use.
    """

    _lupa = lua53  # the VM's lupa module (SandboxCalls)

    def __init__(
        self,
        build: Build,
        *,
        lfs_base: int = rt.DEFAULT_LFS_BASE,
        lfs_size: int | None = None,
        memory_limit: int | None = None,
        timeout: float | None = None,
        output: list | None = None,
        files: MutableMapping[str, bytes] | None = None,
        globals: Mapping[str, object] | None = None,
        prelude: object = None,
        spiffs: str | os.PathLike | None = None,
    ) -> None:
        rt.check_partition(lfs_base, lfs_size)
        if memory_limit is not None and memory_limit < rt.MIN_MEMORY:
            raise LuacrossError(
                f"Lua memory limit {memory_limit} is too small (at least {rt.MIN_MEMORY})"
            )
        self.build = build
        self.lfs_base, self.lfs_size = lfs_base, lfs_size
        self.memory_limit, self.timeout = memory_limit, timeout
        self.output = [] if output is None else output
        self.files = SpiffsFolder(spiffs) if spiffs is not None else {} if files is None else files
        self.globals = {} if globals is None else globals
        self.prelude = prelude
        self.image: LoadedImage | Region | None = None
        self.lua = None
        self.restarts = 0
        self.init_blocked = False  # a restart whose image failed to load: no start-up
        self._spiffs = None
        self._rearm = None  # with a timeout: the firmware's (limit state, sethook, hook)
        self._restart = False
        self._deadline: float | None = None
        self._stopped: str | None = None

    @property
    def modules(self) -> list[str]:
        return [text(n) for n in self.image.names] if self.image else []

    def load(self, data: bytes) -> None:
        """Erase the partition, load `data` into it and boot."""
        self.image = None  # the 5.3 firmware erases LFS before it reads the image
        self.image = _load(data, self.build, self.lfs_base, self.lfs_size)
        if isinstance(self.image, Region):  # flashed at the address it was built for
            self.lfs_base = self.image.base
        self.boot()

    def boot(self) -> None:
        self.lua = lua53.LuaRuntime(
            encoding=None,
            unpack_returned_tuples=True,
            register_eval=False,
            register_builtins=False,
            attribute_filter=rt._attribute_filter,
            max_memory=self.memory_limit,
        )
        try:
            self._setup()
        except lua53.LuaError as exc:
            raise LuaRuntimeError(self._lua_message(exc)) from None

    def _setup(self) -> None:
        lua = self.lua
        image = self.image
        index = lua.table() if image is not None else None
        names = lua.table()
        strings: set[bytes] = set()
        if image is not None:
            for i, (name, proto) in enumerate(zip(image.names, image.protos, strict=True)):
                index[name] = dump_stock(proto, float32=self.build.target.float_size == 4)
                names[i + 1] = name
            strings.update(image.strings)
        used = len(image.flash) if image is not None else 0
        base = self.lfs_base
        physical = base - rt.FLASH_MAPPING if base >= rt.FLASH_MAPPING else base
        size = self.lfs_size or round_sectors(used)
        config = lua.table(base, physical, size, used)
        host_load = lua.globals().load
        setup = host_load(_FIRMWARE.encode(), b"=(firmware)")
        maxint = (1 << (8 * self.build.target.int_size - 1)) - 1
        (self._invoke, self._loadchunk, self._lfsmodule, self._require, self._bridge,
         limit) = setup(
            index, names, image.timestamp if image else 0, config, self._capture,
            self._reload, self._read_file, self._tick,
            HOOK_COUNT if self.timeout is not None else None,
            lua.table(*sorted(strings)), maxint, *self._shared_firmware(host_load),
        )  # fmt: skip
        if self.timeout is not None:
            self._rearm = limit
        self._install()

    def _capture(self, line: bytes) -> None:
        self.output.append(text(line))

    def _reload(self, name: bytes) -> bytes:
        """luaL_lfsreload, then the restart: at boot luaN_init erases LFS and
        loads the file; a bad image leaves the device without LFS, the
        loader's message printed and no start-up (pmain stops with that error)."""
        data = self._read_file(name)
        if data is None:
            return NO_FILE.encode()
        self._restart = True
        self.init_blocked = False
        try:
            self.image = None
            self.image = _load(data, self.build, self.lfs_base, self.lfs_size)
        except LoaderError as exc:
            self.output.append(str(exc))
            self.init_blocked = True
        raise rt._Restart()

    def module(self, name: str):
        """The module's main function as `node.LFS.get(name)` returns it (None if absent)."""
        return self._lfsmodule(name.encode("utf-8", "surrogateescape"))


def notes(build: Build) -> list[str]:
    """What the host's 64-bit Lua 5.3 changes for `build`'s images."""
    sizes = (build.target.int_size, build.target.float_size)
    if sizes == (4, 4):
        return [NARROW_BUILD_NOTE]
    if sizes == (4, 8):
        return ["luacross run executes 32-bit-integer-build images on a 64-bit Lua 5.3: "
                "integers are 64-bit (they wrap at 2^63, not 2^31)"]  # fmt: skip
    if sizes == (8, 4):
        return ["luacross run executes single-float-build images on a 64-bit Lua 5.3: floats "
                "are doubles, not C floats (a float constant is the double of its shortest "
                "decimal: 0.1 stays 0.1)"]  # fmt: skip
    return []


def open_device(build: Build, **options) -> Lua53Device:
    return Lua53Device(build, **options)
