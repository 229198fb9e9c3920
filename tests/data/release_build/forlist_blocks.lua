for a in x, y, z, w do do local q = a end end
for a in x, y, z, w do if a then break end end
for a in x, y, z, w do while a do a = a.n end end
for a in x, y, z, w do repeat local u = a until u end
