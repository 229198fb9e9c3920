"""`luacross inspect FILE...`: what each file is, what is inside, and how big each part is.

`examine(path)` returns a report (plain dicts and lists, the JSON document's
`files[]` entries, schema in docs/inspect-json.md); `render(report)` gives the
text; `listing(path, full=...)` the luac.cross `-l` listing of a `.lc` or of an
image's lookup main.

Image sizes are the bytes each part occupies in flash, computed from the layout
the firmware gives them (lflashimg.c for Lua 5.1, lundump.c's LFS mode for 5.3):
every module gets its Proto records, code, constants, nested functions, debug
information and its share of the strings it uses (a string used by k modules is
split k ways); what belongs to no module (the header, the string table's bucket
vector, the lookup main or ROTable, strings only the image itself uses) is the
image's overhead, so that the modules and the overhead add up to the flash size.
"""

import os
from typing import Any

from lfs_format import sniff as sniffing
from lfs_format.errors import LuacrossError

SCHEMA = "luacross-inspect/1"
WORD = 4


def _words(nbytes: int) -> int:
    return (nbytes + WORD - 1) // WORD * WORD


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", "backslashreplace")


class _Shares:
    """Splits each string's flash bytes among the modules that use it."""

    def __init__(self) -> None:
        self.users: dict[bytes, list[int]] = {}
        self.kind: dict[bytes, str] = {}

    def use(self, module: int, value: bytes, kind: str = "strings") -> None:
        users = self.users.setdefault(value, [])
        if module not in users:
            users.append(module)
        self.kind.setdefault(value, kind)

    def split(self, size_of) -> dict[int, dict[str, int]]:
        """{module: {kind: bytes}}: each string's bytes split among its users (the
        first users get the remainder's bytes), under the kind of its first use."""
        out: dict[int, dict[str, int]] = {}
        for value, users in self.users.items():
            total = size_of(value)
            base, extra = divmod(total, len(users))
            for i, module in enumerate(users):
                kinds = out.setdefault(module, {})
                kind = self.kind[value]
                kinds[kind] = kinds.get(kind, 0) + base + (1 if i < extra else 0)
        return out


def _module_row(name: str, index: int) -> dict[str, Any]:
    return {
        "name": name, "index": index, "bytes": 0, "functions": 0, "instructions": 0,
        "code": 0, "constants": 0, "nested": 0, "debug": 0, "records": 0, "strings": 0,
    }  # fmt: skip


# -- Lua 5.1 ----------------------------------------------------------------------


def _walk51(f, module: int, shares: _Shares, seen: set[int], tv: int, row: dict, depth: int):
    """Add the flash bytes of `f` (and its children) to `row`; returns them."""
    if id(f) in seen:
        return 0
    seen.add(id(f))
    row["functions"] += 1
    row["instructions"] += len(f.code)
    own = {
        "records": 18 * WORD + WORD * len(f.protos),
        "code": WORD * len(f.code),
        "constants": tv * len(f.constants),
        "debug": 12 * len(f.locvars) + WORD * len(f.upvalues),
    }
    if f.source is not None:
        shares.use(module, f.source, "strings")
    if f.packedlineinfo is not None:
        shares.use(module, f.packedlineinfo.split(b"\0", 1)[0], "debug")
    for k in f.constants:
        if isinstance(k, bytes):
            shares.use(module, k, "strings")
    for name in f.upvalues:
        if name is not None:
            shares.use(module, name, "debug")
    for var in f.locvars:
        if var.varname is not None:
            shares.use(module, var.varname, "debug")
    total = sum(own.values())
    if depth == 0:
        for key, value in own.items():
            row[key] += value
    for child in f.protos:
        sub = _walk51(child, module, shares, seen, tv, row, depth + 1)
        if depth == 0:
            row["nested"] += sub
        total += sub
    return total


