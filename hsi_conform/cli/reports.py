"""The report documents of ``hsi-conform validate``, written as the reports arrive (spec/report.md#streaming).

One writer per ``--format`` (``-o FILE`` each, in order; the others on standard output). A report goes to every
writer as soon as the batch yields it, in input order; standard output gets the text format's lines at once, and
the documents of the other formats at the end, in ``--format`` order. A file named by ``-o`` is written into a temp
beside it and published (atomically) only when the run ends well: an interrupted run leaves the old file, never a
part.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from hsi_conform._atomic import AtomicFile
from hsi_conform.cli.output import output_of, use_color
from hsi_conform.cli.streams import STDIO
from hsi_conform.errors import ConfigError, ExitCode
from hsi_conform.finding import Report
from hsi_conform.report import WRITERS, RenderOptions, ReportWriter, open_writer
from hsi_conform.validate.engine import exit_code

if TYPE_CHECKING:
    from hsi_conform.cli.settings import RunSettings

__all__ = ["ReportOutputs"]


class _File:
    """A report file: written through a temp beside it, published at the end."""

    def __init__(self, dest: Path, stack: contextlib.ExitStack) -> None:
        self.temp = AtomicFile(dest)
        stack.callback(self.temp.discard)  # a run that stops early publishes nothing (no-op once published)
        self.text = io.TextIOWrapper(self.temp.file, encoding="utf-8", newline="")

    def publish(self) -> None:
        self.text.flush()
        self.text.detach()
        self.temp.publish()


class ReportOutputs:
    """The writers of one run, the running exit code, and the count of files (nothing else is kept).

    Raises:
        ConfigError: more ``-o`` files than formats, or ``-o -`` twice (before any input is read).
    """

    def __init__(self, args: argparse.Namespace, settings: RunSettings, stack: contextlib.ExitStack) -> None:
        formats = list(settings.formats)
        if len(args.output) > len(formats):
            raise ConfigError("more -o files than --format options")
        if args.output.count(STDIO) > 1:
            raise ConfigError("-o - (standard output) can be given once")
        outputs: list[str | None] = [*args.output, *([None] * (len(formats) - len(args.output)))]
        verbosity = output_of(args).verbosity
        self.files = 0
        self.code = ExitCode.OK
        self._writers: list[tuple[ReportWriter, io.StringIO | None]] = []
        self._files: list[_File] = []
        #: Text reaches standard output as the reports arrive: a progress line on the same terminal is erased first.
        self.text_on_terminal = False
        for fmt, out in zip(formats, outputs, strict=True):
            to_stdout = out is None or out == STDIO
            if to_stdout and fmt != "text" and verbosity <= -2:
                continue  # -qq: nothing on standard output
            stream: TextIO = sys.stdout
            if not to_stdout:
                file = _File(Path(str(out)), stack)
                self._files.append(file)
                stream = file.text
            elif fmt not in WRITERS:  # rendered whole at the end anyway; on standard output it ends with a newline
                stream = io.StringIO()
            color = to_stdout and fmt == "text" and use_color(settings.color, sys.stdout)
            self.text_on_terminal |= to_stdout and fmt == "text" and sys.stdout.isatty()
            writer = open_writer(fmt, stream, RenderOptions(color=color, verbosity=verbosity))
            self._writers.append((writer, stream if isinstance(stream, io.StringIO) else None))

    def write(self, report: Report) -> None:
        """Give one report to every writer and count it toward the exit code."""
        self.files += 1
        self.code = max(self.code, exit_code((report,)))  # the worst of all, as exit_code of every report
        for writer, _ in self._writers:
            writer.write(report)

    def close(self) -> None:
        """Finish every document and publish the report files, in the order of ``-o``."""
        for writer, whole in self._writers:
            writer.close()
            if whole is not None:
                text = whole.getvalue()
                sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
        sys.stdout.flush()
        for file in self._files:
            file.publish()
