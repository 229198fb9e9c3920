"""The random Lua generator only makes programs stock Lua 5.1 accepts."""

import lupa.lua51
from hypothesis import HealthCheck, given, settings

from luagen import lua_chunks

_lua = lupa.lua51.LuaRuntime(encoding=None)


@settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(lua_chunks())
def test_generated_chunks_compile_with_stock_lua(source):
    result = _lua.globals().loadstring(source, b"@gen.lua")
    error = result[1] if isinstance(result, tuple) else None
    assert error is None, error.decode("latin-1")
