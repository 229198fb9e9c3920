"""A transient progress line on stderr for builds that take a while.

Shown only when stderr is a terminal and `-q` was not given, and only once the
build has run for `DELAY` seconds (a timer thread): quick builds print nothing
and never import rich. The line is erased when the build ends, before anything
else is written, so stdout and the output files are the same with or without it.
`LUACROSS_PROGRESS_DELAY` (seconds) changes the delay; 0 shows it at once.
"""

import os
import sys
import threading

DELAY = 0.3  # seconds a build runs before the line appears


class Progress:
    """Steps of a build (each input, the resources, the image), shown by rich on demand."""

    def __init__(self, total: int, delay: float = DELAY) -> None:
        self._lock = threading.Lock()
        self._total = total
        self._begun = 0  # steps begun; all but the last are done
        self._completed = 0
        self._text = "compiling"
        self._bar = None  # rich.progress.Progress, once shown
        self._task = None
        self._closed = False
        self._timer: threading.Timer | None = None
        if delay <= 0:
            self._show()
        else:
            self._timer = threading.Timer(delay, self._show)
            self._timer.daemon = True
            self._timer.start()

    def step(self, text: str) -> None:
        """A new step begins (`text` says what it does); the one before is done."""
        with self._lock:
            self._completed = self._begun
            self._begun += 1
            self._text = text
            if self._bar is not None:
                self._bar.update(self._task, description=text, completed=self._completed)

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress as Bar,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        with self._lock:
            if self._closed:
                return
            console = Console(file=sys.stderr)
            if not console.is_interactive:  # TERM=dumb: no line to redraw
                return
            bar = Bar(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._task = bar.add_task(self._text, total=self._total, completed=self._completed)
            bar.start()
            self._bar = bar

    def close(self) -> None:
        """Erase the line (if it was shown); nothing is shown after this."""
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._closed = True
            bar, self._bar = self._bar, None
            if bar is not None:
                bar.stop()


_active: Progress | None = None


def start(total: int) -> Progress:
    """The progress line of a build of `total` steps (the caller has checked that
    stderr is a terminal and `-q` was not given)."""
    global _active
    try:
        delay = float(os.environ.get("LUACROSS_PROGRESS_DELAY", DELAY))
    except ValueError:
        delay = DELAY
    _active = Progress(total, delay)
    return _active


def stop() -> None:
    """Erase the progress line, if any (before a message or the build's output)."""
    global _active
    progress, _active = _active, None
    if progress is not None:
        progress.close()
