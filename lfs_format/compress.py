"""gzip encoders for LFS images.

`uzlib_compress` reproduces NodeMCU's `app/uzlib/uzlib_deflate.c` exactly, so
images are byte-identical with `luac.cross -f`: one fixed-Huffman deflate
block found by a hash-chain LZ77 with a 16 KiB window and one-step lazy
matching (formats reference §7.9). `best_compress` is luacross's `--best`:
smaller output the device can still inflate.
"""

import struct
import zlib
from typing import Final

# Final: mypyc compiles these to constants
MIN_MATCH: Final = 3
MAX_MATCH: Final = 258
MAX_OFFSET: Final = 16384  # the device inflates with a 16 KiB dictionary
MAX_CHAIN: Final = 60  # candidates tried per position
OFFSET16_MASK: Final = 0x7FFF  # uzlib's hash table entries are 15-bit offsets
_NULL_POSITION: Final = -1  # an empty chain slot

# gzip header of uzlib: no flags, MTIME 0, XFL 4, OS 3 (Unix)
GZIP_HEADER = bytes.fromhex("1f8b0800000000000403")

# RFC 1951 §3.2.5 length and distance codes: (first symbol, extra bits, count)
_LENGTH_GROUPS = ((257, 0, 8), (265, 1, 4), (269, 2, 4), (273, 3, 4), (277, 4, 4), (281, 5, 4))
_DIST_EXTRA_BITS = (0, 0, 0, 0) + tuple(e for e in range(1, 14) for _ in (0, 1))


def _reversed_bits(code: int, nbits: int) -> int:
    """A Huffman code (MSB first) as an LSB-first bit field."""
    return int(format(code, f"0{nbits}b")[::-1], 2)


def _fixed_literal_codes() -> list[tuple[int, int]]:
    """(LSB-first bits, count) of the fixed Huffman code of each literal byte."""
    codes = []
    for c in range(256):
        if c <= 143:
            codes.append((_reversed_bits(0x30 + c, 8), 8))
        else:
            codes.append((_reversed_bits(0x190 + c - 144, 9), 9))
    return codes


def _length_symbol_code(symbol: int) -> tuple[int, int]:
    if symbol <= 279:
        return _reversed_bits(symbol - 256, 7), 7
    return _reversed_bits(0xC0 + symbol - 280, 8), 8


def _fixed_length_codes() -> list[tuple[int, int]]:
    """(bits, count) of match length 3..258: length symbol then its extra bits."""
    codes = [(0, 0)] * MIN_MATCH
    length = MIN_MATCH
    for first, extra, count in _LENGTH_GROUPS:
        for symbol in range(first, first + count):
            # symbol 284 stops at 257: uzlib, like zlib, sends 258 as symbol 285
            for value in range(min(1 << extra, MAX_MATCH - length)):
                code, nbits = _length_symbol_code(symbol)
                codes.append((code | value << nbits, nbits + extra))
                length += 1
    codes.append(_length_symbol_code(285))
    return codes


def _fixed_distance_codes() -> list[tuple[int, int]]:
    """(bits, count) of distance 1..MAX_OFFSET: 5-bit symbol then its extra bits."""
    codes = [(0, 0)]
    for symbol, extra in enumerate(_DIST_EXTRA_BITS):
        if len(codes) > MAX_OFFSET:
            break
        code = _reversed_bits(symbol, 5)
        nbits = 5 + extra
        codes += [(code | value << 5, nbits) for value in range(1 << extra)]
    del codes[MAX_OFFSET + 1 :]
    return codes


_LITERAL_CODES = _fixed_literal_codes()
_LENGTH_CODES = _fixed_length_codes()
_DISTANCE_CODES = _fixed_distance_codes()


def _gzip_member(deflated: bytes, data: bytes) -> bytes:
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return GZIP_HEADER + deflated + trailer


def uzlib_compress(data: bytes) -> bytes:
    """The gzip member `uzlib_compress` (luac.cross -f) writes for `data`."""
    return _gzip_member(_uzlib_deflate(data), data)


