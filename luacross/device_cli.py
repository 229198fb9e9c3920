"""`luacross check` and `luacross run`: the device model on the command line.

These are ordinary typer commands (they have no luac.cross rules to honour).
They call `luacross.runtime`, which models the firmware's loader and runs the
image's modules in a Lua 5.1 VM.
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from lfs_format.errors import LuacrossError

app = typer.Typer(
    name="luacross",
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Check and run NodeMCU LFS images on the PC.",
)
stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def parse_size(text: str) -> int:
    """A size or address as `-m`/`-a` read them: 0x.., octal, decimal, K/M suffixes."""
    from luacross.cli import UsageError, parse_number

    try:
        return parse_number(text, "size", sizes=True)
    except UsageError as exc:
        raise typer.BadParameter(str(exc)) from None


SizeOption = Annotated[
    int | None,
    typer.Option(
        "--lfs-size",
        parser=parse_size,
        metavar="SIZE",
        help="LFS partition size (64K, 0x10000, ...); default: as large as the image needs",
    ),
]


def read_image(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LuacrossError(f"cannot open {path}: {exc.strerror}") from None


def fail(message: str) -> typer.Exit:
    stderr.print(f"luacross: {escape(message)}")
    return typer.Exit(code=1)


@app.command()
def check(
    image: Annotated[Path, typer.Argument(help="LFS image (.img from -f, or raw from -a)")],
    integral: Annotated[
        bool, typer.Option("--int", help="check as the integer firmware build would")
    ] = False,
    lfs_size: SizeOption = None,
) -> None:
    """Validate IMAGE as the firmware's loader does (first pass), and summarise it."""
    from luacross.runtime import check_image

    try:
        summary = check_image(read_image(image), integral=integral, lfs_size=lfs_size)
    except LuacrossError as exc:
        raise fail(str(exc)) from None
    for line in summary.lines():
        stdout.print(escape(line))


@app.command()
def run(
    image: Annotated[Path, typer.Argument(help="LFS image to load, boot and run")],
    module: Annotated[
        str | None, typer.Argument(help="module to run (default: _init if present)")
    ] = None,
    code: Annotated[
        str | None, typer.Option("-e", metavar="CODE", help="Lua code to run after boot")
    ] = None,
    lfs_base: Annotated[
        int | None,
        typer.Option(
            "--lfs-base", parser=parse_size, metavar="ADDR", help="mapped address of the partition"
        ),
    ] = None,
    lfs_size: SizeOption = None,
) -> None:
    """Load IMAGE into a simulated LFS partition, boot it and run MODULE or CODE."""
    from luacross.runtime import INTEGER_ON_FLOAT_VM, image_is_integral, run_image

    data = read_image(image)
    if image_is_integral(data):
        stderr.print(f"luacross: note: {escape(INTEGER_ON_FLOAT_VM)}")
    try:
        run_image(
            data,
            module=module,
            code=code,
            lfs_base=lfs_base,
            lfs_size=lfs_size,
            output=EchoedLines(),
        )
    except LuacrossError as exc:
        raise fail(str(exc)) from None


class EchoedLines(list):
    """The device's print output, shown on stdout as each line is printed."""

    def append(self, line: str) -> None:
        super().append(line)
        typer.echo(line)


def run_device_command(args: list[str]) -> int:
    """Run `check`/`run` with typer; return the exit status instead of exiting."""
    try:
        status = app(args, prog_name="luacross", standalone_mode=False)
    except typer.Abort:
        return 1
    except typer.TyperException as exc:  # usage errors: the parser's message, status 1
        exc.show()
        return 1
    return status if isinstance(status, int) else 0
