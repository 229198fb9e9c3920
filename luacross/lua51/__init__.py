"""The compiler of NodeMCU's Lua 5.1 core (app/lua): lexer, parser, code generator,
combined mains, listings."""
