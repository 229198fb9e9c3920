for a in x, y, z, w do end
