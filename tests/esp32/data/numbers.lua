local a = 1152921573326323713 + 0.0
local b = 9007199254740993 * 1.0
local c = 0x7fffffff + 1
local d = 0xffffffffffffffff
local e = 2^63
local f = 9223372036854775807 // 1.0
local g = 1e10 // 3
local h = 3 % -2.5
local i = 1/3
local j = 16777217 + 0.5
local k = -9223372036854775808
local l = 4294967296 * 4294967296
local m = 1 << 40
local n = 3.0 == 3
local o = 0.1 + 0.2
local p = 1e308 * 10
local q = 12345678901234567890
local r = 2147483648
local s = -2147483649
local t = 1.5 // 0.5
local u = 7 // 0
local v = 5.0 % 0
return a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u, v
