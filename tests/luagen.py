"""Hypothesis strategy for random, valid Lua 5.1 chunks (`lua_chunks()`).

The generator tracks scopes so that every program compiles with stock Lua 5.1
and stays within NodeMCU's tighter limits: at most 50 active locals and 60
upvalues per function, `...` only in vararg functions, `break` only inside a
loop, `break`/`return` last in their block, and no call whose `(` starts a new
line ("ambiguous syntax"). Layout is random (spaces, newlines, blank-line runs
past the 64-line packed line info step, CRLF/CR endings, comments) because the
compiler's per-instruction lines are compared too.

Programs are only compiled, never run: they need not be meaningful.
"""

import random
import re
from dataclasses import dataclass, field

from hypothesis import strategies as st

# comfortably below NodeMCU's LUAI_MAXVARS (50) and LUAI_MAXUPVALUES (60), leaving
# room for a numeric for loop's hidden locals and a function's parameters
MAX_LOCALS = 42
MAX_UPVALUES = 50
MAX_BLOCK_DEPTH = 4
MAX_FUNC_DEPTH = 3
MAX_EXPR_DEPTH = 3

LOCAL_NAMES = ["a", "b", "c", "d", "i", "k", "v", "x", "y", "t", "f", "s"]
GLOBAL_NAMES = ["g", "gx", "print", "obj", "M", "_G", "string", "tbl"]
FIELD_NAMES = ["n", "x", "y", "name", "len", "ok", "m", "sub"]
BINARY_OPS = ["+", "-", "*", "/", "%", "^", "..", "==", "~=", "<", "<=", ">", ">=", "and", "or"]
ARITH_OPS = ["+", "-", "*", "/", "%", "^"]
UNARY_OPS = ["-", "not", "#"]

# numerals whose constant folding is easy to get wrong (C vs Python semantics,
# never-folded division by zero and NaN, -0 sharing the constant slot of 0)
TRICKY_NUMERALS = [
    "0", "0.0", "1e308", "1e309", "1e-320", "4294967296", "2147483647",
    "9007199254740993", "0x7fffffff", "0xffffffff", "0XAbC", "1E+2", "2.5e-3", ".5", "5.",
    "0x10", "0x1p4", "3.14159", "91.788", "28.352", "1e15", "123456789012",
]  # fmt: skip
TRICKY_FOLDS = [
    "1/0", "-1/0", "0/0", "-0/1", "0*-1", "5%0", "5%-0", "-0%1", "2^0.5", "(-8)^(1/3)",
    "1e308*10", "-(1e308*10)", "1e308%1e-308", "91.788%28.352", "-7%3", "7%-3", "-7.5%2",
    "2^53+1", "3^21", "10/3", "-2^2", "- -2", "0^0", "(0/0)^0", "1%(1/0)", "-(0)", "-0",
    "2^1024",
]  # fmt: skip
# the integer build's lexer rejects any numeral with a fraction or an exponent
_NOT_INTEGRAL = re.compile(r"\.|^\d+[eE]|0x1p")
INTEGRAL_NUMERALS = [n for n in TRICKY_NUMERALS if not _NOT_INTEGRAL.search(n)]
INTEGRAL_FOLDS = [f for f in TRICKY_FOLDS if not re.search(r"\.|\de", f)]
STRING_ESCAPES = [
    "\\n", "\\t", "\\\\", '\\"', "\\'", "\\a", "\\b", "\\f", "\\r", "\\v", "\\000", "\\065",
    "\\255", "\\0123", "\\?", "\\q", "\\z", "\\\n",
]  # fmt: skip
PLAIN_CHARS = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 _-+*/=<>.,:;!@#$%&()[]{}~|^`"
RAW_BYTES = "\x01\x1b\x7f\x80\xa0\xe9\xff"
LONG_STRING_CHARS = "abc xyz 123\n\t=-\"'\\"


@dataclass(slots=True)
class _Var:
    name: str
    func: "_Func"


