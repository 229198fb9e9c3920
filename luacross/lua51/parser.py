"""Lua 5.1 parser, as NodeMCU's `lparser.c`: one function per grammar rule.

A one-pass compiler without a syntax tree: each rule calls the code
generator (`luacross.lua51.codegen`) as it goes. The parser reads tokens only
through `LexState.next`/`lookahead` and `check`/`checknext`/`testnext`.
NodeMCU's luac.cross keeps line info but drops local and upvalue names
(LUAI_OPTIMIZE_DEBUG 1), so finished protos carry no names.

luac.cross is a release build: its `lua_assert`s are compiled out, and where
their conditions do not hold it goes on and writes code from the state it has.
So does this module (and `codegen`): it checks only what the C code checks.
"""

import sys
from typing import cast

from lfs_format.instruction import MAXARG_BX
from lfs_format.lua51.opcodes import (
    LFIELDS_PER_FLUSH,
    LUAI_MAXCCALLS,
    LUAI_MAXUPVALUES,
    LUAI_MAXVARS,
    MAX_INT,
    OP_CALL,
    OP_CLOSE,
    OP_CLOSURE,
    OP_FORLOOP,
    OP_FORPREP,
    OP_GETUPVAL,
    OP_LOADK,
    OP_MOVE,
    OP_NEWTABLE,
    OP_SETTABLE,
    OP_TAILCALL,
    OP_TFORLOOP,
    OP_VARARG,
)
from lfs_format.lua51.proto import VARARG_HASARG, VARARG_ISVARARG, VARARG_NEEDSARG, Proto
from lfs_format.target import FLOAT, Target
from luacross.lua51 import codegen as K
from luacross.lua51.codegen import (
    LUA_MULTRET,
    NO_JUMP,
    OPR_ADD,
    OPR_AND,
    OPR_CONCAT,
    OPR_DIV,
    OPR_EQ,
    OPR_GE,
    OPR_GT,
    OPR_LE,
    OPR_LEN,
    OPR_LT,
    OPR_MINUS,
    OPR_MOD,
    OPR_MUL,
    OPR_NE,
    OPR_NOT,
    OPR_OR,
    OPR_POW,
    OPR_SUB,
    VCALL,
    VFALSE,
    VGLOBAL,
    VINDEXED,
    VK,
    VKNUM,
    VLOCAL,
    VNIL,
    VNONRELOC,
    VRELOCABLE,
    VTRUE,
    VUPVAL,
    VVARARG,
    VVOID,
    BlockCnt,
    ExpDesc,
    FuncState,
)
from luacross.lua51.lexer import (
    TK_AND,
    TK_BREAK,
    TK_CONCAT,
    TK_DO,
    TK_DOTS,
    TK_ELSE,
    TK_ELSEIF,
    TK_END,
    TK_EOS,
    TK_EQ,
    TK_FALSE,
    TK_FOR,
    TK_FUNCTION,
    TK_GE,
    TK_IF,
    TK_IN,
    TK_LE,
    TK_LOCAL,
    TK_NAME,
    TK_NE,
    TK_NIL,
    TK_NOT,
    TK_NUMBER,
    TK_OR,
    TK_REPEAT,
    TK_RETURN,
    TK_STRING,
    TK_THEN,
    TK_TRUE,
    TK_UNTIL,
    TK_WHILE,
    LexState,
    LuaSyntaxError,
    token2str,
    tokenize,
)

_LPAREN, _RPAREN, _LBRACE, _RBRACE = ord("("), ord(")"), ord("{"), ord("}")
_LBRACKET, _RBRACKET, _DOT, _COLON = ord("["), ord("]"), ord("."), ord(":")
_COMMA, _SEMI, _ASSIGN = ord(","), ord(";"), ord("=")

SHRT_MAX = 32767  # registerlocalvar's limit: locals ever declared in one function

# LUAI_MAXCCALLS nesting levels take a few Python frames each (subexpr, simpleexp, ...)
MIN_RECURSION_LIMIT = 20 * LUAI_MAXCCALLS + 1000


def compile_source(source: bytes, chunkname: bytes, target: Target = FLOAT) -> Proto:
    """Compile a Lua 5.1 chunk as luac.cross's luaY_parser does.

    `source` is the text lua_load sees: skipping a first `#` line is the
    file reader's job (luaL_loadfile; `luacross.api.read_input`), as in stock
    `loadstring`. Raises LuaSyntaxError, worded as luac's message after the
    program name, or CompileLimitError.
    """
    if sys.getrecursionlimit() < MIN_RECURSION_LIMIT:
        sys.setrecursionlimit(MIN_RECURSION_LIMIT)
    ls = LexState(tokenize(source, chunkname, target.integral), chunkname)
    fs = open_func(ls, None, target.integral)
    fs.f.is_vararg = VARARG_ISVARARG  # main func. is always vararg
    ls.next()  # read first token
    chunk(ls)
    check(ls, TK_EOS)
    close_func(ls)
    return fs.f


# --- token helpers ------------------------------------------------------------


