-- A held-out Lua 5.3 program (not in the recorded corpus): integers, floor
-- division, bitwise operators, goto, string.format, closures, a module.
local util = require("util53")

local function counter(start, step)
  local n = start
  return function()
    n = n + step
    return n
  end
end

local c = counter(10, 3)
local acc = {}
for _ = 1, 5 do acc[#acc + 1] = c() end
print(table.concat(acc, " "))

print(7 // 2, -7 // 2, 7.0 // 2, 7 % -3, -7 % 3, 2^10, 10 / 4, 3 | 0)
print(0xF0 | 0x0F, 0xFF & 0x3C, 0xAA ~ 0x55, ~0, 1 << 12, 0x100 >> 4, ~5 & 0xFF)
print(math.type(3), math.type(3.0), math.type("3"), math.tointeger(8.0), 5 // 0.0)
print(string.format("%5d|%-6s|%08.3f|%x|%X|%q|%5.1s|", 42, "ab", 2.5, 48879, 255, "a\nb", "xyz"))

local i, visited = 0, {}
::top::
i = i + 1
if i % 2 == 0 then goto continue end
visited[#visited + 1] = i
::continue::
if i < 9 then goto top end
print("goto", table.concat(visited, ","), i)

print(util.fib(20), util.gcd(1071, 462), util.bits(0x5A))
print(util.join(util.map({1, 2, 3}, function(x) return x * x end), "+"))
local t = setmetatable({}, {__index = function(_, k) return k * 2 end})
print(t[21], 3 == 3.0, #"hello", select("#", 1, nil, 3), ("ab"):rep(3, "-"))
print(pcall(function() return 1 // 0 end))
local ok, err = pcall(error, {code = 7})
print(ok, type(err), err.code)
local co = coroutine.wrap(function(a)
  local b = coroutine.yield(a + 1)
  return b * 2
end)
print(co(1), co(20))
for k, v in ipairs({"x", "y"}) do print(k, v) end
print(utf8.char(72, 105), string.pack("<i4", 7):byte(1, -1))
