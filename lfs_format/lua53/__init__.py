"""NodeMCU's Lua 5.3 core (app/lua53): the proto model and its byte formats."""