def error_expected(ls: LexState, token: int) -> LuaSyntaxError:
    return ls.syntaxerror(f"'{token2str(token)}' expected")


def testnext(ls: LexState, c: int) -> bool:
    if ls.t.kind == c:
        ls.next()
        return True
    return False


def check(ls: LexState, c: int) -> None:
    if ls.t.kind != c:
        raise error_expected(ls, c)


def checknext(ls: LexState, c: int) -> None:
    if ls.t.kind != c:
        raise error_expected(ls, c)
    ls.next()


def check_condition(ls: LexState, c: bool, msg: str) -> None:
    if not c:
        raise ls.syntaxerror(msg)


def check_match(ls: LexState, what: int, who: int, where: int) -> None:
    if not testnext(ls, what):
        if where == ls.linenumber:
            raise error_expected(ls, what)
        raise ls.syntaxerror(
            f"'{token2str(what)}' expected (to close '{token2str(who)}' at line {where})"
        )


def str_checkname(ls: LexState) -> bytes:
    if ls.t.kind != TK_NAME:
        raise error_expected(ls, TK_NAME)
    name = cast(bytes, ls.t.value)
    ls.next()
    return name


def errorlimit(fs: FuncState, limit: int, what: str) -> LuaSyntaxError:
    if fs.f.linedefined == 0:
        msg = f"main function has more than {limit} {what}"
    else:
        msg = f"function at line {fs.f.linedefined} has more than {limit} {what}"
    return fs.ls.error(msg)


def checklimit(fs: FuncState, v: int, limit: int, what: str) -> None:
    if v > limit:
        raise errorlimit(fs, limit, what)


def codestring(ls: LexState, e: ExpDesc, s: bytes) -> None:
    e.init(VK, K.stringK(ls.fs, s))


def checkname(ls: LexState, e: ExpDesc) -> None:
    codestring(ls, e, str_checkname(ls))


# --- variables ------------------------------------------------------------------


def registerlocalvar(ls: LexState, varname: bytes) -> int:
    names = ls.fs.locvar_names
    K.growvector_check(len(names), SHRT_MAX, "too many local variables")
    names.append(varname)
    ls.fs.declared.add(varname)
    return len(names) - 1


def new_localvar(ls: LexState, name: bytes, n: int) -> None:
    fs = ls.fs
    checklimit(fs, fs.nactvar + n + 1, LUAI_MAXVARS, "local variables")
    index = registerlocalvar(ls, name)
    actvar = fs.actvar
    slot = fs.nactvar + n
    if slot < len(actvar):
        actvar[slot] = index
    else:
        actvar.append(index)


def adjustlocalvars(ls: LexState, nvars: int) -> None:
    ls.fs.nactvar += nvars


def removevars(ls: LexState, tolevel: int) -> None:
    fs = ls.fs
    if fs.nactvar > tolevel:
        fs.nactvar = tolevel


def indexupvalue(fs: FuncState, name: bytes, v: ExpDesc) -> int:
    key = (v.k, v.info)
    upvalues = fs.upvalues
    for i, upvalue in enumerate(upvalues):
        if upvalue == key:
            return i
    # new one
    checklimit(fs, len(upvalues) + 1, LUAI_MAXUPVALUES, "upvalues")
    upvalues.append(key)
    fs.f.nups = len(upvalues)
    return len(upvalues) - 1


def searchvar(fs: FuncState, n: bytes) -> int:
    if n not in fs.declared:  # never a local here (most globals): skip the scan
        return -1
    names = fs.locvar_names
    actvar = fs.actvar
    for i in range(fs.nactvar - 1, -1, -1):
        if names[actvar[i]] == n:
            return i
    return -1  # not found


def markupval(fs: FuncState, level: int) -> None:
    bl = fs.bl
    while bl is not None and bl.nactvar > level:
        bl = bl.previous
    if bl is not None:
        bl.upval = True


def singlevaraux(fs: FuncState | None, n: bytes, var: ExpDesc, base: bool) -> int:
    if fs is None:  # no more levels?
        var.init(VGLOBAL, 255)  # default is global variable (NO_REG)
        return VGLOBAL
    v = searchvar(fs, n)  # look up at current level
    if v >= 0:
        var.init(VLOCAL, v)
        if not base:
            markupval(fs, v)  # local will be used as an upval
        return VLOCAL
    # not found at current level; try upper one
    if singlevaraux(fs.prev, n, var, False) == VGLOBAL:
        return VGLOBAL
    var.info = indexupvalue(fs, n, var)  # else was LOCAL or UPVAL
    var.k = VUPVAL  # upvalue in this level
    return VUPVAL


def singlevar(ls: LexState, var: ExpDesc) -> None:
    varname = str_checkname(ls)
    fs = ls.fs
    if singlevaraux(fs, varname, var, True) == VGLOBAL:
        var.info = K.stringK(fs, varname)  # info points to global name


