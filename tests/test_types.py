"""The compiler modules are fully typed: `mypy --strict` passes on them.

They are what `make install` compiles with mypyc (setup.py), and mypyc only
compiles what mypy accepts; this keeps them so in the pure-Python build too.
"""

import shutil
import subprocess

from golden import REPO

TYPED_MODULES = [
    f"{package}/{version}/{module}.py"
    for version in ("lua51", "lua53")
    for package, modules in (
        ("luacross", ("lexer", "parser", "codegen")),
        ("lfs_format", ("lineinfo", "opcodes", "proto")),
    )
    for module in modules
] + ["lfs_format/instruction.py", "lfs_format/lua51/lc.py", "lfs_format/compress.py"]


def test_compiler_modules_pass_mypy_strict():
    mypy = shutil.which("mypy", path=str(REPO / ".venv" / "bin")) or shutil.which("mypy")
    assert mypy, "mypy is a test dependency: make install"
    done = subprocess.run(
        [mypy, "--strict", "--no-error-summary", *TYPED_MODULES],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_final_constants_match_their_enums():
    # the compiler's Final ints are written out for mypyc; they must stay the enums' values
    from lfs_format.lua51 import opcodes
    from luacross.lua51 import lexer

    for kind in lexer.TokenKind:
        if kind != lexer.TokenKind.ERROR or hasattr(lexer, "TK_ERROR"):
            assert getattr(lexer, f"TK_{kind.name}") == kind
    for op in opcodes.OpCode:
        assert getattr(opcodes, f"OP_{op.name}") == op
    from lfs_format.lua53 import opcodes as opcodes53

    for op53 in opcodes53.OpCode:
        assert getattr(opcodes53, f"OP_{op53.name}") == op53
