"""Lua 5.3 parser, as NodeMCU's app/lua53 `lparser.c`: one function per grammar rule.

A one-pass compiler without a syntax tree: each rule drives the code
generator (`luacross.lua53.codegen`) as it goes. NodeMCU's luac.cross keeps
line info but drops local and upvalue names right after parsing
(`compile_stripdebug`), so finished protos carry no names; the packed line
info ends with the 0 byte `close_func` appends.
"""

import sys
from typing import Final, cast

from lfs_format.instruction import MAXARG_BX, POS_B, POS_C
from lfs_format.lua53.opcodes import (
    LFIELDS_PER_FLUSH,
    LUAI_MAXCCALLS,
    MAX_INT,
    MAXUPVAL,
    MAXVARS,
    OP_CALL,
    OP_CLOSURE,
    OP_FORLOOP,
    OP_FORPREP,
    OP_GETUPVAL,
    OP_MOVE,
    OP_NEWTABLE,
    OP_SETTABLE,
    OP_TAILCALL,
    OP_TFORCALL,
    OP_TFORLOOP,
    OP_VARARG,
)
from lfs_format.lua53.proto import Proto, Upvaldesc
from lfs_format.target import Lua53Target
from luacross.lua53.codegen import (
    LUA_MULTRET,
    NO_JUMP,
    OPR_NOBINOPR,
    OPR_NOUNOPR,
    VCALL,
    VFALSE,
    VINDEXED,
    VK,
    VKFLT,
    VKINT,
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
    growvector_error,
    int2fb,
)
from luacross.lua53.lexer import (
    RESERVED,
    TK_AND,
    TK_BREAK,
    TK_CONCAT,
    TK_DBCOLON,
    TK_DO,
    TK_DOTS,
    TK_ELSE,
    TK_ELSEIF,
    TK_END,
    TK_EOS,
    TK_EQ,
    TK_FALSE,
    TK_FLT,
    TK_FOR,
    TK_FUNCTION,
    TK_GE,
    TK_GOTO,
    TK_IDIV,
    TK_IF,
    TK_IN,
    TK_INT,
    TK_LE,
    TK_LOCAL,
    TK_NAME,
    TK_NE,
    TK_NIL,
    TK_NOT,
    TK_OR,
    TK_REPEAT,
    TK_RETURN,
    TK_SHL,
    TK_SHR,
    TK_STRING,
    TK_THEN,
    TK_TRUE,
    TK_UNTIL,
    TK_WHILE,
    LexState,
    LuaSyntaxError,
    decode,
    token2str,
)

__all__ = ["compile_source", "LuaSyntaxError"]

_LPAREN, _RPAREN, _LBRACE, _RBRACE = ord("("), ord(")"), ord("{"), ord("}")
_LBRACKET, _RBRACKET, _DOT, _COLON = ord("["), ord("]"), ord("."), ord(":")
_COMMA, _SEMI, _ASSIGN = ord(","), ord(";"), ord("=")

MIN_RECURSION_LIMIT: Final = 25 * LUAI_MAXCCALLS + 2000
INITIAL_NCCALLS: Final = 1  # luac.cross parses inside lua_pcall(pmain): one C level in use

# operator tables: token -> UnOpr / BinOpr; BinOpr -> (left, right) priority
_UNOPR = {TK_NOT: 2, ord("-"): 0, ord("~"): 1, ord("#"): 3}
_BINOPR = {
    ord("+"): 0, ord("-"): 1, ord("*"): 2, ord("%"): 3, ord("^"): 4, ord("/"): 5,
    TK_IDIV: 6, ord("&"): 7, ord("|"): 8, ord("~"): 9, TK_SHL: 10, TK_SHR: 11,
    TK_CONCAT: 12, TK_EQ: 13, ord("<"): 14, TK_LE: 15, TK_NE: 16, ord(">"): 17,
    TK_GE: 18, TK_AND: 19, TK_OR: 20,
}  # fmt: skip
_PRIORITY = (
    (10, 10), (10, 10), (11, 11), (11, 11), (14, 13), (11, 11), (11, 11),
    (6, 6), (4, 4), (5, 5), (7, 7), (7, 7), (9, 8),
    (3, 3), (3, 3), (3, 3), (3, 3), (3, 3), (3, 3), (2, 2), (1, 1),
)  # fmt: skip
UNARY_PRIORITY: Final = 12
SHRT_MAX: Final = 32767  # limit of the local variable and label/goto arrays


class Labeldesc:
    """A pending goto or an active label (lparser.h Labeldesc)."""

    __slots__ = ("name", "pc", "line", "nactvar")

    def __init__(self, name: bytes, pc: int, line: int, nactvar: int) -> None:
        self.name = name
        self.pc = pc
        self.line = line
        self.nactvar = nactvar


