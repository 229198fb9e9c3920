"""LFS images against luac.cross's own images and the formats reference."""

import gzip
import struct

import pytest
from test_combine import golden_inputs

from golden import cases, epoch, output_blob
from lfs_format.compress import uzlib_compress
from lfs_format.errors import ImageError
from lfs_format.lua51.image import (
    STRIPPED_SOURCE,
    FlashImage,
    build_image,
    strip_protos,
    strip_savings,
)
from lfs_format.lua51.image_structs import FLASH_SIG_ABSOLUTE, ImageStructs
from lfs_format.lua51.proto import LUA_TBOOLEAN, LUA_TSTRING, Constant, LocVar, Proto
from lfs_format.lua51.strtable import HostStringTable, lua_string_hash
from lfs_format.target import FLOAT, INT, Target
from luacross.lua51.combine import build_lookup_main


def _image_cases() -> list[dict]:
    """Successful -f / -a runs, one per distinct output file."""
    chosen, seen = [], set()
    for case in cases():
        kind = case["id"].split("/")[1]
        wanted = kind in ("image", "absimage", "image-list", "image-strip")
        if wanted and not case["expect"]["exit"]:
            (meta,) = case["expect"]["files"].values()
            if meta["sha256"] not in seen:
                seen.add(meta["sha256"])
                chosen.append(case)
    return chosen


def _absolute_addr(case: dict) -> int | None:
    args = case["args"]
    return int(args[args.index("-a") + 1], 0) if "-a" in args else None


def _golden_image(case: dict) -> tuple[Proto, Target, FlashImage]:
    protos, target = golden_inputs(case)
    main = build_lookup_main(protos, epoch(), target)
    return main, target, build_image(main, target, absolute_addr=_absolute_addr(case))


@pytest.mark.parametrize("case", _image_cases(), ids=lambda case: case["id"])
def test_image_matches_luac_cross(case):
    main, target, image = _golden_image(case)
    if image.absolute_addr is None:
        assert uzlib_compress(image.relocatable_payload()) == output_blob(case)
    else:
        assert image.absolute_image() == output_blob(case)
    assert decode_image(image.image, target, image.bitmap) == main


def _hi_module() -> Proto:
    """`return "hi"` as m.lua (formats reference §7.10)."""
    return Proto(
        source=b"@m.lua",
        is_vararg=2,
        maxstacksize=2,
        code=[0x00000001, 0x0100001E, 0x0080001E],
        constants=[b"hi"],
        packedlineinfo=b"\x03",
        lineinfo=[1, 1, 1],
    )


def test_worked_example():
    image = build_image(build_lookup_main([_hi_module()], 1704067200, FLOAT), FLOAT)
    words = image.words
    assert image.flash_size == 408 and len(words) == 102
    assert list(words[:8]) == [0xFAFAA154, 0x198, 0x54, 8, 5, 8, 0, 0]
    assert list(words[8:16]) == [0, 0x10, 0x15, 0, 0x1A, 0, 0x1F, 0x25]
    assert list(words[16:21]) == [0, 0x4004, 0x1559, 2, int.from_bytes(b"hi\0\0", "little")]
    assert (words[23], words[25]) == (0x22, 3)
    assert (words[28], words[33], words[39]) == (0x8C, 0xBE5FC006, 0x73BAF3DF)
    assert list(words[43:49]) == [0x10, 0, 4, 1, 0x0100001E, 0x0080001E]
    assert list(words[49:67]) == [
        0,
        0,
        0x2B,
        0x2E,
        0,
        0x19,
        0,
        0,
        0x25,
        0,
        1,
        3,
        0,
        0,
        0,
        0,
        0,
        0x02020000,
    ]
    assert list(words[67:74]) == [0x31, 0x1A, 0, 4, 0x20000000, 0x41D96480, 3]
    assert list(words[84:102]) == [
        0,
        0,
        0x44,
        0x4A,
        0x43,
        0,
        0,
        0,
        0x1F,
        0,
        2,
        10,
        1,
        0,
        0,
        0,
        0,
        0x04000100,
    ]
    assert struct.unpack("<4I", image.bitmap) == (0xD60C, 0x02580800, 0x11C00018, 0)
    packed = uzlib_compress(image.relocatable_payload())
    assert len(packed) == 227 and packed.endswith(bytes.fromhex("a57c2948a8010000"))


