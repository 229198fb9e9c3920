# luacross: `make demo` builds an LFS image from fixtures/, `make test` runs the tests.
# Both create .venv on first use; `make install` does only that.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test demo bench system-deps clean

# Bytecode is compiled ahead (compileall skips what is current): every luacross run
# would otherwise recompile the modules where PYTHONDONTWRITEBYTECODE is set.
install: $(STAMP)
	@$(BIN)/python -m compileall -q luacross lfs_format

# The editable install's compat mode is a plain path in a .pth, not an import hook
# (~10 ms less per run); setuptools calls it transitional, so fall back without it.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]' --config-settings editable_mode=compat \
	  || $(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# Debian's Lua 5.1 (luac5.1, the benchmark's baseline) and Lua libraries whose
# sources the differential tests compile; needs root, as on CI.
system-deps:
	bash scripts/system-deps.sh

test: install system-deps
	$(BIN)/python -m pytest

demo: install
	@mkdir -p demo
	SOURCE_DATE_EPOCH=$${SOURCE_DATE_EPOCH:-1704067200} $(BIN)/luacross -f -o demo/lfs.img fixtures/*.lua
	$(BIN)/luacross check demo/lfs.img
	$(BIN)/luacross run demo/lfs.img demo_main

bench: install system-deps
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) demo build *.egg-info