class Parser:
    """lparser.c over one chunk: the LexState plus Dyndata (active locals,
    pending gotos, active labels)."""

    __slots__ = ("ls", "fs", "target", "kcache", "actvar", "gt", "label", "nccalls")

    fs: FuncState  # the function being compiled (set by open_func)

    def __init__(self, ls: LexState, target: Lua53Target) -> None:
        self.ls = ls
        self.target = target
        self.kcache: dict[object, int] = {}
        self.actvar: list[bytes] = []
        self.gt: list[Labeldesc] = []
        self.label: list[Labeldesc] = []
        self.nccalls = INITIAL_NCCALLS

    # --- errors and token helpers ---------------------------------------------

    def syntaxerror(self, msg: str) -> LuaSyntaxError:
        return self.ls.syntaxerror(msg)

    def semerror(self, msg: str) -> LuaSyntaxError:
        self.ls.t = 0  # no "near <token>"
        return self.ls.syntaxerror(msg)

    def error_expected(self, token: int) -> LuaSyntaxError:
        return self.syntaxerror(f"{token2str(token)} expected")

    def errorlimit(self, fs: FuncState, limit: int, what: str) -> LuaSyntaxError:
        line = fs.f.linedefined
        where = "main function" if line == 0 else f"function at line {line}"
        return self.syntaxerror(f"too many {what} (limit is {limit}) in {where}")

    def checklimit(self, fs: FuncState, v: int, limit: int, what: str) -> None:
        if v > limit:
            raise self.errorlimit(fs, limit, what)

    def testnext(self, c: int) -> bool:
        if self.ls.t == c:
            self.ls.next()
            return True
        return False

    def check(self, c: int) -> None:
        if self.ls.t != c:
            raise self.error_expected(c)

    def checknext(self, c: int) -> None:
        if self.ls.t != c:
            raise self.error_expected(c)
        self.ls.next()

    def check_match(self, what: int, who: int, where: int) -> None:
        if not self.testnext(what):
            if where == self.ls.linenumber:
                raise self.error_expected(what)
            raise self.syntaxerror(
                f"{token2str(what)} expected (to close {token2str(who)} at line {where})"
            )

    def str_checkname(self) -> bytes:
        ls = self.ls
        if ls.t != TK_NAME:
            raise self.error_expected(TK_NAME)
        name = ls.seminfo
        ls.next()
        return cast(bytes, name)

    def codestring(self, e: ExpDesc, s: bytes) -> None:
        e.init(VK, self.fs.stringk(s))

    def checkname(self, e: ExpDesc) -> None:
        self.codestring(e, self.str_checkname())

    # --- variables ----------------------------------------------------------------

    def new_localvar(self, name: bytes) -> None:
        fs = self.fs
        if fs.nlocvars >= SHRT_MAX:  # registerlocalvar's luaM_growvector
            raise growvector_error("local variables", SHRT_MAX)
        fs.nlocvars += 1
        self.checklimit(fs, len(self.actvar) + 1 - fs.firstlocal, MAXVARS, "local variables")
        self.actvar.append(name)

    def adjustlocalvars(self, nvars: int) -> None:
        self.fs.nactvar += nvars

    def removevars(self, fs: FuncState, tolevel: int) -> None:
        del self.actvar[len(self.actvar) - (fs.nactvar - tolevel) :]
        fs.nactvar = tolevel

    def searchvar(self, fs: FuncState, n: bytes) -> int:
        actvar = self.actvar
        base = fs.firstlocal
        for i in range(fs.nactvar - 1, -1, -1):
            if actvar[base + i] == n:
                return i
        return -1

    def newupvalue(self, fs: FuncState, name: bytes, v: ExpDesc) -> int:
        n = len(fs.upnames)
        self.checklimit(fs, n + 1, MAXUPVAL, "upvalues")
        fs.f.upvalues.append(Upvaldesc(None, 1 if v.k == VLOCAL else 0, v.info & 0xFF))
        fs.upnames.append(name)
        return n

    def singlevaraux(self, fs: FuncState | None, n: bytes, var: ExpDesc, base: bool) -> None:
        if fs is None:
            var.init(VVOID, 0)
            return
        v = self.searchvar(fs, n)
        if v >= 0:
            var.init(VLOCAL, v)
            if not base:
                bl = cast(BlockCnt, fs.bl)  # markupval
                while bl.nactvar > v:
                    bl = cast(BlockCnt, bl.previous)
                bl.upval = True
            return
        try:
            idx = fs.upnames.index(n)
        except ValueError:
            self.singlevaraux(fs.prev, n, var, False)
            if var.k == VVOID:
                return
            idx = self.newupvalue(fs, n, var)
        var.init(VUPVAL, idx)

    def singlevar(self, var: ExpDesc) -> None:
        varname = self.str_checkname()
        fs = self.fs
        self.singlevaraux(fs, varname, var, True)
        if var.k == VVOID:
            key = ExpDesc()
            self.singlevaraux(fs, self.ls.envn, var, True)
            self.codestring(key, varname)
            fs.indexed(var, key)

    def adjust_assign(self, nvars: int, nexps: int, e: ExpDesc) -> None:
        fs = self.fs
        extra = nvars - nexps
        if e.k == VCALL or e.k == VVARARG:
            extra += 1
            if extra < 0:
                extra = 0
            fs.setreturns(e, extra)
            if extra > 1:
                fs.reserveregs(extra - 1)
        else:
            if e.k != VVOID:
                fs.exp2nextreg(e)
            if extra > 0:
                reg = fs.freereg
                fs.reserveregs(extra)
                fs.nil(reg, extra)
        if nexps > nvars:
            fs.freereg -= nexps - nvars

    def enterlevel(self) -> None:
        self.nccalls += 1
        self.checklimit(self.fs, self.nccalls, LUAI_MAXCCALLS, "C levels")

    # --- gotos and labels -----------------------------------------------------------

    def closegoto(self, g: int, label: Labeldesc) -> None:
        fs = self.fs
        gt = self.gt[g]
        if gt.nactvar < label.nactvar:
            vname = self.actvar[fs.firstlocal + gt.nactvar]
            raise self.semerror(
                f"<goto {decode(gt.name)}> at line {gt.line} jumps into the scope of local "
                f"'{decode(vname)}'"
            )
        fs.patchlist(gt.pc, label.pc)
        del self.gt[g]

    def findlabel(self, g: int) -> bool:
        fs = self.fs
        bl = cast(BlockCnt, fs.bl)
        gt = self.gt[g]
        labels = self.label
        for i in range(bl.firstlabel, len(labels)):
            lb = labels[i]
            if lb.name == gt.name:
                if gt.nactvar > lb.nactvar and (bl.upval or len(labels) > bl.firstlabel):
                    fs.patchclose(gt.pc, lb.nactvar)
                self.closegoto(g, lb)
                return True
        return False

    def newlabelentry(self, lst: list[Labeldesc], name: bytes, line: int, pc: int) -> int:
        if len(lst) >= SHRT_MAX:
            raise growvector_error("labels/gotos", SHRT_MAX)
        lst.append(Labeldesc(name, pc, line, self.fs.nactvar))
        return len(lst) - 1

    def findgotos(self, lb: Labeldesc) -> None:
        i = cast(BlockCnt, self.fs.bl).firstgoto
        gl = self.gt
        while i < len(gl):
            if gl[i].name == lb.name:
                self.closegoto(i, lb)
            else:
                i += 1

    def movegotosout(self, fs: FuncState, bl: BlockCnt) -> None:
        i = bl.firstgoto
        gl = self.gt
        while i < len(gl):
            gt = gl[i]
            if gt.nactvar > bl.nactvar:
                if bl.upval:
                    fs.patchclose(gt.pc, bl.nactvar)
                gt.nactvar = bl.nactvar
            if not self.findlabel(i):
                i += 1

    def enterblock(self, fs: FuncState, bl: BlockCnt, isloop: bool) -> None:
        bl.isloop = isloop
        bl.nactvar = fs.nactvar
        bl.firstlabel = len(self.label)
        bl.firstgoto = len(self.gt)
        bl.upval = False
        bl.previous = fs.bl
        fs.bl = bl

    def breaklabel(self) -> None:
        idx = self.newlabelentry(self.label, b"break", 0, self.fs.pc)
        self.findgotos(self.label[idx])

    def undefgoto(self, gt: Labeldesc) -> LuaSyntaxError:
        if gt.name in RESERVED:
            msg = f"<{decode(gt.name)}> at line {gt.line} not inside a loop"
        else:
            msg = f"no visible label '{decode(gt.name)}' for <goto> at line {gt.line}"
        return self.semerror(msg)

    def leaveblock(self, fs: FuncState) -> None:
        bl = cast(BlockCnt, fs.bl)  # every function has its outermost block
        if bl.previous is not None and bl.upval:
            j = fs.jump()
            fs.patchclose(j, bl.nactvar)
            fs.patchtohere(j)
        if bl.isloop:
            self.breaklabel()
        fs.bl = bl.previous
        self.removevars(fs, bl.nactvar)
        fs.freereg = fs.nactvar
        del self.label[bl.firstlabel :]
        if bl.previous is not None:
            self.movegotosout(fs, bl)
        elif bl.firstgoto < len(self.gt):
            raise self.undefgoto(self.gt[bl.firstgoto])

    # --- functions --------------------------------------------------------------------

    def open_func(self, prev: FuncState | None, f: Proto, bl: BlockCnt) -> FuncState:
        fs = FuncState(f, self.ls, self.kcache, self.target, self.syntaxerror)
        fs.prev = prev
        self.fs = fs
        fs.firstlocal = len(self.actvar)
        f.source = self.ls.chunkname
        f.maxstacksize = 2
        self.enterblock(fs, bl, False)
        return fs

    def close_func(self) -> None:
        fs = self.fs
        f = fs.f
        fs.ret(0, 0)
        self.leaveblock(fs)
        del f.code[fs.pc :]
        f.lineinfo = fs.lineinfo.packed()
        del f.constants[fs.nk :]
        if fs.prev is not None:  # the main function stays the last one
            self.fs = fs.prev

    def addprototype(self) -> Proto:
        fs = self.fs
        if fs.np >= MAXARG_BX:
            raise growvector_error("functions", MAXARG_BX)
        clp = Proto()
        fs.f.protos.append(clp)
        fs.np += 1
        return clp

    def codeclosure(self, v: ExpDesc) -> None:
        fs = cast(FuncState, self.fs.prev)  # a nested function's enclosing one
        v.init(VRELOCABLE, fs.code_abx(OP_CLOSURE, 0, fs.np - 1))
        fs.exp2nextreg(v)

    # --- grammar ------------------------------------------------------------------------

    def block_follow(self, withuntil: bool) -> bool:
        t = self.ls.t
        if t == TK_ELSE or t == TK_ELSEIF or t == TK_END or t == TK_EOS:
            return True
        return withuntil and t == TK_UNTIL

    def statlist(self) -> None:
        # statlist -> { stat [';'] }
        while not self.block_follow(True):
            if self.ls.t == TK_RETURN:
                self.statement()
                return
            self.statement()

    def fieldsel(self, v: ExpDesc) -> None:
        # fieldsel -> ['.' | ':'] NAME
        fs = self.fs
        key = ExpDesc()
        fs.exp2anyregup(v)
        self.ls.next()
        self.checkname(key)
        fs.indexed(v, key)

    def yindex(self, v: ExpDesc) -> None:
        # index -> '[' expr ']'
        self.ls.next()
        self.expr(v)
        self.fs.exp2val(v)
        self.checknext(_RBRACKET)

    def recfield(self, cc: "ConsControl") -> None:
        # recfield -> (NAME | '['exp1']') = exp1
        fs = self.fs
        reg = fs.freereg
        key = ExpDesc()
        val = ExpDesc()
        if self.ls.t == TK_NAME:
            self.checklimit(fs, cc.nh, MAX_INT, "items in a constructor")
            self.checkname(key)
        else:
            self.yindex(key)
        cc.nh += 1
        self.checknext(_ASSIGN)
        rkkey = fs.exp2rk(key)
        self.expr(val)
        fs.code_abc(OP_SETTABLE, cc.t.info, rkkey, fs.exp2rk(val))
        fs.freereg = reg

    def closelistfield(self, cc: "ConsControl") -> None:
        if cc.v.k == VVOID:
            return
        fs = self.fs
        fs.exp2nextreg(cc.v)
        cc.v.k = VVOID
        if cc.tostore == LFIELDS_PER_FLUSH:
            fs.setlist(cc.t.info, cc.na, cc.tostore)
            cc.tostore = 0

    def lastlistfield(self, cc: "ConsControl") -> None:
        if cc.tostore == 0:
            return
        fs = self.fs
        if cc.v.k == VCALL or cc.v.k == VVARARG:
            fs.setmultret(cc.v)
            fs.setlist(cc.t.info, cc.na, LUA_MULTRET)
            cc.na -= 1
        else:
            if cc.v.k != VVOID:
                fs.exp2nextreg(cc.v)
            fs.setlist(cc.t.info, cc.na, cc.tostore)

    def listfield(self, cc: "ConsControl") -> None:
        self.expr(cc.v)
        self.checklimit(self.fs, cc.na, MAX_INT, "items in a constructor")
        cc.na += 1
        cc.tostore += 1

    def field(self, cc: "ConsControl") -> None:
        t = self.ls.t
        if t == TK_NAME:
            if self.ls.lookahead() != _ASSIGN:
                self.listfield(cc)
            else:
                self.recfield(cc)
        elif t == _LBRACKET:
            self.recfield(cc)
        else:
            self.listfield(cc)

    def constructor(self, t: ExpDesc) -> None:
        # constructor -> '{' [ field { sep field } [sep] ] '}'
        fs = self.fs
        line = self.ls.linenumber
        pc = fs.code_abc(OP_NEWTABLE, 0, 0, 0)
        cc = ConsControl(t)
        t.init(VRELOCABLE, pc)
        fs.exp2nextreg(t)
        self.checknext(_LBRACE)
        while True:
            if self.ls.t == _RBRACE:
                break
            self.closelistfield(cc)
            self.field(cc)
            if not (self.testnext(_COMMA) or self.testnext(_SEMI)):
                break
        self.check_match(_RBRACE, _LBRACE, line)
        self.lastlistfield(cc)
        i = fs.code[pc]
        i = (i & ~(0x1FF << POS_B)) | ((int2fb(cc.na) & 0x1FF) << POS_B)
        i = (i & ~(0x1FF << POS_C)) | ((int2fb(cc.nh) & 0x1FF) << POS_C)
        fs.code[pc] = i

    def parlist(self) -> None:
        # parlist -> [ param { ',' param } ]
        fs = self.fs
        f = fs.f
        nparams = 0
        f.is_vararg = 0
        if self.ls.t != _RPAREN:
            while True:
                t = self.ls.t
                if t == TK_NAME:
                    self.new_localvar(self.str_checkname())
                    nparams += 1
                elif t == TK_DOTS:
                    self.ls.next()
                    f.is_vararg = 1
                else:
                    raise self.syntaxerror("<name> or '...' expected")
                if f.is_vararg or not self.testnext(_COMMA):
                    break
        self.adjustlocalvars(nparams)
        f.numparams = fs.nactvar
        fs.reserveregs(fs.nactvar)

    def body(self, e: ExpDesc, ismethod: bool, line: int) -> None:
        # body ->  '(' parlist ')' block END
        bl = BlockCnt()
        f = self.addprototype()
        f.linedefined = line
        new_fs = self.open_func(self.fs, f, bl)
        self.checknext(_LPAREN)
        if ismethod:
            self.new_localvar(b"self")
            self.adjustlocalvars(1)
        self.parlist()
        self.checknext(_RPAREN)
        self.statlist()
        new_fs.f.lastlinedefined = self.ls.linenumber
        self.check_match(TK_END, TK_FUNCTION, line)
        self.codeclosure(e)
        self.close_func()

    def explist(self, v: ExpDesc) -> int:
        # explist -> expr { ',' expr }
        n = 1
        self.expr(v)
        while self.testnext(_COMMA):
            self.fs.exp2nextreg(v)
            self.expr(v)
            n += 1
        return n

    def funcargs(self, f: ExpDesc, line: int) -> None:
        fs = self.fs
        ls = self.ls
        args = ExpDesc()
        t = ls.t
        if t == _LPAREN:
            ls.next()
            if ls.t == _RPAREN:
                args.k = VVOID
            else:
                self.explist(args)
                fs.setmultret(args)
            self.check_match(_RPAREN, _LPAREN, line)
        elif t == _LBRACE:
            self.constructor(args)
        elif t == TK_STRING:
            self.codestring(args, cast(bytes, ls.seminfo))
            ls.next()
        else:
            raise self.syntaxerror("function arguments expected")
        base = f.info
        if args.k == VCALL or args.k == VVARARG:
            nparams = LUA_MULTRET
        else:
            if args.k != VVOID:
                fs.exp2nextreg(args)
            nparams = fs.freereg - (base + 1)
        f.init(VCALL, fs.code_abc(OP_CALL, base, nparams + 1, 2))
        fs.fixline(line)
        fs.freereg = base + 1

    def primaryexp(self, v: ExpDesc) -> None:
        # primaryexp -> NAME | '(' expr ')'
        ls = self.ls
        t = ls.t
        if t == _LPAREN:
            line = ls.linenumber
            ls.next()
            self.expr(v)
            self.check_match(_RPAREN, _LPAREN, line)
            self.fs.dischargevars(v)
        elif t == TK_NAME:
            self.singlevar(v)
        else:
            raise self.syntaxerror("unexpected symbol")

    def suffixedexp(self, v: ExpDesc) -> None:
        # suffixedexp -> primaryexp { '.' NAME | '[' exp ']' | ':' NAME funcargs | funcargs }
        fs = self.fs
        ls = self.ls
        line = ls.linenumber
        self.primaryexp(v)
        while True:
            t = ls.t
            if t == _DOT:
                self.fieldsel(v)
            elif t == _LBRACKET:
                key = ExpDesc()
                fs.exp2anyregup(v)
                self.yindex(key)
                fs.indexed(v, key)
            elif t == _COLON:
                key = ExpDesc()
                ls.next()
                self.checkname(key)
                fs.self_(v, key)
                self.funcargs(v, line)
            elif t == _LPAREN or t == TK_STRING or t == _LBRACE:
                fs.exp2nextreg(v)
                self.funcargs(v, line)
            else:
                return

    def simpleexp(self, v: ExpDesc) -> None:
        # simpleexp -> FLT | INT | STRING | NIL | TRUE | FALSE | ... |
        #              constructor | FUNCTION body | suffixedexp
        ls = self.ls
        t = ls.t
        if t == TK_FLT:
            v.init(VKFLT, 0)
            v.nval = cast(float, ls.seminfo)
        elif t == TK_INT:
            v.init(VKINT, 0)
            v.ival = cast(int, ls.seminfo)
        elif t == TK_STRING:
            self.codestring(v, cast(bytes, ls.seminfo))
        elif t == TK_NIL:
            v.init(VNIL, 0)
        elif t == TK_TRUE:
            v.init(VTRUE, 0)
        elif t == TK_FALSE:
            v.init(VFALSE, 0)
        elif t == TK_DOTS:
            fs = self.fs
            if not fs.f.is_vararg:
                raise self.syntaxerror("cannot use '...' outside a vararg function")
            v.init(VVARARG, fs.code_abc(OP_VARARG, 0, 1, 0))
        elif t == _LBRACE:
            self.constructor(v)
            return
        elif t == TK_FUNCTION:
            ls.next()
            self.body(v, False, ls.linenumber)
            return
        else:
            self.suffixedexp(v)
            return
        ls.next()

    def subexpr(self, v: ExpDesc, limit: int) -> int:
        # subexpr -> (simpleexp | unop subexpr) { binop subexpr }
        ls = self.ls
        self.enterlevel()
        uop = _UNOPR.get(ls.t, OPR_NOUNOPR)
        if uop != OPR_NOUNOPR:
            line = ls.linenumber
            ls.next()
            self.subexpr(v, UNARY_PRIORITY)
            self.fs.prefix(uop, v, line)
        else:
            self.simpleexp(v)
        op = _BINOPR.get(ls.t, OPR_NOBINOPR)
        while op != OPR_NOBINOPR and _PRIORITY[op][0] > limit:
            v2 = ExpDesc()
            line = ls.linenumber
            ls.next()
            self.fs.infix(op, v)
            nextop = self.subexpr(v2, _PRIORITY[op][1])
            self.fs.posfix(op, v, v2, line)
            op = nextop
        self.nccalls -= 1
        return op

    def expr(self, v: ExpDesc) -> None:
        self.subexpr(v, 0)

    # --- statements --------------------------------------------------------------------

    def block(self) -> None:
        fs = self.fs
        bl = BlockCnt()
        self.enterblock(fs, bl, False)
        self.statlist()
        self.leaveblock(fs)

    def check_conflict(self, lh: "LHSAssign | None", v: ExpDesc) -> None:
        fs = self.fs
        extra = fs.freereg
        conflict = False
        while lh is not None:
            lv = lh.v
            if lv.k == VINDEXED:
                if lv.ind_vt == v.k and lv.ind_t == v.info:
                    conflict = True
                    lv.ind_vt = VLOCAL
                    lv.ind_t = extra
                if v.k == VLOCAL and lv.ind_idx == v.info:
                    conflict = True
                    lv.ind_idx = extra
            lh = lh.prev
        if conflict:
            op = OP_MOVE if v.k == VLOCAL else OP_GETUPVAL
            fs.code_abc(op, extra, v.info, 0)
            fs.reserveregs(1)

    def assignment(self, lh: "LHSAssign", nvars: int) -> None:
        e = ExpDesc()
        if not (VLOCAL <= lh.v.k <= VINDEXED):
            raise self.syntaxerror("syntax error")
        if self.testnext(_COMMA):
            nv = LHSAssign(lh)
            self.suffixedexp(nv.v)
            if nv.v.k != VINDEXED:
                self.check_conflict(lh, nv.v)
            self.checklimit(self.fs, nvars + self.nccalls, LUAI_MAXCCALLS, "C levels")
            self.assignment(nv, nvars + 1)
        else:
            self.checknext(_ASSIGN)
            nexps = self.explist(e)
            if nexps != nvars:
                self.adjust_assign(nvars, nexps, e)
            else:
                self.fs.setoneret(e)
                self.fs.storevar(lh.v, e)
                return
        e.init(VNONRELOC, self.fs.freereg - 1)
        self.fs.storevar(lh.v, e)

    def cond(self) -> int:
        v = ExpDesc()
        self.expr(v)
        if v.k == VNIL:
            v.k = VFALSE
        self.fs.goiftrue(v)
        return v.f

    def gotostat(self, pc: int) -> None:
        ls = self.ls
        line = ls.linenumber
        if self.testnext(TK_GOTO):
            label = self.str_checkname()
        else:
            ls.next()
            label = b"break"
        g = self.newlabelentry(self.gt, label, line, pc)
        self.findlabel(g)

    def checkrepeated(self, fs: FuncState, label: bytes) -> None:
        for i in range(cast(BlockCnt, fs.bl).firstlabel, len(self.label)):
            lb = self.label[i]
            if lb.name == label:
                raise self.semerror(f"label '{decode(label)}' already defined on line {lb.line}")

    def skipnoopstat(self) -> None:
        while self.ls.t == _SEMI or self.ls.t == TK_DBCOLON:
            self.statement()

    def labelstat(self, label: bytes, line: int) -> None:
        fs = self.fs
        self.checkrepeated(fs, label)
        self.checknext(TK_DBCOLON)
        idx = self.newlabelentry(self.label, label, line, fs.getlabel())
        lb = self.label[idx]
        self.skipnoopstat()
        if self.block_follow(False):
            lb.nactvar = cast(BlockCnt, fs.bl).nactvar
        self.findgotos(lb)

    def whilestat(self, line: int) -> None:
        fs = self.fs
        bl = BlockCnt()
        self.ls.next()
        whileinit = fs.getlabel()
        condexit = self.cond()
        self.enterblock(fs, bl, True)
        self.checknext(TK_DO)
        self.block()
        fs.jumpto(whileinit)
        self.check_match(TK_END, TK_WHILE, line)
        self.leaveblock(fs)
        fs.patchtohere(condexit)

    def repeatstat(self, line: int) -> None:
        fs = self.fs
        repeat_init = fs.getlabel()
        bl1 = BlockCnt()
        bl2 = BlockCnt()
        self.enterblock(fs, bl1, True)
        self.enterblock(fs, bl2, False)
        self.ls.next()
        self.statlist()
        self.check_match(TK_UNTIL, TK_REPEAT, line)
        condexit = self.cond()
        if bl2.upval:
            fs.patchclose(condexit, bl2.nactvar)
        self.leaveblock(fs)
        fs.patchlist(condexit, repeat_init)
        self.leaveblock(fs)

    def exp1(self) -> int:
        e = ExpDesc()
        self.expr(e)
        self.fs.exp2nextreg(e)
        return e.info

    def forbody(self, base: int, line: int, nvars: int, isnum: bool) -> None:
        bl = BlockCnt()
        fs = self.fs
        self.adjustlocalvars(3)
        self.checknext(TK_DO)
        prep = fs.code_asbx(OP_FORPREP, base, NO_JUMP) if isnum else fs.jump()
        self.enterblock(fs, bl, False)
        self.adjustlocalvars(nvars)
        fs.reserveregs(nvars)
        self.block()
        self.leaveblock(fs)
        fs.patchtohere(prep)
        if isnum:
            endfor = fs.code_asbx(OP_FORLOOP, base, NO_JUMP)
        else:
            fs.code_abc(OP_TFORCALL, base, 0, nvars)
            fs.fixline(line)
            endfor = fs.code_asbx(OP_TFORLOOP, base + 2, NO_JUMP)
        fs.patchlist(endfor, prep + 1)
        fs.fixline(line)

    def fornum(self, varname: bytes, line: int) -> None:
        fs = self.fs
        base = fs.freereg
        self.new_localvar(b"(for index)")
        self.new_localvar(b"(for limit)")
        self.new_localvar(b"(for step)")
        self.new_localvar(varname)
        self.checknext(_ASSIGN)
        self.exp1()
        self.checknext(_COMMA)
        self.exp1()
        if self.testnext(_COMMA):
            self.exp1()
        else:
            fs.codek(fs.freereg, fs.intk(1))
            fs.reserveregs(1)
        self.forbody(base, line, 1, True)

    def forlist(self, indexname: bytes) -> None:
        fs = self.fs
        e = ExpDesc()
        nvars = 4
        base = fs.freereg
        self.new_localvar(b"(for generator)")
        self.new_localvar(b"(for state)")
        self.new_localvar(b"(for control)")
        self.new_localvar(indexname)
        while self.testnext(_COMMA):
            self.new_localvar(self.str_checkname())
            nvars += 1
        self.checknext(TK_IN)
        line = self.ls.linenumber
        self.adjust_assign(3, self.explist(e), e)
        fs.checkstack(3)
        self.forbody(base, line, nvars - 3, False)

    def forstat(self, line: int) -> None:
        fs = self.fs
        bl = BlockCnt()
        self.enterblock(fs, bl, True)
        self.ls.next()
        varname = self.str_checkname()
        t = self.ls.t
        if t == _ASSIGN:
            self.fornum(varname, line)
        elif t == _COMMA or t == TK_IN:
            self.forlist(varname)
        else:
            raise self.syntaxerror("'=' or 'in' expected")
        self.check_match(TK_END, TK_FOR, line)
        self.leaveblock(fs)

    def test_then_block(self, escapelist: int) -> int:
        """test_then_block -> [IF | ELSEIF] cond THEN block; returns the escape list."""
        bl = BlockCnt()
        fs = self.fs
        ls = self.ls
        v = ExpDesc()
        ls.next()
        self.expr(v)
        self.checknext(TK_THEN)
        if ls.t == TK_GOTO or ls.t == TK_BREAK:
            fs.goiffalse(v)
            self.enterblock(fs, bl, False)
            self.gotostat(v.t)
            while self.testnext(_SEMI):
                pass
            if self.block_follow(False):
                self.leaveblock(fs)
                return escapelist
            jf = fs.jump()
        else:
            fs.goiftrue(v)
            self.enterblock(fs, bl, False)
            jf = v.f
        self.statlist()
        self.leaveblock(fs)
        if ls.t == TK_ELSE or ls.t == TK_ELSEIF:
            escapelist = fs.concat(escapelist, fs.jump())
        fs.patchtohere(jf)
        return escapelist

    def ifstat(self, line: int) -> None:
        fs = self.fs
        escapelist = self.test_then_block(NO_JUMP)
        while self.ls.t == TK_ELSEIF:
            escapelist = self.test_then_block(escapelist)
        if self.testnext(TK_ELSE):
            self.block()
        self.check_match(TK_END, TK_IF, line)
        fs.patchtohere(escapelist)

    def localfunc(self) -> None:
        b = ExpDesc()
        self.new_localvar(self.str_checkname())
        self.adjustlocalvars(1)
        self.body(b, False, self.ls.linenumber)

    def localstat(self) -> None:
        nvars = 0
        e = ExpDesc()
        while True:
            self.new_localvar(self.str_checkname())
            nvars += 1
            if not self.testnext(_COMMA):
                break
        if self.testnext(_ASSIGN):
            nexps = self.explist(e)
        else:
            e.k = VVOID
            nexps = 0
        self.adjust_assign(nvars, nexps, e)
        self.adjustlocalvars(nvars)

    def funcname(self, v: ExpDesc) -> bool:
        ismethod = False
        self.singlevar(v)
        while self.ls.t == _DOT:
            self.fieldsel(v)
        if self.ls.t == _COLON:
            ismethod = True
            self.fieldsel(v)
        return ismethod

    def funcstat(self, line: int) -> None:
        v = ExpDesc()
        b = ExpDesc()
        self.ls.next()
        ismethod = self.funcname(v)
        self.body(b, ismethod, line)
        self.fs.storevar(v, b)
        self.fs.fixline(line)

    def exprstat(self) -> None:
        fs = self.fs
        v = LHSAssign(None)
        self.suffixedexp(v.v)
        if self.ls.t == _ASSIGN or self.ls.t == _COMMA:
            self.assignment(v, 1)
        else:
            if v.v.k != VCALL:
                raise self.syntaxerror("syntax error")
            pc = v.v.info
            fs.code[pc] = (fs.code[pc] & ~(0x1FF << POS_C)) | (1 << POS_C)

    def retstat(self) -> None:
        fs = self.fs
        e = ExpDesc()
        if self.block_follow(True) or self.ls.t == _SEMI:
            first = nret = 0
        else:
            nret = self.explist(e)
            if e.k == VCALL or e.k == VVARARG:
                fs.setmultret(e)
                if e.k == VCALL and nret == 1:
                    pc = e.info
                    fs.code[pc] = (fs.code[pc] & ~0x3F) | OP_TAILCALL
                first = fs.nactvar
                nret = LUA_MULTRET
            elif nret == 1:
                first = fs.exp2anyreg(e)
            else:
                fs.exp2nextreg(e)
                first = fs.nactvar
        fs.ret(first, nret)
        self.testnext(_SEMI)

    def statement(self) -> None:
        ls = self.ls
        line = ls.linenumber
        self.enterlevel()
        t = ls.t
        if t == _SEMI:
            ls.next()
        elif t == TK_IF:
            self.ifstat(line)
        elif t == TK_WHILE:
            self.whilestat(line)
        elif t == TK_DO:
            ls.next()
            self.block()
            self.check_match(TK_END, TK_DO, line)
        elif t == TK_FOR:
            self.forstat(line)
        elif t == TK_REPEAT:
            self.repeatstat(line)
        elif t == TK_FUNCTION:
            self.funcstat(line)
        elif t == TK_LOCAL:
            ls.next()
            if self.testnext(TK_FUNCTION):
                self.localfunc()
            else:
                self.localstat()
        elif t == TK_DBCOLON:
            ls.next()
            self.labelstat(self.str_checkname(), line)
        elif t == TK_RETURN:
            ls.next()
            self.retstat()
        elif t == TK_BREAK or t == TK_GOTO:
            self.gotostat(self.fs.jump())
        else:
            self.exprstat()
        self.fs.freereg = self.fs.nactvar
        self.nccalls -= 1

    def mainfunc(self, f: Proto) -> None:
        bl = BlockCnt()
        fs = self.open_func(None, f, bl)
        f.is_vararg = 1
        v = ExpDesc()
        v.init(VLOCAL, 0)
        self.newupvalue(fs, self.ls.envn, v)
        self.ls.next()
        self.statlist()
        self.check(TK_EOS)
        self.close_func()


