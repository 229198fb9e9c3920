"""The Lua 5.1 device: NodeMCU's app/lua firmware, modelled by `luacross.runtime`
(its loader's two passes, `luaN_init`, lupa's Lua 5.1 with the firmware's
libraries). This module is that core's side of `luacross.device`."""

from luacross import runtime as rt
from luacross.device import Build


class Summary51:
    """`runtime.ImageSummary`'s lines, with the build named."""

    def __init__(self, summary: rt.ImageSummary, build: Build) -> None:
        self.summary, self.build = summary, build

    def lines(self) -> list[str]:
        first, *rest = self.summary.lines()
        return [first, f"build: {self.build.label}", *rest]


def check_image(data: bytes, build: Build, *, lfs_size: int | None = None) -> Summary51:
    """The loader's first pass, a scratch partition, boot (LoaderError: the firmware's message)."""
    summary = rt.check_image(data, integral=build.target.integral, lfs_size=lfs_size)
    return Summary51(summary, build)


def notes(build: Build) -> list[str]:
    return [rt.INTEGER_ON_FLOAT_VM] if build.target.integral else []


def open_device(build: Build, **options) -> rt.LfsDevice:
    return rt.LfsDevice(integral=build.target.integral, **options)
