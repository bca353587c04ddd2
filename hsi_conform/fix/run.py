"""Run ``hsi-conform fix``: validate, plan, write, re-validate until no fixable finding remains (spec/fix.md).

The source is never modified: every pass writes a container into a temporary folder and validates it; the
destination is then written from the source with the whole plan through :func:`hsi_conform.pipeline.output.publish`
(members the plan does not name are copied byte for byte, ``.envi`` data lands at a multiple of 4096 bytes),
checked by CRC before it is published, and validated once more.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform._atomic import atomic_path, temp_name
from hsi_conform._outputs import refuse_output_on_input
from hsi_conform.container.opening import open_container
from hsi_conform.container.reader import Container
from hsi_conform.container.zipread import iter_member_crc, read_zip_structure
from hsi_conform.errors import ContainerVerifyError, InputUnreadableError, InvalidArgumentError
from hsi_conform.finding import Finding, Report
from hsi_conform.fix.plan import Plan, fixable, header_diff
from hsi_conform.pipeline.output import Content, publish
from hsi_conform.rules import load_builtin_rules
from hsi_conform.rules.context import Content as Tier
from hsi_conform.validate import check
from hsi_conform.validate.engine import Policy, check_selection

__all__ = ["MAX_PASSES", "FixResult", "fix"]

MAX_PASSES = 4
"""How many rounds of validate-and-fix run at most (a fix may reveal a finding the one before it hid)."""


@dataclass(frozen=True, slots=True)
class FixResult:
    """What ``fix`` did, or would do with ``dry_run``.

    Attributes:
        source: The source's report.
        result: The report of the destination (of the last pass's container for a dry run).
        plan: The header edits and member actions.
        diffs: The unified diff of each changed header member, by member name.
        written: The destination written, or None (dry run, or in place with nothing to fix).
        backup: The ``.orig`` copy of the source an in-place fix kept, or None.
    """

    source: Report
    result: Report
    plan: Plan
    diffs: dict[str, str] = field(default_factory=dict)
    written: Path | None = None
    backup: Path | None = None

    @property
    def fixed(self) -> tuple[Finding, ...]:
        """The source's findings that the destination no longer has (compared by :meth:`Finding.identity`)."""
        remaining = {f.identity() for f in self.result.findings}
        return tuple(f for f in self.source.findings if f.identity() not in remaining)


def fix(source: str | os.PathLike[str], dest: str | os.PathLike[str] | None = None, *,
        select: Sequence[str] = (), ignore: Sequence[str] = (), unsafe: bool = False, dry_run: bool = False,
        backup: bool = True) -> FixResult:
    """Fix what the rules' declared fixes can fix in a ``.hsi`` file and write the result to ``dest``.

    Args:
        source: The ``.hsi`` file (never modified, unless ``dest`` is None).
        dest: The fixed container; None fixes ``source`` in place: the result replaces it atomically and the
            original is kept as ``<source>.orig`` unless ``backup`` is False.
        select: Rules whose fixes to apply (ids, id prefixes or names; empty: every rule).
        ignore: Rules whose fixes not to apply.
        unsafe: Apply the fixes declared ``unsafe`` too (spec/fix.md#unsafe-fixes).
        dry_run: Plan, write the passes into a temporary folder and validate them, but write nothing else.
        backup: In place only: keep the original as ``<source>.orig``.

    Returns:
        The reports, plan and diffs.

    Raises:
        InputUnreadableError: ``source`` is missing or not a regular file.
        InvalidArgumentError: ``<source>.orig`` exists already (an in-place fix never replaces a backup).
        ConfigError: a selector names no rule; ``dest`` is ``source``.
        ContainerError: a member needed for a fix cannot be read.
        ContainerVerifyError: the written container's bytes do not match their CRCs (nothing is published).
    """
    src = Path(InputUnreadableError.checked_path(source))
    if not src.is_file():
        raise InputUnreadableError(str(src), "not a .hsi file" if src.exists() else "no such file")
    load_builtin_rules()
    policy = Policy(select=tuple(select), ignore=tuple(ignore))
    check_selection(policy)
    out = Path(dest) if dest is not None else None
    if out is not None:
        refuse_output_on_input([out], [src])
    orig = src.with_name(src.name + ".orig")
    if out is None and backup and not dry_run and orig.exists():
        raise InvalidArgumentError(f"{orig} exists: move it away, or give --no-backup")
    with tempfile.TemporaryDirectory(prefix="hsi-conform-fix-") as tmp, open_container(src) as container:
        first = check(src)
        plan, last = _passes(container, first, policy, unsafe, Path(tmp))
        diffs = {m: header_diff(m, container.read_bytes(m), data) for m, data in plan.headers.items()}
        if dry_run:
            return FixResult(first, last, plan, diffs)
        if out is None:
            written, kept = _in_place(container, plan, orig if backup else None)
        else:
            written, kept = _to_dest(container, plan, out), None
    result = check(written, content=Tier.CRC) if written is not None else last
    return FixResult(first, result, plan, diffs, written, kept)


def _passes(container: Container, first: Report, policy: Policy, unsafe: bool, tmp: Path) -> tuple[Plan, Report]:
    plan, report = Plan(), first
    for n in range(MAX_PASSES):
        todo = fixable(report, policy, unsafe=unsafe, plan=plan)
        if not todo or not plan.extend(container, todo):
            break
        trial = tmp / f"pass-{n}.hsi"
        _write(container, trial, plan)
        report = check(trial)
    return plan, report


def _to_dest(container: Container, plan: Plan, dest: Path) -> Path:
    if plan.empty:  # nothing to fix: the destination is the source, byte for byte
        with atomic_path(dest) as tmp:
            shutil.copyfile(container.path, tmp)
        return dest
    staged = temp_name(dest)
    try:
        _write(container, staged, plan)
        _verify(container.path, staged, plan)
        os.replace(staged, dest)
    finally:
        staged.unlink(missing_ok=True)
    return dest


def _in_place(container: Container, plan: Plan, orig: Path | None) -> tuple[Path | None, Path | None]:
    if plan.empty:
        return None, None  # nothing to fix: the source stays as it is, no backup
    src = container.path
    staged = temp_name(src)
    try:
        _write(container, staged, plan)
        _verify(src, staged, plan)
        if orig is not None:
            _keep(src, orig)
        os.replace(staged, src)  # atomic: readers see the old file or the fixed one
    finally:
        staged.unlink(missing_ok=True)
    return src, orig


def _keep(src: Path, orig: Path) -> None:
    """Keep the source as ``orig`` while it still sits at ``src``: a hard link, or a copy where links fail."""
    try:
        os.link(src, orig)
    except OSError:
        with atomic_path(orig) as tmp:
            shutil.copy2(src, tmp)


def _write(container: Container, dest: Path, plan: Plan) -> None:
    add: dict[str, Content] = dict(plan.headers)
    for member, size in plan.truncate.items():
        add[member] = _prefix(container, member, size)
    # thumbnail=False: a header fix does not change the cube, so the source's thumbnail (or its absence) stays.
    publish(container, dest, add=add, thumbnail=False)


def _prefix(container: Container, member: str, size: int) -> Content:
    """Return the first ``size`` bytes of a member, mapped (streamed by the writer, never read whole)."""
    info = container.info(member)
    if size == 0:
        return b""
    mapped: np.ndarray[Any, Any] = np.memmap(info.file, dtype=np.uint8, mode="r", offset=info.offset, shape=(size,))
    return mapped


def _verify(source: Path, written: Path, plan: Plan) -> None:
    """Check every written member against its CRC, and every copied member against the source's bytes.

    Raises:
        ContainerVerifyError: a member's bytes differ (the staged file is not published).
    """
    wrote = _crcs(written)
    for name, (recorded, actual) in wrote.items():
        if recorded != actual:
            raise ContainerVerifyError(f"{written}: {name} does not match its CRC-32 after writing")
    changed = set(plan.headers) | set(plan.truncate)
    copied = [name for name in wrote if name not in changed]
    had = _crcs(source, copied)
    for name in copied:
        if name in had and had[name][1] != wrote[name][1]:
            raise ContainerVerifyError(f"{written}: {name} differs from the source's bytes")


def _crcs(path: Path, names: Iterable[str] | None = None) -> dict[str, tuple[int, int]]:
    """Return ``{member: (recorded CRC, computed CRC)}`` of a ZIP file's members (all, or these names)."""
    structure = read_zip_structure(path)
    wanted = None if names is None else set(names)
    members = [m for m in structure.members if wanted is None or m.name in wanted]
    return {member.name: (member.crc, crc) for member, crc in iter_member_crc(path, structure, members)}
