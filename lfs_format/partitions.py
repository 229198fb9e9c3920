"""ESP-IDF partition tables (`partitions.csv`), for the ESP32's LFS partition.

The NodeMCU ESP32 firmware finds LFS in the partition of type 0xC2 (NodeMCU)
and subtype 0x01 (`components/platform/partitions.csv`:
`lfs, 0xC2, 0x01, , 0x10000`). The CSV follows ESP-IDF's `gen_esp32part.py`:
`#` starts a comment line, fields are `Name, Type, SubType, Offset, Size[, Flags]`,
numbers are decimal or `0x` hex with an optional `K` or `M` suffix, and an
empty offset follows the previous partition, aligned to 64 KiB for `app`
partitions and 4 KiB for the others, the first one after the table at 0x9000.
"""

import os
import re

from .errors import LuacrossError

LFS_TYPE = 0xC2  # NodeMCU's partition type
LFS_SUBTYPE = 0x01  # its LFS subtype
FIRST_OFFSET = 0x9000  # the partition table at 0x8000 takes one 4 KiB sector
APP_ALIGN = 0x10000
DATA_ALIGN = 0x1000
TYPES = {"app": 0x00, "data": 0x01}

_NUMBER = re.compile(r"(0[xX][0-9a-fA-F]+|[0-9]+)([kKmM]?)")


class PartitionTableError(LuacrossError):
    """A partition table that cannot be read or has no LFS partition."""


class Partition:
    """One row of the table: name, type and subtype (numbers; None for a
    subtype given by name), flash offset and size in bytes."""

    __slots__ = ("name", "type", "subtype", "offset", "size")

    def __init__(self, name: str, type_: int, subtype: int | None, offset: int, size: int):
        self.name = name
        self.type = type_
        self.subtype = subtype
        self.offset = offset
        self.size = size

    def __repr__(self) -> str:
        return f"Partition({self.name!r}, offset=0x{self.offset:x}, size=0x{self.size:x})"


def parse_number(text: str) -> int | None:
    """A gen_esp32part.py number (`0x10000`, `64K`, `1M`), or None."""
    match = _NUMBER.fullmatch(text)
    if match is None:
        return None
    digits, suffix = match.groups()
    value = int(digits, 16) if digits[:2] in ("0x", "0X") else int(digits)
    return value * {"": 1, "k": 1024, "m": 1024 * 1024}[suffix.lower()]


def parse_partitions(text: str, name: str = "partitions.csv") -> list[Partition]:
    """The rows of a partition table; `name` is used in error messages."""
    partitions: list[Partition] = []
    next_offset = FIRST_OFFSET
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = [field.strip() for field in line.split(",")]
        if len(fields) < 5:
            raise PartitionTableError(
                f"{name}:{number}: expected 'Name, Type, SubType, Offset, Size', got '{line}'"
            )
        part_name, type_text, subtype_text, offset_text, size_text = fields[:5]
        type_ = TYPES.get(type_text.lower())
        if type_ is None:
            type_ = parse_number(type_text)
            if type_ is None or type_ > 0xFE:
                raise PartitionTableError(f"{name}:{number}: bad partition type '{type_text}'")
        subtype = parse_number(subtype_text)  # None: a name (nvs, factory, spiffs, ...)
        size = parse_number(size_text)
        if size is None or size == 0:
            raise PartitionTableError(f"{name}:{number}: bad partition size '{size_text}'")
        if offset_text:
            offset = parse_number(offset_text)
            if offset is None:
                raise PartitionTableError(f"{name}:{number}: bad partition offset '{offset_text}'")
        else:
            align = APP_ALIGN if type_ == TYPES["app"] else DATA_ALIGN
            offset = -(-next_offset // align) * align
        partitions.append(Partition(part_name, type_, subtype, offset, size))
        next_offset = offset + size
    return partitions


def read_partitions(path: str) -> list[Partition]:
    """The partition table in the file `path`."""
    try:
        with open(path, "rb") as source:
            data = source.read()
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise PartitionTableError(f"cannot open partition table {path}: {reason}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PartitionTableError(f"{path}: not a partition table (CSV text)") from None
    return parse_partitions(text, path)


def lfs_partition(partitions: list[Partition], name: str = "partitions.csv") -> Partition:
    """The LFS partition (type 0xC2, subtype 0x01) of a table."""
    for partition in partitions:
        if partition.type == LFS_TYPE and partition.subtype == LFS_SUBTYPE:
            return partition
    raise PartitionTableError(f"{name}: no LFS partition (type 0xC2, subtype 0x01)")


def lfs_partition_size(path: str) -> int:
    """`--partition-table PATH`: the size of its LFS partition, the `-m` limit."""
    partition = lfs_partition(read_partitions(path), path)
    if partition.size & 0xFFF:
        raise PartitionTableError(
            f"{path}: the LFS partition's size 0x{partition.size:x} is not a multiple of 4,096"
        )
    return partition.size