@dataclass(slots=True)
class _Func:
    """Scope state of one function being generated."""

    parent: "_Func | None"
    is_vararg: bool
    depth: int
    blocks: list[list[_Var]] = field(default_factory=list)
    upvalues: set[int] = field(default_factory=set)
    loop_depth: int = 0

    @property
    def nactive(self) -> int:
        return sum(len(b) for b in self.blocks)


class _ChunkBuilder:
    """Builds one chunk's text from hypothesis draws (`draw`)."""

    def __init__(self, draw, integral: bool) -> None:
        self.draw = draw
        self.integral = integral
        self.budget = self.count(3, 70)  # statements left
        self.func = _Func(None, is_vararg=True, depth=0)
        self.block_depth = 0
        self.listed = 0  # length of the last exprlist
        self.reached: set[str] = set()  # features generated (see FEATURES)

    # -- drawing helpers -------------------------------------------------------

    def pick(self, options: list):
        return options[self.count(0, len(options) - 1)]

    def chance(self, percent: int) -> bool:
        return self.count(0, 99) < percent

    def count(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def real(self) -> float:
        return self.draw(st.floats(min_value=0, allow_nan=False, allow_infinity=False))

    def sep(self) -> str:
        """Whitespace between tokens: mostly a space, sometimes line breaks."""
        kind = self.count(0, 199)
        if kind < 160:
            return " "
        if kind < 190:
            return "\n"
        if kind < 198:
            return "\n" * self.count(2, 5)
        return "\n" * self.count(60, 200)  # past a one-byte packed line delta

    def comment(self) -> str:
        kind = self.count(0, 2)
        if kind == 0:
            return "-- note " + str(self.count(0, 99)) + "\n"
        eq = "=" * self.count(0, 2)
        body = "\n" * self.count(0, 3)
        return f"--[{eq}[ block{body} ]{eq}]"

    # -- scopes ----------------------------------------------------------------

    def open_block(self, names: list[str] = ()) -> None:
        self.func.blocks.append([_Var(n, self.func) for n in names])

    def declare(self, names: list[str]) -> None:
        self.func.blocks[-1].extend(_Var(n, self.func) for n in names)

    def close_block(self) -> None:
        self.func.blocks.pop()

    def lookup(self, name: str) -> _Var | None:
        fs = self.func
        while fs is not None:
            for block in reversed(fs.blocks):
                for var in reversed(block):
                    if var.name == name:
                        return var
            fs = fs.parent
        return None

    def can_reference(self, var: _Var) -> bool:
        """Reference `var`, recording upvalues; False if a function would exceed the limit."""
        chain = []
        fs = self.func
        while fs is not var.func:
            if id(var) not in fs.upvalues:
                if len(fs.upvalues) >= MAX_UPVALUES:
                    return False
                chain.append(fs)
            fs = fs.parent
        for fs in chain:
            fs.upvalues.add(id(var))
        return True

    def local_room(self, n: int) -> bool:
        return self.func.nactive + n <= MAX_LOCALS

    def new_names(self, lo: int, hi: int) -> list[str]:
        return [self.pick(LOCAL_NAMES) for _ in range(self.count(lo, hi))]

    # -- expressions -----------------------------------------------------------

    def name_ref(self) -> str:
        """A variable that resolves to a local, an upvalue or a global."""
        if self.chance(70):
            name = self.pick(LOCAL_NAMES)
            var = self.lookup(name)
            if var is None or self.can_reference(var):
                return name
        return self.pick(GLOBAL_NAMES)

    def numeral(self) -> str:
        kind = self.count(0, 4)
        if kind == 0:
            return str(self.count(0, 300))
        if kind == 1:
            return self.pick(INTEGRAL_NUMERALS if self.integral else TRICKY_NUMERALS)
        if kind == 3 or self.integral:
            return hex(self.count(0, 2**40)).replace("x", self.pick(["x", "X"]))
        if kind == 2:
            return repr(self.real())
        sign = self.pick(["", "+", "-"])
        return f"{self.count(0, 99)}.{self.count(0, 999)}e{sign}{self.count(0, 30)}"

    def short_string(self) -> str:
        quote = self.pick(['"', "'"])
        parts = []
        for _ in range(self.count(0, 8)):
            kind = self.count(0, 9)
            if kind < 5:
                parts.append(self.pick(list(PLAIN_CHARS)))
            elif kind < 8:
                parts.append(self.pick(STRING_ESCAPES))
            elif kind < 9:
                parts.append(self.pick(list(RAW_BYTES)))
            else:
                parts.append('"' if quote == "'" else "'")
        return quote + "".join(parts) + quote

    def long_string(self) -> str:
        eq = "=" * self.count(0, 3)
        lead = "\n" if self.chance(40) else ""
        body = "".join(self.pick(list(LONG_STRING_CHARS)) for _ in range(self.count(0, 10)))
        return f"[{eq}[{lead}{body}]{eq}]"

    def string(self) -> str:
        return self.long_string() if self.chance(25) else self.short_string()

    def simple_expr(self) -> str:
        kind = self.count(0, 9)
        if kind == 0:
            return self.pick(["nil", "true", "false"])
        if kind <= 3:
            return self.numeral()
        if kind <= 5:
            return self.string()
        if kind == 6 and self.func.is_vararg:
            return "..."
        return self.name_ref()

    def expr(self, depth: int = 0) -> str:
        if depth >= MAX_EXPR_DEPTH:
            return self.simple_expr()
        kind = self.count(0, 19)
        if kind <= 3:
            return self.simple_expr()
        if kind == 16:
            return self.concat_chain(depth)
        if kind == 17:
            return self.logic_chain(depth)
        if kind == 18 and self.func.is_vararg:
            return self.vararg_expr(depth)
        if kind >= 18:
            return self.comparison(depth)
        if kind <= 6:
            return self.binary_chain(depth)
        if kind == 7:
            op = self.pick(UNARY_OPS)
            return f"{op} {self.expr(depth + 1)}"  # a space keeps `- -x` from being `--x`
        if kind == 8:
            return self.pick(INTEGRAL_FOLDS if self.integral else TRICKY_FOLDS)
        if kind == 9:
            return self.arith_chain()
        if kind == 10:
            return self.table(depth)
        if kind == 11:
            return self.function_body("function", depth)
        if kind == 12:
            return f"({self.expr(depth + 1)})"
        if kind == 13:
            return self.call(depth)
        return self.index(depth)

    def binary_chain(self, depth: int) -> str:
        """Operands joined by random operators, unparenthesised, so precedence decides."""
        out = [self.expr(depth + 1)]
        for _ in range(self.count(1, 4)):
            out.append(self.pick(BINARY_OPS))
            out.append(self.expr(depth + 1))
        return self.join(out)

    def logic_chain(self, depth: int) -> str:
        """`and`/`or` chains, sometimes long (their jump lists grow with each term),
        of comparisons, negations, calls and groups."""
        n = self.count(2, 40) if self.chance(15) else self.count(2, 6)
        if n >= 20:
            self.reached.add("long and/or chain")
        out = [self.logic_term(depth)]
        for _ in range(n - 1):
            out += [self.pick(["and", "or"]), self.logic_term(depth)]
        return self.join(out)

    def logic_term(self, depth: int) -> str:
        kind = self.count(0, 6)
        if kind == 0:
            return self.comparison(depth)
        if kind == 1:
            return "not " + self.simple_expr()
        if kind == 2 and depth + 1 < MAX_EXPR_DEPTH:
            return f"({self.logic_chain(depth + 1)})"
        if kind == 3 and depth + 1 < MAX_EXPR_DEPTH:
            return self.call(depth + 1)
        if kind == 4:
            return f"not ({self.comparison(depth)})"
        return self.simple_expr()

    def comparison(self, depth: int) -> str:
        op = self.pick(["==", "~=", "<", "<=", ">", ">="])
        return f"{self.expr(depth + 1)} {op} {self.expr(depth + 1)}"

    def vararg_expr(self, depth: int) -> str:
        """`...` where it adjusts to one value, to all values or to a count."""
        self.reached.add("vararg expression")
        kind = self.count(0, 3)
        if kind == 0:
            return "{...}"
        if kind == 1:
            return "select('#', ...)"
        if kind == 2:
            return "(...)"
        return f"{self.prefix(depth)}(...)"

    def concat_chain(self, depth: int) -> str:
        """`a .. b .. c ...`: right associative, one CONCAT over consecutive registers."""
        out = [self.expr(depth + 1)]
        for _ in range(self.count(1, 9)):
            out += ["..", self.expr(depth + 1)]
        return self.join(out)

    def arith_chain(self) -> str:
        """Numeric constants only: constant folding, its limits and its C semantics."""
        out = [self.numeral()]
        for _ in range(self.count(1, 5)):
            out.append(self.pick(ARITH_OPS))
            out.append(self.pick(["-", ""]) + " " + self.numeral())
        return self.join(out)

    def join(self, tokens: list[str]) -> str:
        return "".join(tok + self.sep() for tok in tokens[:-1]) + tokens[-1]

    def prefix(self, depth: int, statement: bool = False) -> str:
        """A prefix expression (something that can be called or indexed); one that
        starts a statement never starts with `(` (ambiguous after a line break)."""
        if not statement and depth < MAX_EXPR_DEPTH and self.chance(15):
            return f"({self.expr(depth + 1)})"
        name = self.name_ref()
        for _ in range(self.count(0, 2)):
            name += self.suffix(depth)
        return name

    def suffix(self, depth: int) -> str:
        if self.chance(60) or depth >= MAX_EXPR_DEPTH:
            return "." + self.pick(FIELD_NAMES)
        return f"[ {self.expr(depth + 1)} ]"  # spaced: `[` + `[[str]]` is not `[[[`

    def index(self, depth: int, statement: bool = False) -> str:
        return self.prefix(depth, statement) + self.suffix(depth)

    def call(self, depth: int, statement: bool = False) -> str:
        callee = self.prefix(depth, statement)
        if self.chance(25):
            callee += ":" + self.pick(FIELD_NAMES)
            self.reached.add("method call")
        kind = self.count(0, 9)
        if kind == 0:
            return callee + self.string()
        if kind == 1 and depth < MAX_EXPR_DEPTH:
            return callee + self.table(depth + 1)
        return callee + "(" + self.args(depth) + ")"  # `(` on the callee's line

    def args(self, depth: int) -> str:
        if depth >= MAX_EXPR_DEPTH:
            return ", ".join(self.simple_expr() for _ in range(self.count(0, 3)))
        return self.exprlist(0, 7, depth + 1)

    def exprlist(self, lo: int, hi: int, depth: int = 0) -> str:
        """lo..hi expressions; the last one is sometimes multi-valued (a call or `...`)."""
        items = [self.expr(depth) for _ in range(self.count(lo, hi))]
        self.listed = len(items)
        if items and self.chance(20):
            if self.func.is_vararg and self.chance(50):
                items[-1] = "..."
            elif depth < MAX_EXPR_DEPTH:
                items[-1] = self.call(depth)
        return ("," + self.sep()).join(items)

    def table(self, depth: int) -> str:
        if depth == 0 and self.chance(15):
            return self.big_table()
        items = []
        for _ in range(self.count(0, 8)):
            kind = self.count(0, 4)
            if kind <= 1:
                items.append(self.expr(depth + 1))
            elif kind == 2:
                items.append(f"{self.pick(FIELD_NAMES)} = {self.expr(depth + 1)}")
            elif kind == 3:
                items.append(f"[ {self.expr(depth + 1)} ] = {self.expr(depth + 1)}")
            else:
                value = self.function_body("function", depth)
                self.reached.add("function in a table constructor")
                items.append(value if self.chance(50) else f"{self.pick(FIELD_NAMES)} = {value}")
        return "{" + self.table_items(items) + "}"

    def big_table(self) -> str:
        """More than LFIELDS_PER_FLUSH (50) items of simple values, sometimes
        more than 255 constants; the items come from one drawn seed to keep
        the draw count small."""
        rng = random.Random(self.count(0, 2**32))
        items = []
        for _ in range(rng.randint(51, 320)):
            kind = rng.randint(0, 5)
            if kind <= 2:
                items.append(str(rng.randint(0, 5000)))
            elif kind == 3:
                items.append(f'"s{rng.randint(0, 400)}"')
            elif kind == 4:
                items.append(f"{rng.choice(FIELD_NAMES)}{rng.randint(0, 9)} = {rng.randint(0, 9)}")
            else:
                scalars = ["true", "false", "nil", "-3", "1.5"][: 4 + (not self.integral)]
                items.append(rng.choice(scalars))
            if rng.randint(0, 15) == 0:
                items[-1] += "\n"
        if self.chance(30):
            items.append("..." if self.func.is_vararg else "g()")  # multret last item
        return "{" + self.table_items(items) + "}"

    def table_items(self, items: list[str]) -> str:
        out = ""
        for i, item in enumerate(items):
            out += item
            if i < len(items) - 1 or self.chance(20):
                out += self.pick([",", ";"]) + self.sep()
        return out

    # -- functions -------------------------------------------------------------

    def function_body(self, head: str, depth: int = 0, self_param: bool = False) -> str:
        """`head(params) block end`, generated in a new function scope."""
        if self.func.depth >= MAX_FUNC_DEPTH:
            return head + "() end"
        params = self.new_names(0, 4)
        is_vararg = self.chance(30)
        outer, outer_depth = self.func, self.block_depth
        if outer.depth:
            self.reached.add("nested function")
        self.func = _Func(outer, is_vararg=is_vararg, depth=outer.depth + 1)
        self.block_depth = 0
        self.open_block((["self"] if self_param else []) + params)
        plist = params + (["..."] if is_vararg else [])
        body = self.block()
        self.close_block()
        self.func, self.block_depth = outer, outer_depth
        return f"{head}({', '.join(plist)}){self.sep()}{body}{self.sep()}end"

    # -- statements ------------------------------------------------------------

    def block(self) -> str:
        """A statement list, ending maybe in `return` or (in a loop) `break`."""
        self.block_depth += 1
        stats = []
        for _ in range(self.count(0, 6)):
            if self.budget <= 0:
                break
            self.budget -= 1
            stats.append(self.statement())
            if self.chance(15):
                stats[-1] += ";"
            if self.chance(8):
                stats.append(self.comment())
        last = self.count(0, 9)
        if last <= 1:
            stats.append(self.return_stat())
        elif last == 2 and self.func.loop_depth:
            stats.append("break")
        self.block_depth -= 1
        return "".join(s + self.statement_sep() for s in stats)

    def statement_sep(self) -> str:
        return self.pick(["\n", "\n", "\n", " ", "\n\n"]) if self.chance(90) else self.sep()

    def return_stat(self) -> str:
        kind = self.count(0, 4)
        if kind == 0:
            return "return"
        if kind == 1:
            return "return " + self.call(0)  # a tail call
        if kind == 2 and self.func.is_vararg:
            return "return ..."
        if kind == 3:
            return "return " + self.function_body("function")
        if kind == 4 and self.chance(30):
            return "return " + self.logic_chain(0)  # one value with jumps: exp2anyreg
        values = self.exprlist(1, 7)
        if self.listed > 3:
            self.reached.add("return: more than 3 values")
        return "return " + values

    def statement(self) -> str:
        nested = self.block_depth < MAX_BLOCK_DEPTH
        kind = self.count(0, 17)
        if kind <= 1 and self.local_room(6):
            return self.local_stat()
        if kind == 2:
            return self.assign_stat()
        if kind <= 4:
            return self.call(0, statement=True)
        if not nested:
            return self.assign_stat()
        if kind == 5:
            return self.if_stat()
        if kind == 6:
            return self.loop_stat("while " + self.expr() + " do", "end")
        if kind == 7:
            return self.repeat_stat()
        if kind == 8 and self.local_room(4):
            return self.numeric_for()
        if kind == 9 and self.local_room(8):
            return self.generic_for()
        if kind == 10:
            self.open_block()
            body = self.block()
            self.close_block()
            return f"do{self.sep()}{body}end"
        if kind == 11 and self.local_room(5):
            name = self.pick(LOCAL_NAMES)
            self.declare([name])  # in scope inside its own body
            return self.function_body("local function " + name)
        if kind == 12:
            return self.function_stat()
        if kind == 14:
            return self.nil_stat()
        if kind == 15:
            return self.conflict_stat()
        if kind == 16 and self.chance(40):
            return self.constant_flood()
        return self.assign_stat()

    def own_locals(self) -> list[str]:
        """Names that resolve to a local of the function being generated."""
        names = {var.name for block in self.func.blocks for var in block}
        own = (n for n in names if not n.startswith("(") and self.lookup(n).func is self.func)
        return sorted(own)

    def nil_stat(self) -> str:
        """nil into locals: luaK_nil merges it into an adjacent LOADNIL (or not)."""
        names = self.own_locals()
        if not names or self.chance(30):
            return self.local_stat() if self.local_room(6) else self.assign_stat()
        targets = [self.pick(names) for _ in range(self.count(1, 3))]
        self.reached.add("nil into locals")
        return f"{', '.join(targets)} = {', '.join(['nil'] * self.count(1, len(targets)))}"

    def conflict_stat(self) -> str:
        """An assignment whose indexed target uses a local assigned later in the
        same statement (lparser.c's check_conflict copies it first)."""
        names = self.own_locals()
        if not names:
            return self.assign_stat()
        t, k = self.pick(names), self.pick(names)
        first = self.pick([f"{t}[{k}]", f"{t}.{self.pick(FIELD_NAMES)}", f"g[{k}]", f"{t}[1]"])
        rest = self.pick([[t], [k], [t, k], [k, t], [self.name_ref(), t]])
        self.reached.add("assignment conflict")
        return f"{first}, {', '.join(rest)} = {self.exprlist(1, 4)}"

    def constant_flood(self) -> str:
        """More than 255 constants, so later operands no longer fit an RK field."""
        start = self.count(0, 1000)
        self.reached.add("255+ constants")
        items = ", ".join(f'"k{i}"' for i in range(start, start + self.count(250, 280)))
        return f"{self.pick(GLOBAL_NAMES)} = {{{items}}}"

    def local_stat(self) -> str:
        names = self.new_names(1, 5)
        values = self.exprlist(0, 7)
        if self.listed > len(names):
            self.reached.add("local: more values than names")
        self.declare(names)  # after the values: `local x = x` reads the outer x
        return f"local {', '.join(names)}" + (f" = {values}" if values else "")

    def assign_target(self) -> str:
        kind = self.count(0, 3)
        if kind <= 1:
            return self.name_ref()
        return self.index(1, statement=True)

    def assign_stat(self) -> str:
        targets = [self.assign_target() for _ in range(self.count(1, 5))]
        values = self.exprlist(1, 7)
        if self.listed > len(targets):
            self.reached.add("assignment: more values than targets")
        return f"{', '.join(targets)} ={self.sep()}{values}"

    def if_stat(self) -> str:
        out = "if " + self.expr() + " then" + self.sep() + self.scoped_block()
        for _ in range(self.count(0, 2)):
            out += "elseif " + self.expr() + " then" + self.sep() + self.scoped_block()
        if self.chance(50):
            out += "else" + self.sep() + self.scoped_block()
        return out + "end"

    def scoped_block(self, names: list[str] = ()) -> str:
        self.open_block(names)
        body = self.block()
        self.close_block()
        return body

    def loop_stat(self, head: str, tail: str, names: list[str] = ()) -> str:
        self.func.loop_depth += 1
        body = self.scoped_block(names)
        self.func.loop_depth -= 1
        return f"{head}{self.sep()}{body}{tail}"

    def repeat_stat(self) -> str:
        """repeat-until, whose condition sees the body's locals (often captured)."""
        if self.chance(5):  # an empty loop closed by a constant: patchlist to the current pc
            return f"repeat until {self.pick(['true', 'false', 'nil', '1'])}"
        self.func.loop_depth += 1
        self.open_block()
        body = ""
        if self.local_room(2) and self.chance(60):
            name = self.pick(LOCAL_NAMES)
            body = f"local {name} = {self.expr()}\n"
            self.declare([name])
            body += f"{self.pick(GLOBAL_NAMES)} = function() return {name} end\n"
        body += self.block()
        cond = self.pick(["true", "false", "nil", "1"]) if self.chance(10) else self.expr()
        self.close_block()
        self.func.loop_depth -= 1
        return f"repeat{self.sep()}{body}until {cond}"

    def numeric_for(self) -> str:
        var = self.pick(LOCAL_NAMES)
        bounds = [self.expr(1), self.expr(1)] + ([self.expr(1)] if self.chance(40) else [])
        head = f"for {var} = {', '.join(bounds)} do"
        hidden = ["(for index)", "(for limit)", "(for step)"]
        return self.loop_stat(head, "end", hidden + [var])

    def generic_for(self) -> str:
        names = self.new_names(1, 5)
        head = f"for {', '.join(names)} in {self.exprlist(1, 6, 1)} do"
        if self.listed > 3:
            self.reached.add("generic for: more than 3 expressions")
        hidden = ["(for generator)", "(for state)", "(for control)"]
        return self.loop_stat(head, "end", hidden + names)

    def function_stat(self) -> str:
        name = self.name_ref()
        for _ in range(self.count(0, 2)):
            name += "." + self.pick(FIELD_NAMES)
        is_method = self.chance(40)
        if is_method:
            name += ":" + self.pick(FIELD_NAMES)
            self.reached.add("method definition")
        return self.function_body("function " + name, self_param=is_method)

    def chunk(self) -> str:
        self.open_block()
        text = self.block()
        self.close_block()
        return text


FEATURES = frozenset(
    (
        "generic for: more than 3 expressions",
        "local: more values than names",
        "assignment: more values than targets",
        "return: more than 3 values",
        "long and/or chain",
        "vararg expression",
        "method call",
        "method definition",
        "function in a table constructor",
        "nested function",
        "nil into locals",
        "assignment conflict",
        "255+ constants",
    )
)


@st.composite
def lua_chunks_with_features(draw, integral: bool = False) -> tuple[bytes, frozenset[str]]:
    """A chunk as `lua_chunks` makes it, and the FEATURES it reached."""
    builder = _ChunkBuilder(draw, integral)
    text = builder.chunk()
    newline = draw(st.sampled_from(["\n", "\n", "\n", "\r\n", "\r"]))
    return text.replace("\n", newline).encode("latin-1"), frozenset(builder.reached)


class _SeededChunkBuilder(_ChunkBuilder):
    """The same builder drawing from a seeded `random.Random`: a fixed set of
    chunks whatever state hypothesis is in (for the feature-coverage test)."""

    def __init__(self, seed: int, integral: bool) -> None:
        self.rng = random.Random(seed)
        super().__init__(None, integral)

    def count(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def real(self) -> float:
        return self.rng.choice([0.0, 0.5, 1e300, 5e-324, 123456.789, self.rng.random() * 1e6])


def seeded_chunk(seed: int, integral: bool = False) -> tuple[bytes, frozenset[str]]:
    """The chunk `seed` stands for, and the FEATURES it reached."""
    builder = _SeededChunkBuilder(seed, integral)
    return builder.chunk().encode("latin-1"), frozenset(builder.reached)


def lua_chunks(integral: bool = False) -> st.SearchStrategy[bytes]:
    """A valid Lua 5.1 chunk (bytes) within NodeMCU's compiler limits; `integral`:
    numerals the integer build accepts too (no fraction or exponent)."""
    return lua_chunks_with_features(integral).map(lambda made: made[0])
