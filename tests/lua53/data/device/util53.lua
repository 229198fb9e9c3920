local M = {}
function M.fib(n) if n < 2 then return n end return M.fib(n - 1) + M.fib(n - 2) end
function M.gcd(a, b) while b ~= 0 do a, b = b, a % b end return a end
function M.bits(x)
  local n = 0
  while x ~= 0 do n = n + (x & 1); x = x >> 1 end
  return n
end
function M.map(t, f) local r = {} for k, v in ipairs(t) do r[k] = f(v) end return r end
function M.join(t, sep) return table.concat(t, sep) end
return M