def adjust_assign(ls: LexState, nvars: int, nexps: int, e: ExpDesc) -> None:
    fs = ls.fs
    extra = nvars - nexps
    if e.k == VCALL or e.k == VVARARG:
        extra += 1  # includes call itself
        if extra < 0:
            extra = 0
        K.setreturns(fs, e, extra)  # last exp. provides the difference
        if extra > 1:
            K.reserveregs(fs, extra - 1)
    else:
        if e.k != VVOID:
            K.exp2nextreg(fs, e)  # close last expression
        if extra > 0:
            reg = fs.freereg
            K.reserveregs(fs, extra)
            K.nil(fs, reg, extra)


def enterlevel(ls: LexState) -> None:
    ls.nccalls += 1
    if ls.nccalls > LUAI_MAXCCALLS:
        raise ls.error("chunk has too many syntax levels")


def leavelevel(ls: LexState) -> None:
    ls.nccalls -= 1


def enterblock(fs: FuncState, bl: BlockCnt) -> None:
    bl.previous = fs.bl
    fs.bl = bl
    # freereg may be above nactvar here: a generic for's explist longer than
    # three leaves its extra registers reserved for the loop's first statement


def new_block(fs: FuncState, isbreakable: bool) -> BlockCnt:
    """enterblock: open a block and return it."""
    bl = BlockCnt(None, NO_JUMP, fs.nactvar, False, isbreakable)
    enterblock(fs, bl)
    return bl


def leaveblock(fs: FuncState) -> None:
    bl = cast(BlockCnt, fs.bl)
    fs.bl = bl.previous
    removevars(fs.ls, bl.nactvar)
    if bl.upval:
        K.codeABC(fs, OP_CLOSE, bl.nactvar, 0, 0)
    fs.freereg = fs.nactvar  # free registers
    K.patchtohere(fs, bl.breaklist)


def pushclosure(ls: LexState, func: FuncState, v: ExpDesc) -> None:
    fs = ls.fs
    f = fs.f
    K.growvector_check(len(f.protos), MAXARG_BX, "constant table overflow")
    f.protos.append(func.f)
    v.init(VRELOCABLE, K.codeABx(fs, OP_CLOSURE, 0, len(f.protos) - 1))
    for kind, info in func.upvalues:
        o = OP_MOVE if kind == VLOCAL else OP_GETUPVAL
        K.codeABC(fs, o, 0, info, 0)


def open_func(ls: LexState, prev: FuncState | None, integral: bool) -> FuncState:
    f = Proto(source=ls.chunkname, maxstacksize=2)  # registers 0/1 are always valid
    fs = FuncState(f, prev, ls, integral)
    ls.fs = fs
    return fs


def close_func(ls: LexState) -> None:
    fs = ls.fs
    f = fs.f
    removevars(ls, 0)
    K.ret(fs, 0, 0)  # final return
    f.packedlineinfo = fs.lines.packed()
    if fs.prev is not None:  # the main function stays the last one
        ls.fs = fs.prev


# --- rules for expressions -------------------------------------------------------


def field(ls: LexState, v: ExpDesc) -> None:
    # field -> ['.' | ':'] NAME
    fs = ls.fs
    key = ExpDesc()
    K.exp2anyreg(fs, v)
    ls.next()  # skip the dot or colon
    checkname(ls, key)
    K.indexed(fs, v, key)


def yindex(ls: LexState, v: ExpDesc) -> None:
    # index -> '[' expr ']'
    ls.next()  # skip the '['
    expr(ls, v)
    K.exp2val(ls.fs, v)
    checknext(ls, _RBRACKET)


class ConsControl:
    """State of a table constructor being compiled."""

    __slots__ = ("v", "t", "nh", "na", "tostore")

    def __init__(self, t: ExpDesc):
        self.v = ExpDesc()  # last list item read
        self.t = t  # table descriptor
        self.nh = 0  # total number of `record' elements
        self.na = 0  # total number of array elements
        self.tostore = 0  # number of array elements pending to be stored


def recfield(ls: LexState, cc: ConsControl) -> None:
    # recfield -> (NAME | `['exp1`]') = exp1
    fs = ls.fs
    reg = fs.freereg
    key, val = ExpDesc(), ExpDesc()
    if ls.t.kind == TK_NAME:
        checklimit(fs, cc.nh, MAX_INT, "items in a constructor")
        checkname(ls, key)
    else:  # ls.t is '['
        yindex(ls, key)
    cc.nh += 1
    checknext(ls, _ASSIGN)
    rkkey = K.exp2RK(fs, key)
    expr(ls, val)
    K.codeABC(fs, OP_SETTABLE, cc.t.info, rkkey, K.exp2RK(fs, val))
    fs.freereg = reg  # free registers


def closelistfield(fs: FuncState, cc: ConsControl) -> None:
    if cc.v.k == VVOID:
        return  # there is no list item
    K.exp2nextreg(fs, cc.v)
    cc.v.k = VVOID
    if cc.tostore == LFIELDS_PER_FLUSH:
        K.setlist(fs, cc.t.info, cc.na, cc.tostore)  # flush
        cc.tostore = 0  # no more items pending