def test_worked_example_string_order():
    table = HostStringTable()
    for s in (b"=(luac)", b"m", b"@m.lua", b"\x03", b"hi"):
        table.insert(s)
    assert list(table) == [b"hi", b"\x03", b"m", b"=(luac)", b"@m.lua"]
    assert [lua_string_hash(s) for s in table] == [0x1559, 0x22, 0x8C, 0xBE5FC006, 0x73BAF3DF]


def test_absolute_image_is_the_relocated_image():
    main = build_lookup_main([_hi_module()], 1704067200, INT)
    image = build_image(main, INT)
    addr = 0x40250000
    absolute = struct.unpack(f"<{len(image.words)}I", image.absolute_image(addr))
    for index, word in enumerate(image.words):
        if index == 0:
            assert absolute[0] == word | FLASH_SIG_ABSOLUTE == 0xFAFAA153
        elif image.is_address(index):
            assert absolute[index] == 4 * word + addr
        else:
            assert absolute[index] == word


@pytest.mark.parametrize("addr", [0x40210000 - 4, 0x40310004, 0x30000000, 0])
def test_bad_absolute_address(addr):
    with pytest.raises(ImageError, match="valid flash address"):
        build_image(build_lookup_main([_hi_module()], 0, FLOAT), FLOAT, absolute_addr=addr)


def test_absolute_address_limits():
    main = build_lookup_main([_hi_module()], 0, FLOAT)
    for addr in (0x40210000, 0x40310000):
        assert build_image(main, FLOAT, absolute_addr=addr).absolute_image()


def test_out_of_flash_memory():
    big = Proto(source=b"@big.lua", code=[0x0080001E] * 0xFF00, maxstacksize=2)
    build_image(build_lookup_main([big], 0, FLOAT), FLOAT)
    bigger = Proto(source=b"@big.lua", code=[0x0080001E] * 0x10000, maxstacksize=2)
    with pytest.raises(ImageError, match="^Out of Flash memory$"):
        build_image(build_lookup_main([bigger], 0, FLOAT), FLOAT)


def test_strip_image():
    case = next(case for case in _image_cases() if case["id"] == "float/image/apps")
    main, target, image = _golden_image(case)
    stripped = strip_protos(main)
    small = build_image(stripped, target)
    assert image.flash_size - small.flash_size == strip_savings(main) > 0
    decoded = decode_image(small.image, target, small.bitmap)
    assert decoded == stripped
    assert all(f.source == STRIPPED_SOURCE and f.packedlineinfo is None for f in decoded.walk())
    assert [f.code for f in decoded.walk()] == [f.code for f in main.walk()]
    assert main.source == b"=(luac)"  # the input is left alone


def test_int_and_special_constants_round_trip():
    for target, numbers in ((INT, [-1, 2147483647, -2147483648]), (FLOAT, [-0.0, 1e308, 0.5])):
        f = Proto(
            source=b"@k.lua",
            maxstacksize=2,
            code=[0x0080001E],
            constants=[None, True, False, *numbers, b"", b"a\0b"],
        )
        main = build_lookup_main([f], 1704067200, target)
        image = build_image(main, target)
        assert decode_image(image.image, target, image.bitmap) == main


