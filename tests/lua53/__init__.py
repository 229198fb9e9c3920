"""Tests of the Lua 5.3 core (compiler, formats, command line)."""
