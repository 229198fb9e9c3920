local function f(...)
  for a in x, y, z, ... do return ... end
  for a in ..., ..., ..., ... do return a, ... end
  for a in x, y, z, w, g() do x = a .. a end
end
