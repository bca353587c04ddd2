"""The golden corpus: load ``fixtures/**/case.json`` cases, build their inputs, compare findings.

A case folder is ``fixtures/<chapter>/<RULE>-<name>/<valid|error|warning|info>-<slug>/`` with a ``case.json``
(schema: ``fixtures/case.schema.json``) and its input, one of:

- ``"input": "sample"``: the sample container (:func:`~hsi_conform.testing.samples.sample_members`), with
  the files under ``expanded/`` added or replacing members, and the members listed in ``"remove"`` removed;
  ``"as": "folder"`` validates it as an expanded folder instead of a ``.hsi`` file;
- ``"input": "expanded"``: only the files under ``expanded/``;
- ``"input": "<file>"``: a checked-in file (used only when the ZIP bytes themselves are the defect).

``expect`` lists every finding (exhaustive): each item names a rule and may pin ``member``, ``line``,
``column``, ``field``, ``item`` and ``severity``.

Cases and their files are found with the one directory walker (:mod:`hsi_conform._walk`): symbolic links are
neither followed nor loaded, so nothing outside the fixtures tree enters a case or the exported corpus, and a
folder that cannot be read is an error, never a silently smaller corpus (spec/safety.md#batches).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hsi_conform._resources import data_folder
from hsi_conform._walk import WalkError, files_under, make_folders
from hsi_conform.errors import InputUnreadableError
from hsi_conform.finding import Finding, Report
from hsi_conform.limits import Limits
from hsi_conform.rules import DEFAULT_PROFILE
from hsi_conform.testing.samples import sample_members, write_members
from hsi_conform.validate import CheckOptions, Content, check
from hsi_conform.validate.engine import Policy

__all__ = ["FIXTURES", "PIPELINE_FOLDER", "Case", "build_input", "case_files", "case_members", "compare", "load_cases",
           "run_case"]

FIXTURES = data_folder("fixtures")
PIPELINE_FOLDER = "pipeline"
"""The folder of ``fixtures/`` that holds the read pipeline's golden cases (an operation, its arguments and the
expected arrays; spec/pipeline.md): they are not validation cases, and :func:`load_cases` leaves them out."""
_PINNED = ("member", "line", "column", "field", "item")


@dataclass(frozen=True, slots=True)
class Case:
    """One golden case."""

    path: Path
    data: dict[str, Any]

    @property
    def id(self) -> str:
        """The case's path relative to ``fixtures/`` (used as the test id)."""
        return self.path.relative_to(FIXTURES).as_posix() if self.path.is_relative_to(FIXTURES) else str(self.path)

    @property
    def verdict(self) -> str:
        """``valid``, ``error``, ``warning`` or ``info``: the folder-name prefix."""
        return self.path.name.split("-", 1)[0]

    @property
    def expect(self) -> list[dict[str, Any]]:
        """The expected findings."""
        return list(self.data.get("expect", []))

    @property
    def rules(self) -> list[str]:
        """The rule ids the case expects."""
        return sorted({e["rule"] for e in self.expect})


def _unreadable(error: WalkError) -> None:
    raise InputUnreadableError(str(error.path), error.reason)


def load_cases(root: Path = FIXTURES) -> list[Case]:
    """Return every validation case under ``root``, sorted by path (symbolic links are neither followed nor loaded).

    The read pipeline's cases (:data:`PIPELINE_FOLDER`) expect arrays, not findings: they are left out, and their
    own tests load them.

    Raises:
        InputUnreadableError: a folder of the tree cannot be read.
    """
    found = [p for p in files_under(root, on_error=_unreadable)
             if p.name == "case.json" and p.relative_to(root).parts[0] != PIPELINE_FOLDER]
    return [Case(p.parent, json.loads(p.read_text(encoding="utf-8"))) for p in found]


def case_files(case: Case) -> dict[str, Path]:
    """Return the files under the case's ``expanded/`` folder by member name, sorted (symbolic links left out).

    Raises:
        InputUnreadableError: a folder under ``expanded/`` cannot be read.
    """
    expanded = case.path / "expanded"
    if not expanded.is_dir():
        return {}
    return {f.relative_to(expanded).as_posix(): f for f in files_under(expanded, on_error=_unreadable)}


def case_members(case: Case) -> dict[str, bytes]:
    """Return the members of a case built from ``sample`` or ``expanded`` input."""
    members = sample_members() if case.data.get("input") == "sample" else {}
    for name in case.data.get("remove", []):
        members.pop(name, None)
    for name, f in case_files(case).items():
        members[name] = f.read_bytes()
    return members


def build_input(case: Case, workdir: Path) -> Path:
    """Build the input of a case inside ``workdir`` and return the path to validate."""
    source = case.data.get("input", "sample")
    if source not in ("sample", "expanded"):
        target = workdir / Path(source).name
        shutil.copyfile(case.path / source, target)
        return target
    members = case_members(case)
    if case.data.get("as") == "folder":
        folder = workdir / "container"
        for name, data in members.items():
            dest = folder / name
            make_folders(dest.parent)
            dest.write_bytes(data)
        return folder
    return write_members(workdir / "case.hsi", members)


def run_case(case: Case, workdir: Path) -> Report:
    """Validate a case's input under the case's profile and content tier."""
    policy = Policy(profile=case.data.get("profile", DEFAULT_PROFILE))
    options = CheckOptions(content=Content(case.data.get("content", Content.NONE)),
                           limits=Limits(**case.data.get("limits", {})))
    return check(build_input(case, workdir), policy=policy, options=options)


def _matches(expected: dict[str, Any], finding: Finding) -> bool:
    if expected["rule"] != finding.rule:
        return False
    if "severity" in expected and expected["severity"] != finding.severity.label:
        return False
    loc = finding.location
    return all(expected[k] == getattr(loc, k) for k in _PINNED if k in expected)


def compare(case: Case, findings: Iterable[Finding]) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Match expected against actual findings; return ``(missing, unexpected)`` (both empty: the case passes)."""
    remaining = list(findings)
    missing = []
    for expected in case.expect:
        hit = next((f for f in remaining if _matches(expected, f)), None)
        if hit is None:
            missing.append(expected)
        else:
            remaining.remove(hit)
    return missing, remaining
