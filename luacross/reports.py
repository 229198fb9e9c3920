"""Build reports: `--report` (the per-module table after an image build) and
`--json FILE` (the same as JSON, `luacross-inspect/1`, docs/inspect-json.md),
and the size gate's detailed message."""

import json
import sys

from lfs_format.errors import LuacrossError


def _examine(opts, result) -> dict:
    from luacross.inspect import examine

    where = "stdout" if opts.output is None else opts.output
    return examine(where, result.data)


def too_large(opts, result, limit: int) -> str:
    """`lfs.img: 169924 bytes, over the 131072-byte limit by 38852; biggest modules: ...`"""
    where = "stdout" if opts.output is None else opts.output
    text = (
        f"{where}: {result.flash_size} bytes, over the {limit}-byte limit by "
        f"{result.flash_size - limit}"
    )
    report = _examine(opts, result)
    image = report.get("image") or {}
    modules = [m for m in image.get("modules", []) if m.get("bytes") is not None]
    if modules:
        biggest = sorted(modules, key=lambda m: -m["bytes"])[:3]
        text += "; biggest modules: " + ", ".join(f"{m['name']} {m['bytes']}" for m in biggest)
    return text


def build_report(opts, result, limit: int | None) -> None:
    """Print the table (stdout, or stderr when the image goes to stdout) and/or write JSON."""
    from luacross.inspect import document, module_table

    report = _examine(opts, result)
    image = report.get("image")
    if opts.json is not None:
        doc = document([report])
        doc["limit"] = limit
        data = (json.dumps(doc, indent=2) + "\n").encode()
        from luacross.api import write_output

        write_output(None if opts.json == "-" else opts.json, data)
    if not opts.report or not image:
        return
    stream = sys.stderr if opts.output is None or opts.json == "-" else sys.stdout
    total = image["flash_size"]
    against = "" if limit is None else f" of {limit} ({100 * total / limit:.1f}%)"
    footer = f"total: {total} bytes of flash{against}"
    if stream.isatty():
        try:
            _rich_table(image, footer, stream)
            return
        except ImportError:
            pass
    lines = module_table(image["modules"])
    overhead = image.get("overhead")
    if overhead:
        lines.append(f"  {'(image)':<{len(lines[0]) - 72}}{sum(overhead.values()):>10}")
    lines.append(footer)
    stream.flush()
    stream.write("\n".join(lines) + "\n")
    stream.flush()


def _rich_table(image: dict, footer: str, stream) -> None:
    from rich.console import Console
    from rich.table import Table

    from luacross.inspect import MODULE_COLUMNS

    table = Table(title=None, show_footer=False)
    table.add_column("module")
    for column in MODULE_COLUMNS:
        table.add_column(column, justify="right")
    for m in image["modules"]:
        table.add_row(m["name"], *("-" if m[c] is None else str(m[c]) for c in MODULE_COLUMNS))
    overhead = image.get("overhead")
    if overhead:
        table.add_row("(image)", str(sum(overhead.values())), *[""] * (len(MODULE_COLUMNS) - 1))
    console = Console(file=stream)
    console.print(table)
    console.print(footer)


__all__ = ["LuacrossError", "build_report", "too_large"]
