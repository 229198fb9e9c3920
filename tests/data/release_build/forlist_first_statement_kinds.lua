for a in x, y, z, w do t[a] = a and b or c end
for a in x, y, z, w do local n = not a end
for a in x, y, z, w do return end
for a in x, y, z, w do break end
