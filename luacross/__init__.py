"""luacross: a pure-Python replacement for NodeMCU's luac.cross (Lua 5.1)."""

__version__ = "0.1.0"
