return function(...) local a, b = ... ; return a and b or nil, select('#', ...) end
