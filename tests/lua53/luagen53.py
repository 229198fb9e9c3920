"""Random Lua 5.3 chunks for differential tests (`lua53_chunks()`).

Three shapes, picked by the seed: general code (locals, closures, loops, tables,
method calls, all 5.3 operators, random layout with long blank-line runs for
multi-byte line deltas), goto/label/break soup (most of it is rejected, and the
messages are compared too), and constant expressions over numerals at the
integer/float edges (folding in the target's types). Nesting stays shallow so
no C-level limit depends on how deep the caller already is.
"""

import random

from hypothesis import strategies as st

NUMERALS = [
    "0", "1", "2", "3", "7", "31", "32", "63", "64", "255", "256", "0.0", "1.0", "0.5", ".5",
    "5.", "1E+2", "2.5e-3", "3.14159", "0.1", "0.3", "1e308", "1e309", "1e-320", "1e-45",
    "3.4e38", "3.5e38", "2147483647", "2147483648", "4294967296", "9223372036854775807",
    "9223372036854775808", "0x7fffffff", "0xffffffff", "0x80000000", "0xffffffffffffffff",
    "0x1p4", "0x.8p1", "0xA.8p0", "0x1P-2", "16777217", "16777216.0", "123456789012", "1e15",
    "1.00000005960464477539",
]  # fmt: skip
OPERATORS = [
    "+", "-", "*", "/", "%", "^", "//", "&", "|", "~", "<<", ">>", "..", "==", "~=", "<", "<=",
    ">", ">=", "and", "or",
]  # fmt: skip
ARITH = OPERATORS[:12]
UNARY = ["- ", "not ", "# ", "~ "]
NAMES = ["a", "b", "c", "d", "x", "y", "z", "t", "f", "s"]
GLOBALS = ["g", "print", "string", "M", "obj", "tbl"]
FIELDS = ["n", "x", "y", "name", "ok"]
STRINGS = [
    '"abc"', "'x'", '"a\\nb"', '"\\x41\\u{48}\\u{7FF}\\u{10FFFF}"', '"\\z   \n  end"',
    "[[long\nstr]]", "[==[x]]y]==]", '"\\065\\0\\255"', '"n"', '"name"', '""',
]  # fmt: skip