def _uzlib_deflate(src: bytes) -> bytes:
    """One BFINAL fixed-Huffman block, as uzlibCompressBlock emits it.

    The C loop's decisions, not its data structures. While it stays inside
    the 16 KiB window, a position's hash chain is the list of earlier
    positions hashed into the same bucket, newest first (no chain slot is
    reused within the window), so each bucket keeps that list, with the
    index of its first entry inside the window (which only moves forward),
    and the candidates are its slice from there or from 60 tries back.
    Only an entry older than 32 KiB,
    which uzlib's 15-bit offsets mistake for a nearer position, needs the
    literal walk (`_stale_candidates`, through `hash_chain`). Byte
    comparisons are batched: a candidate can only win if it matches one
    byte past the best so far.
    """
    n = len(src)
    chain_len = min(n, MAX_OFFSET)
    slots, hash_bits = 256, 6
    while slots < chain_len:
        slots <<= 1
        hash_bits += 1
    hash_mask = (1 << hash_bits) - 1
    hash_shift = 24 - hash_bits
    buckets: list[list[int]] = [[] for _ in range(1 << hash_bits)]
    hash_chain = [_NULL_POSITION] * MAX_OFFSET  # uzlib's chain, absolute positions
    window_starts = [0] * (1 << hash_bits)  # per bucket: its first entry in the window
    chain_mask = MAX_OFFSET - 1

    literal_codes = _LITERAL_CODES
    length_codes = _LENGTH_CODES
    distance_codes = _DISTANCE_CODES
    out = bytearray()
    acc = 0b011  # block header: BFINAL=1, BTYPE=01 (fixed Huffman)
    nacc = 3

    last_offset = last_len = 0
    i = 0
    limit = n - MIN_MATCH
    last_full = n - MAX_MATCH  # the last position a 258-byte match fits at
    while i <= limit:
        max_len = MAX_MATCH if i <= last_full else n - i
        v = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2]
        key = ((v >> hash_shift) - v) & hash_mask
        bucket = buckets[key]
        size = len(bucket)
        # the window's first entry: the bucket only grows and the window only
        # moves on, so that index only moves forward
        low = i - MAX_OFFSET
        start = window_starts[key]
        while start < size and bucket[start] < low:
            start += 1
        window_starts[key] = start
        first = size - MAX_CHAIN
        if start < first:
            start = first
        # newest first; one with other first bytes fails the first comparison
        candidates = bucket[: start - 1 : -1] if start else bucket[::-1]
        # tries left and an entry below the window: C walks on if it is stale
        if start > first and start > 0 and i - bucket[start - 1] > OFFSET16_MASK + 1:
            candidates += _stale_candidates(
                i, bucket[start - 1], hash_chain, MAX_CHAIN - (size - start)
            )
        hash_chain[i & chain_mask] = bucket[-1] if size else _NULL_POSITION
        bucket.append(i)

        match_len = MIN_MATCH - 1
        match_offset = 0
        tail = src[i + match_len]
        for j in candidates:
            if src[j + match_len] == tail:
                k = match_len + 1
                if src[j : j + k] == src[i : i + k]:
                    while k + 16 <= max_len and src[j + k : j + k + 16] == src[i + k : i + k + 16]:
                        k += 16
                    while k < max_len and src[j + k] == src[i + k]:
                        k += 1
                    match_offset = i - j
                    match_len = k
                    if k >= max_len:
                        break  # nothing further can win
                    tail = src[i + k]

        if last_offset:
            if match_offset == 0 or last_len >= match_len:
                # emit the cached match (found at i - 1); skip past it unhashed
                code, nbits = length_codes[last_len]
                acc |= code << nacc
                nacc += nbits
                code, nbits = distance_codes[last_offset]
                acc |= code << nacc
                nacc += nbits
                i += last_len - 1
                last_offset = last_len = 0
                if nacc >= 32:
                    out += (acc & 0xFFFFFFFF).to_bytes(4, "little")
                    acc >>= 32
                    nacc -= 32
                continue
            # a longer match starts here: send the byte before it as a literal
            code, nbits = literal_codes[src[i - 1]]
            last_offset = match_offset
            last_len = match_len
        elif match_offset:
            last_offset = match_offset
            last_len = match_len
            i += 1
            continue
        else:
            code, nbits = literal_codes[src[i]]
        acc |= code << nacc
        nacc += nbits
        if nacc >= 32:  # flushed by words: the bit buffer stays a machine int (< 2**63)
            out += (acc & 0xFFFFFFFF).to_bytes(4, "little")
            acc >>= 32
            nacc -= 32
        i += 1

    if last_offset:
        code, nbits = length_codes[last_len]
        acc |= code << nacc
        nacc += nbits
        code, nbits = distance_codes[last_offset]
        acc |= code << nacc
        nacc += nbits
        i += last_len - 1
    for byte in src[i:]:
        code, nbits = literal_codes[byte]
        acc |= code << nacc
        nacc += nbits
    nacc += 7  # end-of-block symbol 256: seven 0 bits
    out += acc.to_bytes((nacc + 7) // 8, "little")
    return bytes(out)


def _stale_candidates(i: int, j: int, hash_chain: list[int], tries: int) -> list[int]:
    """uzlib's chain walk from `j`, an entry more than 32 KiB behind `i`.

    C keeps 15-bit offsets and reads each as the nearest earlier position
    with those bits, so a stale entry lands inside the last 32 KiB; if that
    is within the window it is compared like any candidate, and the walk
    goes on through whatever that position's chain slot holds.
    """
    found: list[int] = []
    while len(found) < tries and j != _NULL_POSITION:
        distance = ((i - j - 1) & OFFSET16_MASK) + 1
        if distance > MAX_OFFSET:
            break
        j = i - distance
        found.append(j)
        j = hash_chain[j & (MAX_OFFSET - 1)]
    return found


def best_compress(data: bytes) -> bytes:
    """`--best`: the smallest gzip member luacross can make that the device inflates."""
    return compress_both(data, with_default=False)[1]


def compress_both(data: bytes, with_default: bool = True) -> tuple[bytes, bytes]:
    """(`uzlib_compress(data)` or b"" without `with_default`, the `--best` member).

    zlib at level 9 with a 16 KiB window (wbits -14), keeping the smallest of
    the settings that can win (`best_settings`). The device also rejects any
    back-reference to output byte 0 (distance equal to the position); zlib can
    make one (a repeat of the first byte), so byte 0 goes in a stored block of
    its own and zlib starts after it with an empty window: its matches reach
    back at most to its own first byte, which is output byte 1 for the device.
    The zlib tries run in threads (zlib releases the GIL while it deflates)
    and uzlib in this one once they are all deflating.
    """
    from threading import Event, Thread

    if not data:
        member = uzlib_compress(data)
        return member, member
    body = data[1:]
    settings = best_settings(len(body))
    results: list[bytes] = [b""] * len(settings)
    deflating = [Event() for _ in settings]

    def attempt(index: int) -> None:
        mem_level, strategy = settings[index]
        compressor = zlib.compressobj(9, zlib.DEFLATED, -14, mem_level, strategy)
        deflating[index].set()  # from here this thread holds the GIL only to return
        results[index] = compressor.compress(body) + compressor.flush()

    threads = [Thread(target=attempt, args=(i,)) for i in range(len(settings))]
    for thread in threads:
        thread.start()
    for event in deflating:
        event.wait()
    # uzlib alongside: every zlib try is inside its deflate, which releases the GIL
    # (a compiled uzlib loop never hands it back before it is done)
    default = uzlib_compress(data) if with_default else b""
    for thread in threads:
        thread.join()
    # stored block: BFINAL=0 BTYPE=00, LEN=1, NLEN, the byte (header is byte aligned)
    head = bytes((0x00, 0x01, 0x00, 0xFE, 0xFF, data[0]))
    best = _gzip_member(head + min(results, key=len), data)
    return default, best


# Z_FILTERED only wins on small inputs: on every image over 32 KiB measured its
# bias towards literals loses to the default strategy by 1-5 %.
FILTERED_MAX_BYTES = 0x8000


def best_settings(size: int) -> list[tuple[int, int]]:
    """The (memLevel, strategy) pairs tried for the smallest deflate of `size` bytes.

    Z_FIXED is never one: at level 9 it parses exactly as Z_DEFAULT_STRATEGY,
    which then picks the fixed codes for any block where they are smaller.
    memLevel 9 (twice the hash and block size of 8) is not tried: over 40
    images of the Debian corpus (5-265 KB) it won 5 times, by 6-22 bytes
    (<= 0.03 %), and over the 5 golden images twice, by 23-34 bytes (0.1 %),
    while a level-9 deflate costs about twice uzlib's compression: with it,
    `--best` took 1.7 times the default image's time on 2 cores instead of 1.3.
    """
    strategies = [zlib.Z_DEFAULT_STRATEGY]
    if size <= FILTERED_MAX_BYTES:
        strategies.append(zlib.Z_FILTERED)
    return [(8, strategy) for strategy in strategies]
