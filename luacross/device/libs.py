"""Lua pieces of the firmware that both cores share.

NodeMCU's modules are the same C code for the 5.1 and the 5.3 firmware
(app/modules/node.c, app/modules/file.c) and both cores' minimal `debug`
has `getstrings`; these chunks model them once. Each core's own firmware
chunk (`luacross.runtime._FIRMWARE`, `luacross.device.lua53._FIRMWARE`)
calls them with what differs between the cores: how an LFS module is found,
listed and timed, how `reload` reaches its loader, which strings are in ROM.
Each chunk runs while a core's firmware chunk sets the VM up (before any
image code), and keeps the host functions it uses as locals.
"""

# luaB_print into the device's output, and the protected calls from Python:
# the error handler (the message as Lua's interpreter shows it, and a
# traceback) and the time limit's count hook: every `hookcount` instructions
# Python's tick() says whether the call must stop; once stopped, every
# instruction raises again, so that no pcall in the image can keep it running
CALLS = r"""
local capture, pobject, tick, hookcount = ...
local G, type, select, tostring, pcall, rawget, error =
      _G, type, select, tostring, pcall, rawget, error
local concat, getrawmetatable = table.concat, debug.getmetatable
local traceback, sethook = debug.traceback, debug.sethook

local function print(...)             -- luaB_print: the global tostring of each value
  local tostr, parts = G.tostring, {}
  for i = 1, select("#", ...) do
    local s = tostr((select(i, ...)))
    if type(s) ~= "string" then error("'tostring' must return a string to 'print'", 2) end
    parts[i] = s
  end
  capture(concat(parts, "\t"))
end

local function message(e)
  local t = type(e)
  if t == "string" or t == "number" then return tostring(e) end
  if t == "userdata" and getrawmetatable(e) == pobject then return e end  -- a Python exception
  local mt = getrawmetatable(e)
  if type(mt) == "table" and rawget(mt, "__tostring") then
    local ok, s = pcall(tostring, e)
    if ok and type(s) == "string" then return s end
  end
  return "(error object is a " .. t .. " value)"
end
local function handler(e) return {message(e), traceback("", 2)} end

local limit = {}
local function hook()
  local stop = limit.stop
  if stop == nil then
    stop = tick()
    if stop == nil then
      sethook(hook, "", hookcount)  -- a thread left at every instruction by a past stop
      return
    end
    limit.stop = stop
    sethook(hook, "", 1)
  end
  error(stop, 0)
end
return print, handler, limit, hook
"""

# node's LFS API (node.c: node_lfsindex, node_lfslist, node_lfs_func, get_lfs_config)
NODE = r"""
local lfsmodule, lfsnames, lfstime, lfsreload, config = ...
local sort, setmetatable, type, tostring = table.sort, setmetatable, type, tostring
local function lfsconfig()            -- get_lfs_config
  return {lfs_mapped = config[1], lfs_base = config[2], lfs_size = config[3],
          lfs_used = config[4]}
end
local function lfslist()              -- node_lfslist: the module names, sorted
  local names = lfsnames()
  if names == nil then return nil end  -- no LFS loaded
  sort(names)
  return names
end
local node = {flashindex = lfsmodule, flashreload = lfsreload}
function node.info(what)
  if what == "lfs" then return lfsconfig() end
end
node.LFS = setmetatable({get = lfsmodule, list = lfslist, reload = lfsreload},
  {__index = function(_, name)        -- node_lfs_func: lua_tostring of the key
    if type(name) ~= "string" and type(name) ~= "number" then return nil end
    name = tostring(name)
    if name == "config" then return lfsconfig() end
    if name == "time" then return lfstime() end
    return lfsmodule(name)
  end})
return node
"""

# debug.getstrings (ldblib.c db_getstrings): RAM strings are the host VM's, not
# the device's, so none are listed; ROM strings are the image's (nil: no LFS)
GETSTRINGS = r"""
local romstrings = ...
local sort, ipairs, tostring, format, error = table.sort, ipairs, tostring, string.format, error
return function(opt)
  if opt == nil then opt = "RAM" end
  if opt ~= "RAM" and opt ~= "ROM" then
    error(format("bad argument #1 to 'getstrings' (invalid option '%s')", tostring(opt)), 2)
  end
  if opt == "RAM" then return {} end
  if romstrings == nil then return nil end
  local list = {}
  for i, s in ipairs(romstrings) do list[i] = s end
  sort(list)
  return list
end
"""