def lastlistfield(fs: FuncState, cc: ConsControl) -> None:
    if cc.tostore == 0:
        return
    if cc.v.k == VCALL or cc.v.k == VVARARG:
        K.setmultret(fs, cc.v)
        K.setlist(fs, cc.t.info, cc.na, LUA_MULTRET)
        cc.na -= 1  # do not count last expression (unknown number of elements)
    else:
        if cc.v.k != VVOID:
            K.exp2nextreg(fs, cc.v)
        K.setlist(fs, cc.t.info, cc.na, cc.tostore)


def listfield(ls: LexState, cc: ConsControl) -> None:
    expr(ls, cc.v)
    checklimit(ls.fs, cc.na, MAX_INT, "items in a constructor")
    cc.na += 1
    cc.tostore += 1


def int2fb(x: int) -> int:
    """luaO_int2fb: a table size as a 'floating point byte' (eeeeexxx)."""
    e = 0
    while x >= 16:
        x = (x + 1) >> 1
        e += 1
    return x if x < 8 else ((e + 1) << 3) | (x - 8)


def constructor(ls: LexState, t: ExpDesc) -> None:
    # constructor -> '{' [ field { fieldsep field } [ fieldsep ] ] '}'
    fs = ls.fs
    line = ls.linenumber
    pc = K.codeABC(fs, OP_NEWTABLE, 0, 0, 0)
    cc = ConsControl(t)
    t.init(VRELOCABLE, pc)
    K.exp2nextreg(fs, t)  # fix it at stack top (for gc)
    checknext(ls, _LBRACE)
    while True:
        kind = ls.t.kind
        if kind == _RBRACE:
            break
        closelistfield(fs, cc)
        if kind == TK_NAME:  # may be listfields or recfields
            if ls.lookahead().kind != _ASSIGN:  # expression?
                listfield(ls, cc)
            else:
                recfield(ls, cc)
        elif kind == _LBRACKET:  # constructor_item -> recfield
            recfield(ls, cc)
        else:  # constructor_part -> listfield
            listfield(ls, cc)
        if not (testnext(ls, _COMMA) or testnext(ls, _SEMI)):
            break
    check_match(ls, _RBRACE, _LBRACE, line)
    lastlistfield(fs, cc)
    code = fs.f.code
    code[pc] = K.setarg_c(K.setarg_b(code[pc], int2fb(cc.na)), int2fb(cc.nh))


def parlist(ls: LexState) -> None:
    # parlist -> [ param { `,' param } ]
    fs = ls.fs
    f = fs.f
    nparams = 0
    f.is_vararg = 0
    if ls.t.kind != _RPAREN:  # is `parlist' not empty?
        while True:
            kind = ls.t.kind
            if kind == TK_NAME:  # param -> NAME
                new_localvar(ls, str_checkname(ls), nparams)
                nparams += 1
            elif kind == TK_DOTS:  # param -> `...'
                ls.next()
                # LUA_COMPAT_VARARG: use `arg' as default name
                new_localvar(ls, b"arg", nparams)
                nparams += 1
                f.is_vararg = VARARG_HASARG | VARARG_NEEDSARG | VARARG_ISVARARG
            else:
                raise ls.syntaxerror("<name> or '...' expected")
            if f.is_vararg or not testnext(ls, _COMMA):
                break
    adjustlocalvars(ls, nparams)
    f.numparams = fs.nactvar - (f.is_vararg & VARARG_HASARG)
    K.reserveregs(fs, fs.nactvar)  # reserve register for parameters


def body(ls: LexState, e: ExpDesc, needself: bool, line: int) -> None:
    # body ->  `(' parlist `)' chunk END
    new_fs = open_func(ls, ls.fs, ls.fs.integral)
    new_fs.f.linedefined = line
    checknext(ls, _LPAREN)
    if needself:
        new_localvar(ls, b"self", 0)
        adjustlocalvars(ls, 1)
    parlist(ls)
    checknext(ls, _RPAREN)
    chunk(ls)
    new_fs.f.lastlinedefined = ls.linenumber
    check_match(ls, TK_END, TK_FUNCTION, line)
    close_func(ls)
    pushclosure(ls, new_fs, e)


def explist1(ls: LexState, v: ExpDesc) -> int:
    # explist1 -> expr { `,' expr }
    n = 1  # at least one expression
    expr(ls, v)
    while testnext(ls, _COMMA):
        K.exp2nextreg(ls.fs, v)
        expr(ls, v)
        n += 1
    return n


def funcargs(ls: LexState, f: ExpDesc) -> None:
    fs = ls.fs
    args = ExpDesc()
    line = ls.linenumber
    kind = ls.t.kind
    if kind == _LPAREN:  # funcargs -> `(' [ explist1 ] `)'
        if line != ls.lastline:
            raise ls.syntaxerror("ambiguous syntax (function call x new statement)")
        ls.next()
        if ls.t.kind == _RPAREN:  # arg list is empty?
            args.k = VVOID
        else:
            explist1(ls, args)
            K.setmultret(fs, args)
        check_match(ls, _RPAREN, _LPAREN, line)
    elif kind == _LBRACE:  # funcargs -> constructor
        constructor(ls, args)
    elif kind == TK_STRING:  # funcargs -> STRING
        codestring(ls, args, cast(bytes, ls.t.value))
        ls.next()  # must use `seminfo' before `next'
    else:
        raise ls.syntaxerror("function arguments expected")
    base = f.info  # base register for call
    if args.k == VCALL or args.k == VVARARG:
        nparams = LUA_MULTRET  # open call
    else:
        if args.k != VVOID:
            K.exp2nextreg(fs, args)  # close last argument
        nparams = fs.freereg - (base + 1)
    f.init(VCALL, K.codeABC(fs, OP_CALL, base, nparams + 1, 2))
    K.fixline(fs, line)
    fs.freereg = base + 1  # call removes function and arguments, leaves one result