class _General:
    def __init__(self, rnd: random.Random) -> None:
        self.r = rnd
        self.depth = 0
        self.labels = 0

    def gap(self) -> str:
        x = self.r.random()
        if x < 0.03:
            return "\n" * self.r.choice([64, 65, 130, 300, 9000])
        if x < 0.3:
            return "\n"
        return " "

    def expr(self, scope: list[str], d: int = 0) -> str:
        r = self.r
        x = r.random()
        if d > 3 or x < 0.3:
            y = r.random()
            if y < 0.35:
                return r.choice(NUMERALS)
            if y < 0.55 and scope:
                return r.choice(scope)
            if y < 0.65:
                return r.choice(STRINGS)
            if y < 0.75:
                return r.choice(GLOBALS)
            if y < 0.85:
                return r.choice(["nil", "true", "false"])
            return r.choice(NUMERALS)
        if x < 0.6:
            left, right = self.expr(scope, d + 1), self.expr(scope, d + 1)
            return f"({left}{self.gap()}{r.choice(OPERATORS)} {right})"
        if x < 0.68:
            return r.choice(UNARY) + self.expr(scope, d + 1)
        if x < 0.76:
            args = ", ".join(self.expr(scope, d + 1) for _ in range(r.randint(0, 3)))
            return f"{r.choice(GLOBALS)}({args})"
        if x < 0.82:
            return "{" + ", ".join(self.field(scope, d) for _ in range(r.randint(0, 4))) + "}"
        if x < 0.86 and self.depth < 3:
            return self.function(scope)
        if x < 0.9 and scope:
            return f"{r.choice(scope)}:{r.choice(FIELDS)}({self.expr(scope, d + 1)})"
        if x < 0.94 and scope:
            return f"{r.choice(scope)}[ {self.expr(scope, d + 1)} ]"
        return f"{self.expr(scope, d + 1)} {r.choice(OPERATORS)} {self.expr(scope, d + 1)}"

    def field(self, scope: list[str], d: int) -> str:
        x = self.r.random()
        if x < 0.3:
            return f"{self.r.choice(FIELDS)} = {self.expr(scope, d + 1)}"
        if x < 0.5:
            return f"[ {self.expr(scope, d + 1)} ] = {self.expr(scope, d + 1)}"
        return self.expr(scope, d + 1)

    def function(self, scope: list[str]) -> str:
        self.depth += 1
        params = self.r.sample(NAMES, self.r.randint(0, 3))
        vararg = ["..."] if self.r.random() < 0.3 else []
        body = self.block(scope + params, 0, False)
        self.depth -= 1
        return f"function({', '.join(params + vararg)}){self.gap()}{body}{self.gap()}end"

    def block(self, scope: list[str], bd: int, inloop: bool) -> str:
        scope = list(scope)
        stmts = [
            self.statement(scope, bd, inloop) for _ in range(self.r.randint(1, 5 if bd < 2 else 2))
        ]
        if self.r.random() < 0.15:
            stmts.append(
                "return " + ", ".join(self.expr(scope) for _ in range(self.r.randint(0, 2)))
            )
        return self.gap().join(stmts)

    def statement(self, scope: list[str], bd: int, inloop: bool) -> str:
        r = self.r
        x = r.random() * (0.4 if bd > 3 else 1)
        if x < 0.2:
            name, value = r.choice(NAMES), self.expr(scope)
            scope.append(name)
            return f"local {name} = {value}"
        if x < 0.3:
            names = r.sample(NAMES, 2)
            values = ", ".join(self.expr(scope) for _ in range(r.randint(0, 3)))
            scope.extend(names)
            return f"local {names[0]}, {names[1]}" + (f" = {values}" if values else "")
        if x < 0.45:
            target = r.choice(scope + GLOBALS)
            if r.random() < 0.3:
                target += "." + r.choice(FIELDS)
            if r.random() < 0.2:
                target += f", {r.choice(GLOBALS)}[ {self.expr(scope)} ]"
            extra = f", {self.expr(scope)}" if r.random() < 0.3 else ""
            return f"{target} = {self.expr(scope)}{extra}"
        if x < 0.55:
            args = ", ".join(self.expr(scope) for _ in range(r.randint(0, 3)))
            return f"{r.choice(GLOBALS)}({args})"
        if x < 0.62:
            text = f"if {self.expr(scope)} then{self.gap()}"
            text += self.block(scope, bd + 1, inloop) + self.gap()
            if r.random() < 0.3:
                text += f"elseif {self.expr(scope)} then "
                text += self.block(scope, bd + 1, inloop) + self.gap()
            if r.random() < 0.4:
                text += f"else {self.block(scope, bd + 1, inloop)}{self.gap()}"
            return text + "end"
        if x < 0.67:
            body = self.block(scope, bd + 1, True)
            return f"while {self.expr(scope)} do{self.gap()}{body}{self.gap()}end"
        if x < 0.72:
            v = r.choice(NAMES)
            step = f", {r.choice(NUMERALS)}" if r.random() < 0.5 else ""
            body = self.block(scope + [v], bd + 1, True)
            head = f"for {v} = {self.expr(scope)}, {self.expr(scope)}{step} do"
            return f"{head}{self.gap()}{body}{self.gap()}end"
        if x < 0.76:
            k, v = r.sample(NAMES, 2)
            body = self.block(scope + [k, v], bd + 1, True)
            return f"for {k}, {v} in pairs({self.expr(scope)}) do{self.gap()}{body}{self.gap()}end"
        if x < 0.8:
            return f"repeat {self.block(scope, bd + 1, True)}{self.gap()}until {self.expr(scope)}"
        if x < 0.84:
            return f"do {self.block(scope, bd + 1, inloop)} end"
        if x < 0.87 and inloop:
            return f"if {self.expr(scope)} then break end"
        if x < 0.9:
            self.labels += 1
            return f"goto L{self.labels}{self.gap()}::L{self.labels}::"
        if x < 0.93 and self.depth < 3:
            name = r.choice(NAMES)
            scope.append(name)
            body = self.block(scope, bd + 1, False)
            return f"local function {name}(...){self.gap()}{body}{self.gap()}end"
        if x < 0.96 and self.depth < 3:
            body = self.block(scope + ["self", "a"], bd + 1, False)
            head = f"function {r.choice(GLOBALS)}.{r.choice(FIELDS)}:m(a)"
            return f"{head}{self.gap()}{body}{self.gap()}end"
        return f"{r.choice(GLOBALS)}({self.expr(scope)})"


