"""The byte-class tables both cores' lexers scan with: one class per byte value."""


def byte_table(*classes: tuple[bytes, int]) -> bytes:
    """A 256-byte table giving each byte of `members` its class `value` (others 0)."""
    table = bytearray(256)
    for members, value in classes:
        for byte in members:
            table[byte] = value
    return bytes(table)