def prefixexp(ls: LexState, v: ExpDesc) -> None:
    # prefixexp -> NAME | '(' expr ')'
    kind = ls.t.kind
    if kind == TK_NAME:
        singlevar(ls, v)
    elif kind == _LPAREN:
        line = ls.linenumber
        ls.next()
        expr(ls, v)
        check_match(ls, _RPAREN, _LPAREN, line)
        K.dischargevars(ls.fs, v)
    else:
        raise ls.syntaxerror("unexpected symbol")


def primaryexp(ls: LexState, v: ExpDesc) -> None:
    # primaryexp -> prefixexp { `.' NAME | `[' exp `]' | `:' NAME funcargs | funcargs }
    fs = ls.fs
    prefixexp(ls, v)
    while True:
        kind = ls.t.kind
        if kind == _DOT:  # field
            field(ls, v)
        elif kind == _LBRACKET:  # `[' exp1 `]'
            key = ExpDesc()
            K.exp2anyreg(fs, v)
            yindex(ls, key)
            K.indexed(fs, v, key)
        elif kind == _COLON:  # `:' NAME funcargs
            key = ExpDesc()
            ls.next()
            checkname(ls, key)
            K.self_(fs, v, key)
            funcargs(ls, v)
        elif kind == _LPAREN or kind == TK_STRING or kind == _LBRACE:  # funcargs
            K.exp2nextreg(fs, v)
            funcargs(ls, v)
        else:
            return


def simpleexp(ls: LexState, v: ExpDesc) -> None:
    # simpleexp -> NUMBER | STRING | NIL | true | false | ... |
    #              constructor | FUNCTION body | primaryexp
    kind = ls.t.kind
    if kind == TK_NUMBER:
        v.init(VKNUM, 0)
        v.nval = cast(float | int, ls.t.value)
    elif kind == TK_STRING:
        codestring(ls, v, cast(bytes, ls.t.value))
    elif kind == TK_NIL:
        v.init(VNIL, 0)
    elif kind == TK_TRUE:
        v.init(VTRUE, 0)
    elif kind == TK_FALSE:
        v.init(VFALSE, 0)
    elif kind == TK_DOTS:  # vararg
        fs = ls.fs
        check_condition(ls, fs.f.is_vararg != 0, "cannot use '...' outside a vararg function")
        fs.f.is_vararg &= ~VARARG_NEEDSARG  # don't need 'arg'
        v.init(VVARARG, K.codeABC(fs, OP_VARARG, 0, 1, 0))
    elif kind == _LBRACE:  # constructor
        constructor(ls, v)
        return
    elif kind == TK_FUNCTION:
        ls.next()
        body(ls, v, False, ls.linenumber)
        return
    else:
        primaryexp(ls, v)
        return
    ls.next()


_UNOPR = {TK_NOT: OPR_NOT, ord("-"): OPR_MINUS, ord("#"): OPR_LEN}
_BINOPR = {
    ord("+"): OPR_ADD,
    ord("-"): OPR_SUB,
    ord("*"): OPR_MUL,
    ord("/"): OPR_DIV,
    ord("%"): OPR_MOD,
    ord("^"): OPR_POW,
    TK_CONCAT: OPR_CONCAT,
    TK_NE: OPR_NE,
    TK_EQ: OPR_EQ,
    ord("<"): OPR_LT,
    TK_LE: OPR_LE,
    ord(">"): OPR_GT,
    TK_GE: OPR_GE,
    TK_AND: OPR_AND,
    TK_OR: OPR_OR,
}
# (left, right) priority per BinOpr; if this changes, UNARY_PRIORITY must stay above
# every left priority except power's
PRIORITY = (
    (6, 6), (6, 6), (7, 7), (7, 7), (7, 7),  # `+' `-' `*' `/' `%'
    (10, 9), (5, 4),  # power and concat (right associative)
    (3, 3), (3, 3),  # equality and inequality
    (3, 3), (3, 3), (3, 3), (3, 3),  # order
    (2, 2), (1, 1),  # logical (and/or)
)  # fmt: skip
UNARY_PRIORITY = 8