def decode_image(image: bytes, target: Target, bitmap: bytes) -> Proto:
    """Read a position-independent image back into Protos with ImageStructs.

    Also checks the ROstrt chains, that the bitmap flags exactly the address
    words met on the way, and that every record is byte for byte what the
    construct definition builds from the decoded fields (the image writer
    packs records with `struct`, the loader parses them with ImageStructs).
    """
    structs = ImageStructs(target)
    addresses: set[int] = set()

    def agrees(record, fields: dict, at: int) -> None:
        built = record.build(fields)
        assert image[4 * at : 4 * at + len(built)] == built

    header = structs.flash_header.parse(image)
    assert header.flash_sig == structs.sig and header.flash_size == len(image)
    agrees(structs.flash_header, _fields(header, "fill1", "fill2"), 0)
    addresses |= {2, 3}

    def word(index: int) -> int:
        return int.from_bytes(image[4 * index : 4 * index + 4], "little")

    strings: dict[int, bytes] = {}
    for bucket in range(header.nROsize):
        ts = word(header.pROhash + bucket)
        if ts:
            addresses.add(header.pROhash + bucket)
        while ts:
            record = structs.flash_string.parse(image[4 * ts :])
            data = record.data
            assert record.ts.hash & (header.nROsize - 1) == bucket
            fields = dict(next=record.ts.next, hash=lua_string_hash(data), len=len(data))
            agrees(structs.flash_string, dict(ts=fields, data=data), ts)  # tt, marked, NUL, padding
            strings[ts] = data
            if record.ts.next:
                assert record.ts.next < ts  # chains run from the newest string back
                addresses.add(ts)
            ts = record.ts.next
    assert len(strings) == header.nROuse

    def constant(at: int) -> Constant:
        tv = structs.tvalue.parse(image[4 * at :])
        if tv.tt == LUA_TSTRING:
            addresses.add(at)
            value = strings[tv.value]
        elif tv.tt == LUA_TBOOLEAN:
            value = bool(tv.value)
        else:
            value = tv.value
        agrees(structs.tvalue, dict(tt=tv.tt, value=tv.value), at)
        return value

    def locvar(at: int) -> LocVar:
        rec = structs.locvar.parse(image[4 * at :])
        addresses.add(at)
        agrees(structs.locvar, rec, at)
        return LocVar(strings[rec.varname], rec.startpc, rec.endpc)

    def proto(at: int) -> Proto:
        rec = structs.proto.parse(image[4 * at :])
        # next, tt, marked and gclist must be the construct defaults (0)
        agrees(structs.proto, _fields(rec, "next", "tt", "marked", "gclist"), at)
        for w in (2, 3, 4, 5, 6, 7, 8):
            if word(at + w):
                addresses.add(at + w)
        size = structs.tvalue_size // 4
        constants = [constant(rec.k + i * size) for i in range(rec.sizek)]
        addresses.update(rec.p + i for i in range(rec.sizep))
        addresses.update(rec.upvalues + i for i in range(rec.sizeupvalues))
        lineinfo = strings[rec.packedlineinfo - 4] if rec.packedlineinfo else None
        return Proto(
            source=strings[rec.source] if rec.source else None,
            linedefined=rec.linedefined,
            lastlinedefined=rec.lastlinedefined,
            nups=rec.nups,
            numparams=rec.numparams,
            is_vararg=rec.is_vararg,
            maxstacksize=rec.maxstacksize,
            code=list(struct.unpack_from(f"<{rec.sizecode}I", image, 4 * rec.code)),
            constants=constants,
            protos=[proto(word(rec.p + i)) for i in range(rec.sizep)],
            packedlineinfo=lineinfo,
            locvars=[locvar(rec.locvars + 3 * i) for i in range(rec.sizelocvars)],
            upvalues=[strings[word(rec.upvalues + i)] for i in range(rec.sizeupvalues)],
        )

    main = proto(header.mainProto)
    tagged = {i for i in range(len(image) // 4) if bitmap[i >> 3] >> (i & 7) & 1}
    assert len(bitmap) == 4 * ((len(image) // 4 + 31) // 32)
    assert tagged == addresses
    return main


def _fields(record, *defaults: str) -> dict:
    """A parsed record's fields minus `defaults`, which building fills in itself."""
    return {k: v for k, v in record.items() if not k.startswith("_") and k not in defaults}


def test_debug_records_round_trip():
    """LocVar records and upvalue names: luac.cross images never carry them."""
    inner = Proto(
        source=b"@d.lua",
        nups=1,
        maxstacksize=2,
        code=[0x0080001E],
        upvalues=[b"up"],
        locvars=[LocVar(b"x", 0, 1), LocVar(b"up", -1, 7)],
    )
    f = Proto(
        source=b"@d.lua",
        maxstacksize=2,
        code=[0x0080001E],
        protos=[inner],
        locvars=[LocVar(b"y", 2, 3)],
        packedlineinfo=b"\x03",
        lineinfo=[1],
    )
    for target in (FLOAT, INT):
        image = build_image(f, target)
        assert decode_image(image.image, target, image.bitmap) == f


def test_relocatable_payload_is_gzip_isize():
    image = build_image(build_lookup_main([_hi_module()], 0, FLOAT), FLOAT)
    packed = uzlib_compress(image.relocatable_payload())
    assert gzip.decompress(packed) == image.image + image.bitmap
    assert len(image.bitmap) == 4 * (1 + (image.flash_size // 4 - 1) // 32)
