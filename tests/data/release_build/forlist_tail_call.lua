for a in x, y, z, w do return f(a) end
