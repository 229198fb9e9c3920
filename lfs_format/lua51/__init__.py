"""NodeMCU's Lua 5.1 core (app/lua): the proto model, .lc chunks, LFS images and their loader."""
