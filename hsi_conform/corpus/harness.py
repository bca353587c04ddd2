"""Run readers over an exported corpus and score them (JSONTestSuite's harness protocol).

A reader is a command line with ``{file}`` where the case's path goes (appended when absent) and, optionally,
``{content}`` where the content tier the case's expectation needs goes (``none``, ``crc`` or ``full``: the
manifest's ``content``; a validator is run at that tier), or a built-in name (:mod:`hsi_conform.corpus.readers`).
Per case: exit 0 = accepted, 1 = rejected, anything else (another code, a signal) = crash, no exit within the
timeout = timeout (the reader's whole process group is killed).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hsi_conform._progress import Progress
from hsi_conform.corpus.export import ACCEPT, IMPLEMENTATION, MANIFEST, REJECT, read_manifest
from hsi_conform.errors import ConfigError, InputUnreadableError
from hsi_conform.rules.context import Content

Outcome = Literal["accepted", "rejected", "crash", "timeout"]
BUILTIN_READERS = ("gdal", "spectral", "hsi-conform")
DEFAULT_TIMEOUT = 10.0
_DETAIL_CHARS = 160


@dataclass(frozen=True, slots=True)
class Reader:
    """A reader command: ``argv`` with ``{file}`` placeholders."""

    name: str
    argv: tuple[str, ...]

    @classmethod
    def parse(cls, spec: str) -> Reader:
        """Return a built-in reader by name, or a reader from a command line (``CMD {file}``, ``{content}``).

        Raises:
            ConfigError: an empty command, or a program that cannot be found.
        """
        if spec in BUILTIN_READERS:
            return cls(spec, (sys.executable, "-m", "hsi_conform.corpus.readers", spec, "{file}", "{content}"))
        argv = tuple(shlex.split(spec))
        if not argv:
            raise ConfigError("--reader needs a command")
        if shutil.which(argv[0]) is None:
            raise ConfigError(f"reader program not found: {argv[0]}")
        if not any("{file}" in a for a in argv):
            argv = (*argv, "{file}")
        return cls(spec, argv)

    def command(self, file: Path, content: str = Content.NONE.value) -> list[str]:
        """Return the command line for one case (``content``: the tier its expectation needs)."""
        return [a.replace("{file}", str(file)).replace("{content}", content) for a in self.argv]


@dataclass(frozen=True, slots=True)
class Run:
    """One reader on one case."""

    file: str
    expect: str
    outcome: Outcome
    returncode: int | None = None
    detail: str = ""

    @property
    def status(self) -> str:
        """Return the JSONTestSuite-style status of the run.

        One of ``ok``, ``should-have-accepted``, ``should-have-rejected``, ``crash``, ``timeout``, or for
        implementation-defined cases ``implementation-accepted`` / ``implementation-rejected``.
        """
        if self.outcome in ("crash", "timeout"):
            return self.outcome
        if self.expect == IMPLEMENTATION:
            return f"implementation-{self.outcome}"
        if (self.expect == ACCEPT) == (self.outcome == "accepted"):
            return "ok"
        return "should-have-accepted" if self.expect == ACCEPT else "should-have-rejected"

    @property
    def failed(self) -> bool:
        """Whether the reader got this case wrong (implementation-defined cases fail only by crash or timeout)."""
        return self.status in ("should-have-accepted", "should-have-rejected", "crash", "timeout")

    def to_dict(self) -> dict[str, Any]:
        """Return the run as JSON-ready data."""
        return {"file": self.file, "expect": self.expect, "outcome": self.outcome, "status": self.status,
                "returncode": self.returncode, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class ReaderResults:
    """Every run of one reader."""

    reader: Reader
    runs: tuple[Run, ...]

    def counts(self) -> dict[str, int]:
        """Return the matrix figures of this reader."""
        def n(expect: str, outcome: str | None = None) -> int:
            return sum(r.expect == expect and outcome in (None, r.outcome) for r in self.runs)

        return {"cases": len(self.runs),
                "should_accept": n(ACCEPT), "accepted": n(ACCEPT, "accepted"),
                "should_reject": n(REJECT), "rejected": n(REJECT, "rejected"),
                "implementation_defined": n(IMPLEMENTATION),
                "implementation_accepted": n(IMPLEMENTATION, "accepted"),
                "implementation_rejected": n(IMPLEMENTATION, "rejected"),
                "crashes": sum(r.outcome == "crash" for r in self.runs),
                "timeouts": sum(r.outcome == "timeout" for r in self.runs),
                "failures": len(self.failures())}

    def failures(self) -> list[Run]:
        """Return the runs the reader got wrong."""
        return [r for r in self.runs if r.failed]

    def to_dict(self) -> dict[str, Any]:
        """Return the results as JSON-ready data."""
        return {"reader": self.reader.name, "command": list(self.reader.argv), "counts": self.counts(),
                "runs": [r.to_dict() for r in self.runs]}


def run_one(reader: Reader, path: Path, expect: str, timeout: float = DEFAULT_TIMEOUT,
            content: str = Content.NONE.value) -> Run:
    """Run a reader on one case and classify the outcome.

    Args:
        reader: The reader.
        path: The case's file.
        expect: The case's expectation.
        timeout: Seconds before the reader's process group is killed.
        content: The content tier the expectation needs (the manifest's ``content``), for ``{content}``.

    Raises:
        ConfigError: the reader's program cannot be started.
    """
    try:
        proc = subprocess.Popen(reader.command(path, content), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        raise ConfigError(f"cannot start reader {reader.name!r}: {exc}") from exc
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return Run(path.name, expect, "timeout")
    code = proc.returncode
    outcome: Outcome = "accepted" if code == 0 else "rejected" if code == 1 else "crash"
    return Run(path.name, expect, outcome, code, _last_line(err, path.parent))


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def _last_line(err: bytes, corpus: Path) -> str:
    lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    text = lines[-1].strip() if lines else ""
    return text.replace(str(corpus.resolve()), "CORPUS").replace(str(corpus), "CORPUS")[:_DETAIL_CHARS]


def run_corpus(directory: str | Path, readers: Sequence[Reader], *, timeout: float = DEFAULT_TIMEOUT,
               jobs: int | None = None, progress: Progress | None = None) -> list[ReaderResults]:
    """Run every reader on every case of an exported corpus (``jobs`` processes at a time).

    Each case is run with the content tier its manifest entry states (``{content}`` of the reader's command).
    ``progress`` (its ``total`` set here) counts the runs and names the last one done.

    Raises:
        ConfigError: the folder is not an exported corpus, or a reader cannot be started.
        InputUnreadableError: the corpus has no case (scoring nothing would pass every reader).
    """
    root = Path(directory)
    try:
        entries = read_manifest(root)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{root}: not an exported corpus ({exc})") from exc
    if not entries:
        raise InputUnreadableError(str(root), f"{MANIFEST} lists no cases")
    tasks = [(reader, root / e["file"], str(e["expect"]), str(e["content"])) for reader in readers for e in entries]
    bar = progress or Progress(len(tasks), enabled=False)
    bar.total = len(tasks)

    def run(task: tuple[Reader, Path, str, str]) -> Run:
        done = run_one(task[0], task[1], task[2], timeout, task[3])
        bar.advance(f"{task[0].name} {task[1].name}")
        return done

    with bar, ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1)) as pool:
        runs = list(pool.map(run, tasks))
    return [ReaderResults(reader, tuple(runs[i * len(entries):(i + 1) * len(entries)]))
            for i, reader in enumerate(readers)]


def results_json(results: Sequence[ReaderResults]) -> dict[str, Any]:
    """Return the results matrix as JSON-ready data."""
    return {"readers": [r.to_dict() for r in results]}


def render_markdown(results: Sequence[ReaderResults]) -> str:
    """Return the results matrix as Markdown: a summary per reader, the disagreements, the failures."""
    parts = [_summary_table(results), _disagreements(results), _failure_lists(results)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _summary_table(results: Sequence[ReaderResults]) -> str:
    rows = ["| reader | accepted / should accept | rejected / should reject | crashes | timeouts "
            "| implementation-defined: accepted / rejected | failures |",
            "|---|---|---|---|---|---|---|"]
    for r in results:
        c = r.counts()
        rows.append(f"| {_cell(r.reader.name)} | {c['accepted']} / {c['should_accept']} "
                    f"| {c['rejected']} / {c['should_reject']} | {c['crashes']} | {c['timeouts']} "
                    f"| {c['implementation_accepted']} / {c['implementation_rejected']} "
                    f"(of {c['implementation_defined']}) | {c['failures']} |")
    return "\n".join(rows)


def _disagreements(results: Sequence[ReaderResults]) -> str:
    if not results:
        return ""
    failing = sorted({run.file for r in results for run in r.failures()})
    if not failing:
        return "Every reader got every case right."
    by_file = [{run.file: run for run in r.runs} for r in results]
    head = "| file | expect | " + " | ".join(_cell(r.reader.name) for r in results) + " |"
    rows = [f"Cases some reader got wrong ({len(failing)}; ✗ = wrong):", "", head,
            "|---|---|" + "---|" * len(results)]
    for name in failing:
        cells = [_mark(runs[name]) for runs in by_file]
        rows.append(f"| `{name}` | {runs_expect(by_file, name)} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def runs_expect(by_file: Sequence[dict[str, Run]], name: str) -> str:
    """Return the expectation of a case as recorded by the first reader that ran it."""
    return next(runs[name].expect for runs in by_file if name in runs)


def _mark(run: Run) -> str:
    return f"{run.outcome} ✗" if run.failed else run.outcome


def _failure_lists(results: Sequence[ReaderResults]) -> str:
    out = []
    for r in results:
        fails = r.failures()
        if not fails:
            continue
        lines = [f"Failures of {_cell(r.reader.name)} ({len(fails)}):", ""]
        for run in fails:
            detail = f": {run.detail}" if run.outcome in ("crash", "timeout") and run.detail else ""
            lines.append(f"- `{run.file}` {run.status}{_cell(detail)}")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