def _image51(data: bytes, found: sniffing.Sniffed) -> dict[str, Any]:
    from lfs_format.flash import SimulatedFlash
    from lfs_format.lua51 import loader
    from lfs_format.lua51.image_structs import tvalue_size
    from lfs_format.target import FLOAT, INT

    integral = found.build == "int"
    target = INT if integral else FLOAT
    if found.absolute:
        base = loader.absolute_base(data) or 0
        size = _words(len(data))
        flash = SimulatedFlash(base=base, size=(size + 4095) // 4096 * 4096)
        loader.place_absolute(data, flash)
        compressed = None
    else:
        validated = loader.LoaderPass(integral=integral).first(data)
        base = 0x40210000 + 0x80000  # any mapped base: the image relocates there
        flash = SimulatedFlash(base=base, size=(validated.flash_size + 4095) // 4096 * 4096)
        loader.LoaderPass(integral=integral).second(validated, flash)
        compressed = len(data)
    boot = loader.boot(flash, integral)
    if not boot.booted:
        raise LuacrossError((boot.message or "").strip())
    main = loader.read_partition(flash, integral)
    tv = tvalue_size(target)
    names = [k for k in main.constants[: len(main.protos)] if isinstance(k, bytes)]
    timestamp = main.constants[len(main.protos)] if len(main.constants) > len(main.protos) else None
    shares = _Shares()
    modules = []
    seen: set[int] = set()
    for i, proto in enumerate(main.protos):
        name = _text(names[i]) if i < len(names) else f"#{i + 1}"
        row = _module_row(name or "", i)
        row["bytes"] = _walk51(proto, i, shares, seen, tv, row, 0)
        modules.append(row)
    main_row = _module_row("", -1)
    main_bytes = _walk51(main, -1, shares, seen, tv, main_row, 0) - main_row["nested"]
    split = shares.split(lambda s: WORD * 4 + _words(len(s) + 1))
    for row in modules:
        for kind, value in split.get(row["index"], {}).items():
            row[kind] += value
            row["bytes"] += value
    main_strings = sum(split.get(-1, {}).values())
    strings = len(shares.users)
    overhead = {
        "header": 32,
        "string_table": WORD * boot.nrosize,  # the bucket vector (ESP32 builds: larger)
        "lookup_main": main_bytes,
        "strings": main_strings,
    }
    string_bytes = sum(WORD * 4 + _words(len(s) + 1) for s in shares.users)
    return {
        "lua": "5.1",
        "build": found.build,
        "absolute": found.absolute,
        "address": base if found.absolute else None,
        "flash_size": boot.flash_size,
        "compressed_size": compressed,
        "timestamp": int(timestamp) if isinstance(timestamp, (int, float)) else None,
        "seed": None,
        "strings": {"count": strings, "bytes": string_bytes},
        "overhead": overhead,
        "modules": modules,
        "_main": main,
        "_target": target,
    }


# -- Lua 5.3 ----------------------------------------------------------------------


def _target53(build: str | None):
    """The Lua 5.3 target of a build name (ESP32 builds included)."""
    from lfs_format.sniff import SIZES53
    from lfs_format.target import LUA53, LUA53_64, Lua53Target

    known = {"lua53": LUA53, "lua53-64": LUA53_64}
    if build in known:
        return known[build]
    int_size, float_size = SIZES53.get(build or "lua53", (4, 4))
    return Lua53Target(build or "lua53", int_size=int_size, float_size=float_size)


def _walk53(f, module: int, shares: _Shares, tv: int, row: dict, depth: int) -> int:
    row["functions"] += 1
    row["instructions"] += len(f.code)
    own = {
        "records": 19 * WORD + WORD * len(f.protos) + 8 * len(f.upvalues),
        "code": WORD * len(f.code),
        "constants": tv * len(f.constants),
        "debug": _words(len(f.lineinfo)) + 12 * len(f.locvars),
    }
    if f.source is not None:
        shares.use(module, f.source, "strings")
    for k in f.constants:
        if isinstance(k, bytes):
            shares.use(module, k, "strings")
    for up in f.upvalues:
        if up.name is not None:
            shares.use(module, up.name, "debug")
    for var in f.locvars:
        if var.varname:
            shares.use(module, var.varname, "debug")
    total = sum(own.values())
    if depth == 0:
        for key, value in own.items():
            row[key] += value
    for child in f.protos:
        sub = _walk53(child, module, shares, tv, row, depth + 1)
        if depth == 0:
            row["nested"] += sub
        total += sub
    return total


def _image53(data: bytes, found: sniffing.Sniffed) -> dict[str, Any]:
    from lfs_format.lua53 import flash_image as fl
    from lfs_format.lua53.loader import load_image, loader_fixed_strings

    if found.absolute:
        return _region53(data, found)
    if found.kind == "image" and data[:2] == sniffing.GZIP_MAGIC:
        data = sniffing.inflate_gzip(data)[0]
    target = _target53(found.build)
    loaded = load_image(data, target, address=fl.IROM0_SEG)
    wide = target.int_size == 8 or target.float_size == 8
    tv = 12 if wide else 8
    shares = _Shares()
    modules = []
    for i, proto in enumerate(loaded.protos):
        row = _module_row(_text(loaded.names[i]) if i < len(loaded.names) else f"#{i + 1}", i)
        row["bytes"] = _walk53(proto, i, shares, tv, row, 0)
        modules.append(row)

    def ts_size(value: bytes) -> int:
        return 16 + _words(len(value) + 1)

    split = shares.split(ts_size)
    for row in modules:
        for kind, value in split.get(row["index"], {}).items():
            row[kind] += value
            row["bytes"] += value
    all_strings = list(loaded.strings) + [value for value, _ in loader_fixed_strings()]
    string_bytes = sum(ts_size(s) for s in all_strings)
    module_strings = sum(sum(v.values()) for v in split.values())
    entry = 16 if wide else 12
    n_short = int.from_bytes(loaded.flash[16:20], "little")  # FlashHeader nROuse
    overhead = {
        "header": 4 * fl.HEADER_WORDS,
        "string_table": WORD * (1 << fl.ceil_log2(max(n_short, 1))),  # the ROstrt vector
        "lookup_main": entry * (len(loaded.protos) + 1) + 16,  # the module ROTable
        "strings": string_bytes - module_strings,
    }
    return {
        "lua": "5.3",
        "build": target.name,
        "absolute": False,
        "address": None,
        "flash_size": len(loaded.flash),
        "compressed_size": None,
        "timestamp": loaded.timestamp,
        "seed": loaded.seed,
        "strings": {"count": len(all_strings), "bytes": string_bytes},
        "overhead": overhead,
        "modules": modules,
        "_protos": (loaded.protos, loaded.names, loaded.timestamp),
        "_target": target,
    }


class _Region53:
    """Reads a Lua 5.3 LFS region (what `-F IMAGE -a ADDR` writes) back into Protos,
    following the firmware's 32-bit records (lfs_format/lua53/flash_image.py)."""

    def __init__(self, data: bytes, wide: bool, base: int) -> None:
        import struct

        self.data = data
        self.wide = wide
        self.base = base
        self.struct = struct
        self.strings: dict[int, bytes] = {}
        self.depth = 0

    def word(self, address: int, index: int = 0) -> int:
        at = address - self.base + 4 * index
        if not 0 <= at <= len(self.data) - 4:
            raise LuacrossError(f"address 0x{address:08x} lies outside the LFS region")
        return int.from_bytes(self.data[at : at + 4], "little")

    def string(self, address: int) -> bytes | None:
        if address == 0:
            return None
        found = self.strings.get(address)
        if found is None:
            tag = self.word(address, 1)
            length = tag >> 24 if tag & 0x1F == 4 else self.word(address, 3)
            at = address - self.base + 16
            if at + length > len(self.data):
                raise LuacrossError(f"string at 0x{address:08x} runs past the LFS region")
            found = self.strings[address] = self.data[at : at + length]
        return found

    def constant(self, address: int):
        from lfs_format.lua53 import flash_image as fl

        words = [self.word(address, i) for i in range(3 if self.wide else 2)]
        tt = words[-1] & ~fl.CTB
        raw = self.struct.pack("<II", words[0], words[1] if self.wide else 0)
        if tt == fl.LUA_TNIL:
            return None
        if tt == fl.LUA_TBOOLEAN:
            return bool(words[0])
        if tt == fl.LUA_TNUMINT:
            return self.struct.unpack("<q" if self.wide else "<i", raw[: 8 if self.wide else 4])[0]
        if tt == fl.LUA_TNUMFLT:
            return self.struct.unpack("<d" if self.wide else "<f", raw[: 8 if self.wide else 4])[0]
        if tt in (fl.LUA_TSHRSTR, fl.LUA_TLNGSTR):
            return self.string(words[0])
        return None

    def proto(self, address: int, psource: bytes | None = None):
        from lfs_format.lua53.proto import LocVar, Proto, Upvaldesc

        self.depth += 1
        if self.depth > 200:
            raise LuacrossError("functions nested too deep (a cycle?)")
        w = [self.word(address, i) for i in range(19)]
        n_up, n_k, n_code, n_li, n_p, n_lv = w[3], w[4], w[5], w[6], w[7], w[8]
        if max(n_up, n_k, n_code, n_li, n_p, n_lv) > len(self.data):
            raise LuacrossError(f"Proto at 0x{address:08x} has impossible sizes")
        f = Proto()
        f.numparams = w[1] >> 16 & 0xFF
        f.is_vararg = w[1] >> 24 & 0xFF
        f.maxstacksize = w[2] & 0xFF
        f.linedefined, f.lastlinedefined = w[9], w[10]
        source = self.string(w[17])
        f.source = source if source is not None else psource
        tv = 12 if self.wide else 8
        f.protos = [self.proto(self.word(w[13], i), f.source) for i in range(n_p)]
        f.code = [self.word(w[12], i) for i in range(n_code)]
        f.constants = [self.constant(w[11] + tv * i) for i in range(n_k)]
        f.upvalues = []
        for i in range(n_up):
            pair = self.word(w[16], 2 * i + 1)
            f.upvalues.append(Upvaldesc(self.string(self.word(w[16], 2 * i)), pair & 0xFF,
                                        pair >> 8 & 0xFF))  # fmt: skip
        at = w[14] - self.base
        f.lineinfo = self.data[at : at + n_li] if n_li else b""
        f.locvars = [
            LocVar(self.string(self.word(w[15], 3 * i)) or b"",
                   self.word(w[15], 3 * i + 1), self.word(w[15], 3 * i + 2))
            for i in range(n_lv)
        ]  # fmt: skip
        self.depth -= 1
        return f

    def chain(self, offset: int) -> list[int]:
        """The TString addresses of a string list (header word offset, `next` links;
        the list ends at offset 0, the region's start)."""
        out: list[int] = []
        address = self.base + 4 * offset
        while address != self.base and len(out) <= len(self.data) // 16:
            out.append(address)
            address = self.word(address)
        return out


def _region53(data: bytes, found: sniffing.Sniffed) -> dict[str, Any]:
    """A Lua 5.3 flash region (`-F IMAGE -a ADDR`): header, modules and their sizes."""
    import struct

    header = struct.unpack_from("<12I", data)
    flash_size, seed, timestamp, nrouse, nrosize = header[1:6]
    target = _target53(found.build)
    wide = target.int_size == 8 or target.float_size == 8
    entry = 16 if wide else 12
    rotable = header[7] * 4
    if rotable + 16 > len(data):
        raise LuacrossError("the module table lies outside the LFS region")
    count = data[rotable + 7]
    entries = int.from_bytes(data[rotable + 12 : rotable + 16], "little")
    first = rotable - (count + 1) * entry
    base = entries - first
    region = _Region53(data, wide, base)
    names: list[bytes] = []
    protos = []
    for i in range(count):
        key = region.word(entries, i * entry // 4)
        value = region.word(entries, i * entry // 4 + 1)
        at = key - base
        end = data.find(b"\0", at)
        names.append(data[at:end])
        protos.append(region.proto(value))
    tv = 12 if wide else 8
    shares = _Shares()
    modules = []
    for i, proto in enumerate(protos):
        row = _module_row(_text(names[i]) or "", i)
        row["bytes"] = _walk53(proto, i, shares, tv, row, 0)
        modules.append(row)
    split = shares.split(lambda value: 16 + _words(len(value) + 1))
    for row in modules:
        for kind, value in split.get(row["index"], {}).items():
            row[kind] += value
            row["bytes"] += value
    strings = region.chain(header[9]) + region.chain(header[10])
    string_bytes = 0
    for address in strings:
        string_bytes += 16 + _words(len(region.string(address) or b"") + 1)
    module_strings = sum(sum(v.values()) for v in split.values())
    overhead = {
        "header": 48,
        "string_table": 4 * nrosize,
        "lookup_main": entry * (count + 1) + 16,
        "strings": string_bytes - module_strings,
    }
    return {
        "lua": "5.3",
        "build": found.build,
        "absolute": True,
        "address": base,
        "flash_size": flash_size,
        "compressed_size": None,
        "timestamp": timestamp,
        "seed": seed,
        "strings": {"count": len(strings), "bytes": string_bytes},
        "overhead": overhead,
        "modules": modules,
        "_protos": (protos, names, timestamp),
        "_target": target,
    }


# -- chunks -----------------------------------------------------------------------


def _count(f) -> tuple[int, int, int]:
    functions, code, constants = 1, len(f.code), len(f.constants)
    for child in f.protos:
        a, b, c = _count(child)
        functions, code, constants = functions + a, code + b, constants + c
    return functions, code, constants


def _load_chunk(data: bytes, found: sniffing.Sniffed):
    if found.lua == "5.1":
        from lfs_format.lua51 import lc
        from lfs_format.target import FLOAT, INT

        target = INT if found.build == "int" else FLOAT
        main, _ = lc.read_chunk(data, target)
        return main, target
    from lfs_format.lua53 import lc as lc53

    target = _target53(found.build)
    return lc53.read_lc(data, b"=?", target), target


def _chunk(data: bytes, found: sniffing.Sniffed) -> dict[str, Any]:
    main, target = _load_chunk(data, found)
    functions, instructions, constants = _count(main)
    if found.lua == "5.1":
        stripped = main.packedlineinfo is None
    else:
        stripped = not main.upvalues or all(up.name is None for up in main.upvalues)
        stripped = stripped and bool(main.upvalues)
    return {
        "source": _text(main.source),
        "functions": functions,
        "instructions": instructions,
        "constants": constants,
        "stripped": stripped,
        "_main": main,
        "_target": target,
    }


# -- the report -------------------------------------------------------------------


def read(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise LuacrossError(f"cannot open {path}: {reason}") from None


def examine(path: str, data: bytes | None = None) -> dict[str, Any]:
    """The report on one file (the `files[]` entry of the JSON document, plus
    private `_`-keys the listing uses)."""
    if data is None:
        data = read(path)
    found = sniffing.sniff(data)
    report: dict[str, Any] = {
        "path": path,
        "size": len(data),
        "kind": found.kind,
        "lua": found.lua,
        "build": found.build,
        "description": found.description,
        "error": None,
        "chunk": None,
        "image": None,
    }
    if found.is_image:
        report["firmware"] = firmware(data, found)
    try:
        if found.kind == "image" and found.lua == "5.1":
            report["image"] = _image51(data, found)
        elif found.kind == "image" and found.lua == "5.3":
            report["image"] = _image53(data, found)
        elif found.kind == "lc":
            report["chunk"] = _chunk(data, found)
    except LuacrossError as exc:
        report["error"] = str(exc)
    except (ValueError, IndexError, OverflowError, RecursionError) as exc:
        report["error"] = f"cannot read it: {exc}"
    return report


def firmware(data: bytes, found: sniffing.Sniffed) -> list[str]:
    """The firmware builds (chip, core, numbers, flags) that load the image,
    named by `lfs_format.variants`, narrowed to the number build sniffing found."""
    from lfs_format.target import Lua53Target
    from lfs_format.variants import describe, image_targets

    def fits(target) -> bool:
        if found.build is None:
            return True
        if isinstance(target, Lua53Target):
            return sniffing.SIZES53.get(found.build) == (target.int_size, target.float_size)
        return found.build == ("int" if target.integral else "float")

    return [describe(t) for t in image_targets(data) if fits(t)]


def public(report: dict[str, Any]) -> dict[str, Any]:
    """`report` without the private keys (for JSON)."""
    out = {}
    for key, value in report.items():
        if key.startswith("_"):
            continue
        out[key] = public(value) if isinstance(value, dict) else value
    return out


def document(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole JSON document."""
    from luacross import __version__

    return {
        "schema": SCHEMA,
        "luacross": __version__,
        "files": [public(r) for r in reports],
    }


def _kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


MODULE_COLUMNS = ("bytes", "code", "constants", "nested", "debug", "records", "strings")


def module_table(modules: list[dict[str, Any]]) -> list[str]:
    """The per-module table as plain text lines."""
    width = max([len("module")] + [len(m["name"]) for m in modules])
    head = f"  {'module':<{width}}" + "".join(f"{c:>10}" for c in MODULE_COLUMNS)
    lines = [head]
    for m in modules:
        cells = "".join(f"{'-' if m[c] is None else m[c]:>10}" for c in MODULE_COLUMNS)
        lines.append(f"  {m['name']:<{width}}{cells}")
    return lines


def render(report: dict[str, Any]) -> str:
    """The text `inspect` prints for one file."""
    lines = [f"{report['path']}: {report['description']}"]
    lines.extend(f"  firmware: {name}" for name in report.get("firmware", ()))
    if report["error"]:
        lines.append(f"  damaged: {report['error']}")
    chunk = report["chunk"]
    if chunk:
        lines.append(
            f"  source {chunk['source']}, {chunk['functions']} functions, "
            f"{chunk['instructions']} instructions, {chunk['constants']} constants"
            + (", stripped" if chunk["stripped"] else "")
        )
    image = report["image"]
    if image:
        facts = [f"flash size {image['flash_size']} bytes ({_kib(image['flash_size'])})"]
        if image["compressed_size"]:
            facts.append(f"file {image['compressed_size']} bytes")
        if image["address"] is not None:
            facts.append(f"mapped at 0x{image['address']:08x}")
        if image["timestamp"] is not None:
            import time

            stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(image["timestamp"]))
            facts.append(f"timestamp {image['timestamp']} ({stamp})")
        if image["seed"] is not None:
            facts.append(f"seed 0x{image['seed']:08x}")
        lines.append("  " + ", ".join(facts))
        strings = image["strings"]
        size = "" if strings["bytes"] is None else f", {strings['bytes']} bytes"
        lines.append(f"  string table: {strings['count']} strings{size}")
        lines.append(f"  {len(image['modules'])} modules:")
        lines.extend(module_table(image["modules"]))
        overhead = image["overhead"]
        if overhead:
            lines.append(
                "  image overhead: "
                + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in overhead.items())
                + f" (total {sum(overhead.values())})"
            )
    return "\n".join(lines) + "\n"


def listing(report: dict[str, Any], *, full: bool) -> bytes:
    """luac.cross's `-l` listing of what the file holds ("" when it holds no code)."""
    from luacross import api

    if report["chunk"]:
        chunk = report["chunk"]
        return api.list_chunk(chunk["_main"], full=full, target=chunk["_target"])
    image = report["image"]
    if image and "_main" in image:
        return api.list_chunk(image["_main"], full=full, target=image["_target"])
    if image and "_protos" in image:
        from luacross.lua53.combine import _combined_main

        protos, names, timestamp = image["_protos"]
        main = _combined_main(protos)
        main.constants = [*names, timestamp]
        return api.list_chunk(main, full=full, target=image["_target"])
    return b""


INSPECT_HELP = """\
usage: luacross inspect [options] FILE...
Say what each file is (Lua source, NodeMCU .lc of Lua 5.1 or 5.3, another Lua's
bytecode, an LFS image of which build), then summarise it: for LFS images the
build, timestamp, seed (Lua 5.3), flash size, string table, and every module with
its bytes in flash.
Options:
  -l         also list what is inside (.lc files and images) as luac.cross -l does
  -l -l      the full listing (constants, locals and upvalues too)
  --json     print one JSON document instead (schema: docs/inspect-json.md)
  -h, --help show this help
"""


def command(args: list[str]) -> int:
    """`luacross inspect`: returns the exit status (1 when a file cannot be read)."""
    import json
    import sys

    from luacross.api import write_stdout
    from luacross.cli import CommandUsageError

    level = 0
    as_json = False
    files: list[str] = []
    options = True
    for arg in args:
        if options and arg == "--":
            options = False
        elif options and arg in ("-h", "--help"):
            sys.stdout.write(INSPECT_HELP)
            return 0
        elif options and arg == "-l":
            level += 1
        elif options and arg == "--json":
            as_json = True
        elif options and arg.startswith("-") and arg != "-":
            raise CommandUsageError(f"inspect: unrecognized option '{arg}'")
        else:
            files.append(arg)
    if not files:
        raise CommandUsageError("inspect: no files given (luacross inspect --help)")
    reports = []
    status = 0
    for path in files:
        try:
            data = sys.stdin.buffer.read() if path == "-" else read(path)
        except LuacrossError as exc:
            from luacross.cli import report

            report(str(exc))
            status = 1
            continue
        rep = examine("stdin" if path == "-" else path, data)
        reports.append(rep)
        if rep["error"]:  # the summary says what was read; the status line, why it failed
            from luacross.cli import report

            report(f"{rep['path']}: damaged: {rep['error']}")
            status = 1
        if not as_json:
            write_stdout(render(rep).encode("utf-8", "surrogateescape"))
            if level:
                try:
                    write_stdout(listing(rep, full=level > 1))
                except LuacrossError as exc:
                    from luacross.cli import report

                    report(f"{rep['path']}: {exc}")
                    status = 1
    if as_json:
        text = json.dumps(document(reports), indent=2) + "\n"
        write_stdout(text.encode())
    return status
