-- fixed strings as constants, nil/boolean constants, long strings, upvalues
local kinds = { "thread", "proto", "userdata", "nil", "function", "__index", "_ENV", "not enough memory" }
local long = "a constant string that is longer than forty bytes, so a long string"
local t = setmetatable({}, { __index = function(_, k) return k == nil or k == true end })
local function f(x)
  if x == nil then return false end
  if x == true then return kinds[1] .. long end
  return t[x] ~= false, 3.25, -7, 1 << 40
end
return { f = f, kinds = kinds, big = 123456789012 // 1000, neg = -2147483648 }
