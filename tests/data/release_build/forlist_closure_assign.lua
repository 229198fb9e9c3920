for a in x, y, z, w do local f = function() return a end; g(f) end
for a, b in p, q, r, s do a, b = b, a end
