# luacross: `make demo` builds an LFS image from fixtures/, `make test` runs the tests.
# Both create .venv on first use; `make install` does only that.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NATIVE := $(VENV)/.native
# the modules setup.py compiles with mypyc (lfs_format/native.py's HOT_MODULES)
HOT_SOURCES := $(wildcard luacross/lua5?/lexer.py luacross/lua5?/parser.py \
  luacross/lua5?/codegen.py lfs_format/lua5?/lineinfo.py) lfs_format/compress.py

.PHONY: install test test-pure demo bench system-deps clean

# Bytecode is compiled ahead (compileall skips what is current): every luacross run
# would otherwise recompile the modules where PYTHONDONTWRITEBYTECODE is set.
install: $(STAMP) $(NATIVE)
	@$(BIN)/python -m compileall -q luacross lfs_format

# The hot modules compiled with mypyc, next to their sources (setup.py): redone when
# one changes, so a stale extension never shadows an edited module. Where that fails
# (no C compiler) or with LUACROSS_PURE=1, luacross stays pure Python.
$(NATIVE): $(STAMP) $(HOT_SOURCES) setup.py lfs_format/native.py
	rm -rf build/lib* $(HOT_SOURCES:.py=.cpython-*.so) *__mypyc.cpython-*.so
	$(BIN)/python setup.py -q build_ext --inplace
	@$(BIN)/luacross --version
	@touch $@

# The editable install's compat mode is a plain path in a .pth, not an import hook
# (~10 ms less per run); setuptools calls it transitional, so fall back without it.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip 'setuptools>=77'
	LUACROSS_PURE=1 $(BIN)/python -m pip install -q -e '.[test]' \
	  --config-settings editable_mode=compat \
	  || LUACROSS_PURE=1 $(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# Debian's Lua 5.1 (luac5.1, the benchmark's baseline) and Lua libraries whose
# sources the differential tests compile; needs root, as on CI.
system-deps:
	bash scripts/system-deps.sh

# The suite runs twice: against the compiled modules, then the pure-Python ones.
test: install system-deps
	$(BIN)/python -m pytest
	LUACROSS_PURE=1 $(BIN)/python -m pytest

test-pure: install system-deps
	LUACROSS_PURE=1 $(BIN)/python -m pytest

demo: install
	@mkdir -p demo
	SOURCE_DATE_EPOCH=$${SOURCE_DATE_EPOCH:-1704067200} $(BIN)/luacross -f -o demo/lfs.img fixtures/*.lua
	$(BIN)/luacross check demo/lfs.img
	$(BIN)/luacross run demo/lfs.img demo_main

bench: install system-deps
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) demo build *.egg-info *__mypyc.cpython-*.so $(HOT_SOURCES:.py=.cpython-*.so)