# the file module (app/modules/file.c) over `luacross.device.spiffs.Spiffs`:
# `fs` holds its operations as functions. File objects are tables here (the
# firmware's are userdata); `current` is the firmware's default file (the last
# one opened), `current_fd` its file_fd (still set after the file is closed).
FILE = r"""
local fs = ...
local type, select, error, tostring, tonumber, setmetatable, pairs, ipairs =
      type, select, error, tostring, tonumber, setmetatable, pairs, ipairs
local format, match, find, floor = string.format, string.match, string.find, math.floor
local NAME_LEN = 31                   -- FS_OBJ_NAME_LEN

local function typename(n, ...)
  if select("#", ...) < n then return "no value" end
  return type((select(n, ...)))
end
local function checkstring(n, fname, ...)    -- luaL_checklstring
  local v = select(n, ...)
  if type(v) == "number" then return tostring(v) end
  if type(v) ~= "string" then
    error(format("bad argument #%d to '%s' (string expected, got %s)",
                 n, fname, typename(n, ...)), 3)
  end
  return v
end
local function checkname(n, fname, ...)      -- and the basename/NUL check
  local name = checkstring(n, fname, ...)
  local base = match(name, "[^/]*$")
  if #base > NAME_LEN or find(name, "\0", 1, true) then
    error(format("bad argument #%d to '%s' (filename invalid)", n, fname), 3)
  end
  return name
end

local handles = setmetatable({}, {__mode = "k"})  -- file object -> fd (0: closed)
local objects = {}
local objmeta = {__index = objects}
local current, current_fd = nil, 0

local function fileobj(fname, ...)           -- get_file_obj: fd, argument position
  local first = ...
  local fd = first ~= nil and handles[first] or nil
  if fd ~= nil then return fd, 2 end
  return current_fd, 1
end
local function needfd(fd)
  if fd == 0 then error("open a file first", 3) end
end

local file = {}
function file.open(...)
  current = nil
  local name = checkname(1, "open", ...)
  local mode = select(2, ...)
  if mode == nil then mode = "r" else mode = checkstring(2, "open", ...) end
  local fd = fs.open(name, mode)
  current_fd = fd or 0
  if not fd then return nil end
  local obj = setmetatable({}, objmeta)
  handles[obj] = fd
  current = obj
  return obj
end
function file.close(...)
  local obj = ...
  if handles[obj] == nil then
    if current == nil then return end
    obj = current
  end
  local fd = handles[obj]
  if fd ~= 0 then
    fs.close(fd)
    handles[obj] = 0
  end
  current = nil
end
local function read(fd, n, stop)             -- file_g_read
  needfd(fd)
  return fs.read(fd, n, stop)
end
function file.read(...)
  local fd, at = fileobj("read", ...)
  local arg = select(at, ...)
  local n, stop = 1024, nil
  if type(arg) == "number" then
    n = floor(arg)
  elseif type(arg) == "string" then
    if #arg ~= 1 then error("wrong arg range", 2) end
    stop = arg
  end
  return read(fd, n, stop)
end
function file.readline(...)
  return read((fileobj("readline", ...)), 1024, "\n")
end
function file.write(...)
  local fd, at = fileobj("write", ...)
  needfd(fd)
  local s = checkstring(at, "write", ...)
  if fs.write(fd, s) then return true end
  return nil
end
function file.writeline(...)
  local fd, at = fileobj("writeline", ...)
  needfd(fd)
  local s = checkstring(at, "writeline", ...)
  if fs.write(fd, s) and fs.write(fd, "\n") then return true end
  return nil
end
function file.seek(...)
  local fd, at = fileobj("seek", ...)
  needfd(fd)
  local whence, offset = select(at, ...)
  if whence == nil then whence = "cur" end
  if whence ~= "set" and whence ~= "cur" and whence ~= "end" then
    error(format("bad argument #%d to 'seek' (invalid option '%s')", at, tostring(whence)), 2)
  end
  offset = offset == nil and 0 or tonumber(offset)
  if offset == nil then
    error(format("bad argument #%d to 'seek' (number expected, got %s)",
                 at + 1, typename(at + 1, ...)), 2)
  end
  return fs.seek(fd, whence, floor(offset))
end
function file.flush(...)
  local fd = fileobj("flush", ...)
  needfd(fd)
  if fs.flush(fd) then return true end
  return nil
end
function file.exists(...)
  return fs.exists(checkname(1, "exists", ...))
end
function file.remove(...)
  fs.remove(checkname(1, "remove", ...))
end
function file.rename(...)
  local old = checkname(1, "rename", ...)
  return fs.rename(old, checkname(2, "rename", ...))
end
function file.list(...)
  local pattern = ...
  if pattern ~= nil then pattern = checkstring(1, "list", ...) end
  local result = {}
  for name, size in pairs(fs.list()) do
    if pattern == nil or match(name, pattern) ~= nil then result[name] = size end
  end
  return result
end
function file.stat(...)
  local name = checkstring(1, "stat", ...)
  if #name > NAME_LEN or find(name, "\0", 1, true) then
    error("bad argument #1 to 'stat' (filename invalid)", 2)
  end
  local size = fs.size(name)
  if size == nil then return nil end
  return {size = size, name = name, is_dir = false, is_rdonly = false, is_hidden = false,
          is_sys = false, is_arch = false,
          time = {year = 1970, mon = 1, day = 1, hour = 0, min = 0, sec = 0}}
end
function file.getcontents(...)               -- file_getfile: open, read all, close
  local obj = file.open(checkname(1, "getcontents", ...))
  if obj == nil then return end
  local data = fs.read(handles[obj], 0x7fffffff, nil)
  file.close(obj)
  return data
end
function file.putcontents(...)               -- file_putfile: open "w+", write, close
  local name, data = ...
  local obj = file.open(checkname(1, "putcontents", ...), "w+")
  if obj == nil then return nil end
  local ok = fs.write(handles[obj], checkstring(2, "putcontents", name, data))
  file.close(obj)
  if ok then return true end
  return nil
end
for _, name in ipairs{"close", "read", "readline", "write", "writeline", "seek", "flush"} do
  objects[name] = file[name]
end
return file
"""


def file_operations(spiffs, table):
    """The `fs` table FILE's chunk calls: `spiffs`'s operations, with the
    file list as a Lua table (`table(mapping)` makes one)."""
    return table(
        {
            b"open": spiffs.open,
            b"close": spiffs.close,
            b"read": spiffs.read,
            b"write": spiffs.write,
            b"seek": spiffs.seek,
            b"flush": spiffs.flush,
            b"exists": spiffs.exists,
            b"size": spiffs.size,
            b"remove": spiffs.remove,
            b"rename": spiffs.rename,
            b"list": lambda: table(dict(spiffs.names())),
        }
    )
