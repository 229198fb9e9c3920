"""NodeMCU's Lua 5.1 core (app/lua): how luacross drives its compiler and formats."""
