"""Colour decisions, progress displays, plain messages and the parser's help (spec/cli.md)."""

from __future__ import annotations

import argparse
import io
import time

import pytest

from hsi_conform._progress import Activity, Progress
from hsi_conform.cli.destinations import plain_message
from hsi_conform.cli.main import build_parser
from hsi_conform.cli.output import use_color
from hsi_conform.cli.parser import EXAMPLES, leaf_parsers
from hsi_conform.errors import ExitCode


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("choice", "env", "tty", "expected"), [
    (None, {}, True, True), ("auto", {}, False, False), (None, {"NO_COLOR": "x"}, True, False),
    (None, {"FORCE_COLOR": "1"}, False, True), (None, {"TERM": "dumb"}, True, False),
    ("always", {"NO_COLOR": "1"}, False, True), ("never", {"FORCE_COLOR": "1"}, True, False),
    (None, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),
    (None, {"TERM": "dumb", "FORCE_COLOR": "1"}, True, True),
])
def test_use_color_precedence(choice: str | None, env: dict[str, str], tty: bool, expected: bool) -> None:
    stream = _Terminal() if tty else io.StringIO()
    assert use_color(choice, stream, env) is expected


def test_an_unknown_color_choice_is_refused() -> None:
    with pytest.raises(ValueError, match="color must be one of"):
        use_color("sometimes", io.StringIO(), {})


def test_progress_names_the_item_in_progress_and_erases_its_line() -> None:
    stream = _Terminal()
    with Progress(2, stream=stream, what="migrating") as bar:
        bar.start("first.hsi")
        assert stream.getvalue().split("\r")[-1].startswith("migrating [1/2]")
        assert stream.getvalue().endswith("first.hsi")
        bar.advance()
        bar.start("second.hsi")
        assert "[2/2]" in stream.getvalue().split("\r")[-1] and stream.getvalue().endswith("second.hsi")
    assert stream.getvalue().endswith("\r") and "\n" not in stream.getvalue()
    assert stream.getvalue().split("\r")[-2].strip() == ""  # the line was blanked before the cursor went back


def test_progress_is_silent_off_a_terminal() -> None:
    stream = io.StringIO()
    with Progress(2, stream=stream) as bar:
        bar.start("x")
        bar.advance("x")
    assert stream.getvalue() == ""


def test_activity_draws_the_label_and_the_time_then_erases() -> None:
    stream = _Terminal()
    with Activity("converting a.hsi", stream=stream, interval=0.01):
        deadline = time.monotonic() + 10
        while "converting a.hsi" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)  # drawn by a thread: on a loaded machine its first turn may come late
    text = stream.getvalue()
    assert "converting a.hsi" in text and text.endswith("\r") and "\n" not in text
    silent = io.StringIO()
    with Activity("converting a.hsi", stream=silent, interval=0.01):
        time.sleep(0.05)
    assert silent.getvalue() == ""


@pytest.mark.parametrize(("raw", "plain"), [
    ("cannot write 'd.h5': Is a directory (.d.h5.tmp-20517-be0f95b26d4d59db)", "cannot write 'd.h5': Is a directory"),
    ("cannot write 'x.hsi': No such file (/data/out/.x.hsi.tmp-1-00ff)", "cannot write 'x.hsi': No such file"),
    ("cannot write 'x.h5': Unable to synchronously create file (unable to open file: name = '/t/.x.h5.tmp-1-ab', "
     "errno = 2, error message = 'No such file or directory', flags = 13, o_flags = 242)",
     "cannot write 'x.h5': No such file or directory"),
    ("/tmp/a/.scene.hsi.tmp-12-abcdef: bad", "scene.hsi: bad"),
])
def test_plain_messages_name_no_temp_and_no_library_stack(raw: str, plain: str) -> None:
    assert plain_message(raw) == plain


def _leaves() -> list[tuple[str, argparse.ArgumentParser]]:
    return list(leaf_parsers(build_parser()))


def test_every_option_has_help_with_its_default_and_choices() -> None:
    for path, parser in _leaves():
        for action in parser._actions:
            assert action.help or not action.option_strings, f"{path}: {action.dest}"
        text = parser.format_help()
        assert "choices:" in text or not any(a.choices and a.option_strings and a.metavar for a in parser._actions)
    validate = dict(_leaves())["validate"].format_help()
    assert "choices: none, crc, full" in " ".join(validate.split())
    assert "(default: 64)" in dict(_leaves())["sample"].format_help()


def test_every_subcommand_help_ends_with_examples_and_the_exit_codes() -> None:
    for path, parser in _leaves():
        text = parser.format_help()
        examples = text[text.index("examples:"):text.index("exit codes:")]
        assert 2 <= examples.count("$ hsi-conform ") <= 3, path
        assert all(f"  {int(code)} " in text or f"{int(code)}," in text or f"{int(code)}:" in text
                   for code in ExitCode), path
    assert set(EXAMPLES) <= {path for path, _ in _leaves()}  # no example table row for a command that is gone


def test_no_long_option_is_abbreviated() -> None:
    for path, parser in [("", build_parser()), *_leaves()]:
        assert parser.allow_abbrev is False, path


def test_a_subcommand_with_its_own_verbose_option_keeps_it() -> None:
    from hsi_conform.cli.parser import Parser, finish

    parser = Parser(prog="x")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    own = sub.add_parser("own")
    own.add_argument("-v", "--verbose", action="store_true", help="its own meaning")
    sub.add_parser("plain")
    finish(parser)  # no argparse conflict; the plain one gets both options
    assert parser.parse_args(["own", "-v"]).verbose is True
    assert parser.parse_args(["plain", "-qq"]).quiet == 2