def subexpr(ls: LexState, v: ExpDesc, limit: int) -> int | None:
    """subexpr -> (simpleexp | unop subexpr) { binop subexpr }

    where `binop' is any binary operator with a priority higher than `limit'.
    Returns the first operator not handled.
    """
    enterlevel(ls)
    uop = _UNOPR.get(ls.t.kind)
    if uop is not None:
        ls.next()
        subexpr(ls, v, UNARY_PRIORITY)
        K.prefix(ls.fs, uop, v)
    else:
        simpleexp(ls, v)
    # expand while operators have priorities higher than `limit'
    op = _BINOPR.get(ls.t.kind)
    while op is not None and PRIORITY[op][0] > limit:
        v2 = ExpDesc()
        ls.next()
        K.infix(ls.fs, op, v)
        # read sub-expression with higher priority
        nextop = subexpr(ls, v2, PRIORITY[op][1])
        K.posfix(ls.fs, op, v, v2)
        op = nextop
    leavelevel(ls)
    return op


def expr(ls: LexState, v: ExpDesc) -> None:
    subexpr(ls, v, 0)


# --- rules for statements -----------------------------------------------------------

_BLOCK_FOLLOW = frozenset((TK_ELSE, TK_ELSEIF, TK_END, TK_UNTIL, TK_EOS))


def block(ls: LexState) -> None:
    # block -> chunk
    fs = ls.fs
    new_block(fs, False)
    chunk(ls)
    leaveblock(fs)


class LHSAssign:
    """A variable on the left-hand side of an assignment, chained to the previous ones."""

    __slots__ = ("prev", "v")

    def __init__(self, prev: "LHSAssign | None"):
        self.prev = prev
        self.v = ExpDesc()


def check_conflict(ls: LexState, lh: LHSAssign | None, v: ExpDesc) -> None:
    """Copy local `v` to a safe register if a previous indexed target uses it."""
    fs = ls.fs
    extra = fs.freereg  # eventual position to save local variable
    conflict = False
    while lh is not None:
        if lh.v.k == VINDEXED:
            if lh.v.info == v.info:  # conflict?
                conflict = True
                lh.v.info = extra  # previous assignment will use safe copy
            if lh.v.aux == v.info:  # conflict?
                conflict = True
                lh.v.aux = extra  # previous assignment will use safe copy
        lh = lh.prev
    if conflict:
        K.codeABC(fs, OP_MOVE, fs.freereg, v.info, 0)  # make copy
        K.reserveregs(fs, 1)


def assignment(ls: LexState, lh: LHSAssign, nvars: int) -> None:
    e = ExpDesc()
    check_condition(ls, VLOCAL <= lh.v.k <= VINDEXED, "syntax error")
    if testnext(ls, _COMMA):  # assignment -> `,' primaryexp assignment
        nv = LHSAssign(lh)
        primaryexp(ls, nv.v)
        if nv.v.k == VLOCAL:
            check_conflict(ls, lh, nv.v)
        checklimit(ls.fs, nvars, LUAI_MAXCCALLS - ls.nccalls, "variables in assignment")
        assignment(ls, nv, nvars + 1)
    else:  # assignment -> `=' explist1
        checknext(ls, _ASSIGN)
        nexps = explist1(ls, e)
        if nexps != nvars:
            adjust_assign(ls, nvars, nexps, e)
            if nexps > nvars:
                ls.fs.freereg -= nexps - nvars  # remove extra values
        else:
            K.setoneret(ls.fs, e)  # close last expression
            K.storevar(ls.fs, lh.v, e)
            return  # avoid default
    e.init(VNONRELOC, ls.fs.freereg - 1)  # default assignment
    K.storevar(ls.fs, lh.v, e)


def cond(ls: LexState) -> int:
    # cond -> exp
    v = ExpDesc()
    expr(ls, v)  # read condition
    if v.k == VNIL:
        v.k = VFALSE  # `falses' are all equal here
    K.goiftrue(ls.fs, v)
    return v.f


def breakstat(ls: LexState) -> None:
    fs = ls.fs
    bl = fs.bl
    upval = False
    while bl is not None and not bl.isbreakable:
        upval |= bl.upval
        bl = bl.previous
    if bl is None:
        raise ls.syntaxerror("no loop to break")
    if upval:
        K.codeABC(fs, OP_CLOSE, bl.nactvar, 0, 0)
    bl.breaklist = K.concat(fs, bl.breaklist, K.jump(fs))


def whilestat(ls: LexState, line: int) -> None:
    # whilestat -> WHILE cond DO block END
    fs = ls.fs
    ls.next()  # skip WHILE
    whileinit = K.getlabel(fs)
    condexit = cond(ls)
    new_block(fs, True)
    checknext(ls, TK_DO)
    block(ls)
    K.patchlist(fs, K.jump(fs), whileinit)
    check_match(ls, TK_END, TK_WHILE, line)
    leaveblock(fs)
    K.patchtohere(fs, condexit)  # false conditions finish the loop


