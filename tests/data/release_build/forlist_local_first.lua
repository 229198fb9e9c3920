for k, v in a, b, c, d, e do local t = {k, v}; g(t) end
