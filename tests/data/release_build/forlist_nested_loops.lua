for a in x, y, z, w do for b in a, a, a, a do return b, a end end
for a in x, y, z, w do for i = 1, 2 do return i, a end end
