"""Session-wide test settings."""

import sys

# Deeply nested Lua (up to the 200 syntax levels Lua allows) recurses deeply in the
# parser; set the limit once, before hypothesis records it, rather than per test.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
