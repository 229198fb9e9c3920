local M = {}
function M.hello(name) print("hello " .. tostring(name), nil, true, false) end
function M.count(n) local c = 0; for i = 1, n do c = c + i * 0.5 end; return c end
M.__index = M
return M