class ConsControl:
    """A table constructor being compiled (lparser.c struct ConsControl)."""

    __slots__ = ("v", "t", "nh", "na", "tostore")

    def __init__(self, t: ExpDesc) -> None:
        self.v = ExpDesc()
        self.t = t
        self.nh = 0
        self.na = 0
        self.tostore = 0


class LHSAssign:
    """One target of a multiple assignment (lparser.c struct LHS_assign)."""

    __slots__ = ("prev", "v")

    def __init__(self, prev: "LHSAssign | None") -> None:
        self.prev = prev
        self.v = ExpDesc()


def compile_source(source: bytes, chunkname: bytes, target: Lua53Target) -> Proto:
    """Compile a Lua 5.3 chunk as NodeMCU's luac.cross (luaY_parser) does.

    `source` is what lua_load reads (`luacross.lua53.core.loadfile_stream` makes
    it from a file as luaL_loadfile does); `chunkname` e.g. b"@file.lua" or b"=stdin".
    Raises LuaSyntaxError with luac.cross's message (without the program name).
    """
    if sys.getrecursionlimit() < MIN_RECURSION_LIMIT:
        sys.setrecursionlimit(MIN_RECURSION_LIMIT)
    ls = LexState(source, chunkname, target)
    parser = Parser(ls, target)
    main = Proto()
    parser.mainfunc(main)
    return main