def _gotos(r: random.Random) -> str:
    labels = [f"l{i}" for i in range(4)]

    def block(depth: int, inloop: bool) -> str:
        out = []
        for _ in range(r.randint(1, 4)):
            x = r.random()
            if x < 0.15:
                out.append(
                    f"local {r.choice('abcxyz')} = {r.choice(['1', 'f()', '{}', 'x', '...'])}"
                )
            elif x < 0.3:
                out.append(f"goto {r.choice(labels)}")
            elif x < 0.42:
                out.append(f"::{r.choice(labels)}::")
            elif x < 0.5 and inloop:
                out.append("break")
            elif x < 0.6 and depth < 4:
                out.append(f"while {r.choice(['x', 'a', 'not b'])} do {block(depth + 1, True)} end")
            elif x < 0.68 and depth < 4:
                out.append(f"for i = 1, {r.choice(['3', 'n'])} do {block(depth + 1, True)} end")
            elif x < 0.74 and depth < 4:
                out.append(f"repeat {block(depth + 1, True)} until {r.choice(['x', 'c == 1'])}")
            elif x < 0.8 and depth < 4:
                out.append(f"do {block(depth + 1, inloop)} end")
            elif x < 0.88 and depth < 4:
                out.append(
                    f"if {r.choice(['x', 'a and b'])} then {block(depth + 1, inloop)} "
                    f"else {block(depth + 1, inloop)} end"
                )
            elif x < 0.95:
                out.append(f"g = function() return {r.choice(['a', 'b', 'c', 'x', 'i'])} end")
            else:
                out.append(f"if {r.choice(['a', 'x'])} then goto {r.choice(labels)} end")
            if r.random() < 0.2:
                out.append("\n" * r.choice([1, 70, 130]))
        return " ".join(out)

    return "local a, b, c = ...\n" + block(0, False)


def _folds(r: random.Random) -> str:
    numerals = NUMERALS + [
        "1.5",
        "-2.5",
        "1e10",
        "1e-10",
        "65536",
        "1e38",
        "-3e38",
        "1e-40",
        "2^63",
    ]

    def expr(d: int) -> str:
        if d > 2 or r.random() < 0.3:
            return r.choice(numerals)
        if r.random() < 0.15:
            return r.choice(["-", "~", "- -"]) + " " + expr(d + 1)
        return f"({expr(d + 1)} {r.choice(ARITH)} {expr(d + 1)})"

    return "\n".join(f"x = {expr(0)}" for _ in range(r.randint(5, 60)))


def lua53_program(seed: int) -> bytes:
    """One random chunk (its shape chosen by the seed)."""
    r = random.Random(seed)
    shape = seed % 3
    if shape == 0:
        text = _General(r).block([], 0, False)
    elif shape == 1:
        text = _gotos(r)
    else:
        text = _folds(r)
    return (text + "\n").encode()


def lua53_chunks() -> st.SearchStrategy[bytes]:
    return st.integers(min_value=0, max_value=2**32 - 1).map(lua53_program)
