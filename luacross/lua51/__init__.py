"""NodeMCU's Lua 5.1 core (app/lua): the compiler (lexer, parser, code generator),
combined mains, listings, and `core`, how luacross drives it and its formats."""
