"""The exception tree shared by every layer of luacross.

Only the CLI turns these into text and exit codes; every layer raises its own
subclass, carrying the file and line (or byte offset) the problem belongs to.
"""


class LuacrossError(Exception):
    """Base of every error luacross reports to a user (never a bug)."""


class LcFormatError(LuacrossError):
    """A `.lc` chunk that cannot be read or written (`offset` is a byte offset)."""

    def __init__(self, reason: str, offset: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


class LcMemoryError(LuacrossError):
    """A `.lc` chunk asks lundump for a buffer no host can allocate: the Lua VM's
    memory error, reported without lundump's "in precompiled chunk" (`offset` as above)."""

    def __init__(self, reason: str, offset: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


class ImageError(LuacrossError):
    """An LFS image that cannot be built (size limits, module count, ...)."""


class LoaderError(LuacrossError):
    """The device loader rejected an image; `str()` is the firmware's own message."""