def repeatstat(ls: LexState, line: int) -> None:
    # repeatstat -> REPEAT block UNTIL cond
    fs = ls.fs
    repeat_init = K.getlabel(fs)
    new_block(fs, True)  # loop block
    bl2 = new_block(fs, False)  # scope block
    ls.next()  # skip REPEAT
    chunk(ls)
    check_match(ls, TK_UNTIL, TK_REPEAT, line)
    condexit = cond(ls)  # read condition (inside scope block)
    if not bl2.upval:  # no upvalues?
        leaveblock(fs)  # finish scope
        K.patchlist(fs, condexit, repeat_init)  # close the loop
    else:  # complete semantics when there are upvalues
        breakstat(ls)  # if condition then break
        K.patchtohere(fs, condexit)  # else...
        leaveblock(fs)  # finish scope...
        K.patchlist(fs, K.jump(fs), repeat_init)  # and repeat
    leaveblock(fs)  # finish loop


def exp1(ls: LexState) -> int:
    e = ExpDesc()
    expr(ls, e)
    k = e.k
    K.exp2nextreg(ls.fs, e)
    return k


def forbody(ls: LexState, base: int, line: int, nvars: int, isnum: bool) -> None:
    # forbody -> DO block
    fs = ls.fs
    adjustlocalvars(ls, 3)  # control variables
    checknext(ls, TK_DO)
    prep = K.codeAsBx(fs, OP_FORPREP, base, NO_JUMP) if isnum else K.jump(fs)
    new_block(fs, False)  # scope for declared variables
    adjustlocalvars(ls, nvars)
    K.reserveregs(fs, nvars)
    block(ls)
    leaveblock(fs)  # end of scope for declared variables
    K.patchtohere(fs, prep)
    if isnum:
        endfor = K.codeAsBx(fs, OP_FORLOOP, base, NO_JUMP)
    else:
        endfor = K.codeABC(fs, OP_TFORLOOP, base, 0, nvars)
    K.fixline(fs, line)  # pretend that `OP_FOR' starts the loop
    K.patchlist(fs, endfor if isnum else K.jump(fs), prep + 1)


def fornum(ls: LexState, varname: bytes, line: int) -> None:
    # fornum -> NAME = exp1,exp1[,exp1] forbody
    fs = ls.fs
    base = fs.freereg
    new_localvar(ls, b"(for index)", 0)
    new_localvar(ls, b"(for limit)", 1)
    new_localvar(ls, b"(for step)", 2)
    new_localvar(ls, varname, 3)
    checknext(ls, _ASSIGN)
    exp1(ls)  # initial value
    checknext(ls, _COMMA)
    exp1(ls)  # limit
    if testnext(ls, _COMMA):
        exp1(ls)  # optional step
    else:  # default step = 1
        K.codeABx(fs, OP_LOADK, fs.freereg, K.numberK(fs, 1 if fs.integral else 1.0))
        K.reserveregs(fs, 1)
    forbody(ls, base, line, 1, True)


def forlist(ls: LexState, indexname: bytes) -> None:
    # forlist -> NAME {,NAME} IN explist1 forbody
    fs = ls.fs
    e = ExpDesc()
    base = fs.freereg
    # create control variables
    new_localvar(ls, b"(for generator)", 0)
    new_localvar(ls, b"(for state)", 1)
    new_localvar(ls, b"(for control)", 2)
    # create declared variables
    new_localvar(ls, indexname, 3)
    nvars = 4
    while testnext(ls, _COMMA):
        new_localvar(ls, str_checkname(ls), nvars)
        nvars += 1
    checknext(ls, TK_IN)
    line = ls.linenumber
    adjust_assign(ls, 3, explist1(ls, e), e)
    K.checkstack(fs, 3)  # extra space to call generator
    forbody(ls, base, line, nvars - 3, False)


def forstat(ls: LexState, line: int) -> None:
    # forstat -> FOR (fornum | forlist) END
    fs = ls.fs
    new_block(fs, True)  # scope for loop and control variables
    ls.next()  # skip `for'
    varname = str_checkname(ls)  # first variable name
    kind = ls.t.kind
    if kind == _ASSIGN:
        fornum(ls, varname, line)
    elif kind == _COMMA or kind == TK_IN:
        forlist(ls, varname)
    else:
        raise ls.syntaxerror("'=' or 'in' expected")
    check_match(ls, TK_END, TK_FOR, line)
    leaveblock(fs)  # loop scope (`break' jumps to this point)


def test_then_block(ls: LexState) -> int:
    # test_then_block -> [IF | ELSEIF] cond THEN block
    ls.next()  # skip IF or ELSEIF
    condexit = cond(ls)
    checknext(ls, TK_THEN)
    block(ls)  # `then' part
    return condexit


def ifstat(ls: LexState, line: int) -> None:
    # ifstat -> IF cond THEN block {ELSEIF cond THEN block} [ELSE block] END
    fs = ls.fs
    escapelist = NO_JUMP
    flist = test_then_block(ls)  # IF cond THEN block
    while ls.t.kind == TK_ELSEIF:
        escapelist = K.concat(fs, escapelist, K.jump(fs))
        K.patchtohere(fs, flist)
        flist = test_then_block(ls)  # ELSEIF cond THEN block
    if ls.t.kind == TK_ELSE:
        escapelist = K.concat(fs, escapelist, K.jump(fs))
        K.patchtohere(fs, flist)
        ls.next()  # skip ELSE (after patch, for correct line info)
        block(ls)  # `else' part
    else:
        escapelist = K.concat(fs, escapelist, flist)
    K.patchtohere(fs, escapelist)
    check_match(ls, TK_END, TK_IF, line)


