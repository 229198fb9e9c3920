for a in x, y, z, w do return a, b end
