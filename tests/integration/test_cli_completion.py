"""Shell completion (bash, zsh, fish) and the manual page, generated from the parser (issue 20, item 10;
spec/cli-tools.md#completion)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hsi_conform import _docs
from hsi_conform.cli.main import build_parser
from hsi_conform.cli.parsermodel import walk
from hsi_conform.rules import load_builtin_rules
from tests._process import run_cli

# (words typed, with the word under the cursor last) -> what must be offered (and, for some, only that)
CASES = [
    (["val"], {"validate"}),
    (["validate", "--con"], {"--content", "--config"}),
    (["validate", "--content", ""], {"none", "crc", "full"}),
    (["validate", "--select", "HDR01"], {f"HDR01{i}" for i in range(10)}),
    (["explain", "hdr-key-c"], {"hdr-key-case", "hdr-key-charset"}),
    (["rules", "FLD00"], {f"FLD00{i}" for i in range(1, 10)}),
    (["convert", "--to", "h"], {"hdf5", "hsi"}),
    (["formats", ""], {"envi", "hdf5", "hsi", "legacy", "specim", "tiff"}),
    (["corpus", ""], {"export", "run"}),
    (["completion", ""], {"bash", "zsh", "fish"}),
    (["info", "--format", ""], {"text", "json"}),
]


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("completion")
    out = {}
    for shell in ("bash", "zsh", "fish"):
        run = run_cli("completion", shell)
        assert run.returncode == 0, run.stderr
        out[shell] = folder / f"hsi-conform.{shell}"
        out[shell].write_text(run.stdout, encoding="utf-8")
    return out


def _offered(shell: str, script: Path, words: list[str]) -> set[str]:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    quoted = " ".join(f'"{w}"' for w in ["hsi-conform", *words])
    if shell == "fish":
        line = " ".join(["hsi-conform", *words])
        program = f"source {script}; complete -C '{line}'"
    else:
        call = f'COMP_WORDS=({quoted}); COMP_CWORD={len(words)}; _hsi_conform; printf "%s\\n" "${{COMPREPLY[@]}}"'
        program = (f"source {script}; {call}" if shell == "bash" else
                   f"autoload -U +X compinit && compinit -u; source {script}; emulate sh -c '{call}'")
    run = subprocess.run([shell, "-c", program], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    return {line.split("\t")[0] for line in run.stdout.splitlines() if line}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_offers_commands_options_choices_rules_and_formats(scripts: dict[str, Path], shell: str) -> None:
    for words, expected in CASES:
        offered = _offered(shell, scripts[shell], words)
        if shell == "zsh":  # zsh filters the candidates by what is typed itself (bashcompinit's compgen does not)
            offered = {o for o in offered if o.startswith(words[-1])}
        assert expected <= offered, (words, offered)
        assert all(o.startswith(words[-1]) for o in offered), (words, offered)


def test_every_command_option_and_rule_is_in_every_script(scripts: dict[str, Path]) -> None:
    commands = list(walk(build_parser()))
    ids = [r.id for r in load_builtin_rules()]
    for shell, path in scripts.items():
        text = path.read_text(encoding="utf-8")
        for command in commands:
            for name in command.subcommands:
                assert name in text, (shell, name)
            for option in command.options:
                assert option.strings[0][2:] in text, (shell, command.path, option.strings)
        assert all(rule_id in text for rule_id in ids), shell


def test_man_page_is_generated_from_the_parser_and_renders_cleanly(tmp_path: Path) -> None:
    page = (_docs.ROOT / "docs" / "hsi-conform.1").read_text(encoding="utf-8")
    run = run_cli("manpage")
    assert run.returncode == 0 and run.stdout == page  # the installed command prints the committed page
    for command in walk(build_parser()):
        if command.path:
            assert f'.SS "{" ".join(command.path)}"' in page, command.path
        for option in command.options:
            assert option.strings[0].replace("-", "\\-") in page, (command.path, option.strings)
    assert ".SH EXIT STATUS" in page and "\\fB2\\fR (USAGE)" in page
    if shutil.which("groff") is None:
        pytest.skip("groff is not installed")
    rendered = subprocess.run(["groff", "-man", "-ww", "-Tutf8"], input=page, capture_output=True, text=True,
                              check=False, timeout=60)
    assert rendered.returncode == 0 and rendered.stderr == "", rendered.stderr
    assert "hsi-conform - validate, describe and convert" in rendered.stdout.replace("\u2010", "-")
