"""The compiler of NodeMCU's Lua 5.3 core (app/lua53): lexer, parser, code generator."""
