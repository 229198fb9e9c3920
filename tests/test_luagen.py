"""The random Lua generator only makes programs stock Lua 5.1 accepts, and
reaches every grammar feature it is meant to (luagen.FEATURES)."""

import lupa.lua51
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from luagen import FEATURES, lua_chunks_with_features, seeded_chunk

_lua = lupa.lua51.LuaRuntime(encoding=None)


def stock_error(source: bytes) -> str | None:
    result = _lua.globals().loadstring(source, b"@gen.lua")
    return result[1].decode("latin-1") if isinstance(result, tuple) else None


SEEDS = range(300)


@pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")
def test_generated_chunks_compile_with_stock_lua():
    @settings(
        max_examples=100,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.booleans().flatmap(lambda integral: lua_chunks_with_features(integral=integral)))
    def compile_with_stock_lua(made):
        source, _ = made
        assert stock_error(source) is None, stock_error(source)

    compile_with_stock_lua()


def test_seeded_chunks_compile_with_stock_lua_and_reach_every_feature():
    """A fixed set of chunks (not hypothesis's draws, which depend on what ran
    before) reaches every feature the generator is meant to make."""
    reached: set[str] = set()
    for seed in SEEDS:
        source, features = seeded_chunk(seed, integral=seed % 2 == 1)
        assert stock_error(source) is None, (seed, stock_error(source))
        reached.update(features)
    assert reached == FEATURES, f"never generated: {sorted(FEATURES - reached)}"