def localfunc(ls: LexState) -> None:
    fs = ls.fs
    v, b = ExpDesc(), ExpDesc()
    new_localvar(ls, str_checkname(ls), 0)
    v.init(VLOCAL, fs.freereg)
    K.reserveregs(fs, 1)
    adjustlocalvars(ls, 1)
    body(ls, b, False, ls.linenumber)
    K.storevar(fs, v, b)


def localstat(ls: LexState) -> None:
    # stat -> LOCAL NAME {`,' NAME} [`=' explist1]
    nvars = 0
    e = ExpDesc()
    while True:
        new_localvar(ls, str_checkname(ls), nvars)
        nvars += 1
        if not testnext(ls, _COMMA):
            break
    if testnext(ls, _ASSIGN):
        nexps = explist1(ls, e)
    else:
        e.k = VVOID
        nexps = 0
    adjust_assign(ls, nvars, nexps, e)
    adjustlocalvars(ls, nvars)


def funcname(ls: LexState, v: ExpDesc) -> bool:
    # funcname -> NAME {field} [`:' NAME]
    needself = False
    singlevar(ls, v)
    while ls.t.kind == _DOT:
        field(ls, v)
    if ls.t.kind == _COLON:
        needself = True
        field(ls, v)
    return needself


def funcstat(ls: LexState, line: int) -> None:
    # funcstat -> FUNCTION funcname body
    v, b = ExpDesc(), ExpDesc()
    ls.next()  # skip FUNCTION
    needself = funcname(ls, v)
    body(ls, b, needself, line)
    K.storevar(ls.fs, v, b)
    K.fixline(ls.fs, line)  # definition `happens' in the first line


def exprstat(ls: LexState) -> None:
    # stat -> func | assignment
    fs = ls.fs
    v = LHSAssign(None)
    primaryexp(ls, v.v)
    if v.v.k == VCALL:  # stat -> func
        K.setcode(fs, v.v, K.setarg_c(K.getcode(fs, v.v), 1))  # call statement uses no results
    else:  # stat -> assignment
        assignment(ls, v, 1)


def retstat(ls: LexState) -> None:
    # stat -> RETURN explist
    fs = ls.fs
    e = ExpDesc()
    ls.next()  # skip RETURN
    if ls.t.kind in _BLOCK_FOLLOW or ls.t.kind == _SEMI:
        first = nret = 0  # return no values
    else:
        nret = explist1(ls, e)  # optional return values
        if e.k == VCALL or e.k == VVARARG:
            K.setmultret(fs, e)
            if e.k == VCALL and nret == 1:  # tail call?
                i = K.getcode(fs, e)
                K.setcode(fs, e, (i & ~0x3F) | OP_TAILCALL)
            # the call's register is nactvar unless registers stay reserved
            # (forlist's extra expressions); RETURN names nactvar all the same
            first = fs.nactvar
            nret = LUA_MULTRET  # return all values
        elif nret == 1:  # only one single value?
            first = K.exp2anyreg(fs, e)
        else:
            K.exp2nextreg(fs, e)  # values must go to the `stack'
            first = fs.nactvar  # return all `active' values
    K.ret(fs, first, nret)


def statement(ls: LexState) -> bool:
    """One statement; True if it must be the last one of its block."""
    line = ls.linenumber  # may be needed for error messages
    kind = ls.t.kind
    if kind == TK_IF:  # stat -> ifstat
        ifstat(ls, line)
    elif kind == TK_WHILE:  # stat -> whilestat
        whilestat(ls, line)
    elif kind == TK_DO:  # stat -> DO block END
        ls.next()  # skip DO
        block(ls)
        check_match(ls, TK_END, TK_DO, line)
    elif kind == TK_FOR:  # stat -> forstat
        forstat(ls, line)
    elif kind == TK_REPEAT:  # stat -> repeatstat
        repeatstat(ls, line)
    elif kind == TK_FUNCTION:  # stat -> funcstat
        funcstat(ls, line)
    elif kind == TK_LOCAL:  # stat -> localstat
        ls.next()  # skip LOCAL
        if testnext(ls, TK_FUNCTION):  # local function?
            localfunc(ls)
        else:
            localstat(ls)
    elif kind == TK_RETURN:  # stat -> retstat
        retstat(ls)
        return True  # must be last statement
    elif kind == TK_BREAK:  # stat -> breakstat
        ls.next()  # skip BREAK
        breakstat(ls)
        return True  # must be last statement
    else:
        exprstat(ls)
    return False


def chunk(ls: LexState) -> None:
    # chunk -> { stat [`;'] }
    islast = False
    enterlevel(ls)
    while not islast and ls.t.kind not in _BLOCK_FOLLOW:
        islast = statement(ls)
        testnext(ls, _SEMI)
        fs = ls.fs
        fs.freereg = fs.nactvar  # free registers
    leavelevel(ls)
