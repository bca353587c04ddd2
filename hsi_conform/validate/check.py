"""The public ``check`` and ``validate``: build a check context, run the engine, grade the report."""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO, cast

from hsi_conform._walk import Folder, Unit, Visit, WalkError, walk
from hsi_conform.container.folder import is_container_folder
from hsi_conform.errors import ConformanceError, InputNotFoundError, InputUnreadableError, InvalidArgumentError
from hsi_conform.finding import Report
from hsi_conform.remote import is_remote, is_url, open_reader
from hsi_conform.rules.context import CheckContext, CheckOptions, Content
from hsi_conform.validate.engine import Policy, run_rules

__all__ = ["check", "expand_inputs", "is_container_folder", "validate"]


def check(path: str | os.PathLike[str] | BinaryIO, *, policy: Policy | None = None,
          options: CheckOptions | None = None, profile: str | None = None, content: str | Content | None = None,
          storage_options: Mapping[str, Any] | None = None) -> Report:
    """Validate one ``.hsi`` file, container folder, URL or file object; never raises for content problems.

    Args:
        path: the container: a path, a URL of any fsspec protocol (``https://``, ``s3://``, ``memory://``...;
            read by ranges, spec/remote.md), a file object (an fsspec file, an open file, ``io.BytesIO``) or a
            :class:`~hsi_conform.remote.ranges.RangeReader` (left open).
        policy: rule selection and grading (default: profile ``exchange``, fail on ERROR).
        options: content tier, ZIP limits and storage options.
        profile: shorthand for ``Policy(profile=...)``.
        content: shorthand for ``CheckOptions(content=...)``: ``none``, ``crc`` or ``full``.
        storage_options: shorthand for ``CheckOptions(storage_options=...)``: the URL's filesystem options.

    Raises:
        InputUnreadableError: the input does not exist (:class:`~hsi_conform.errors.InputNotFoundError`, also a
            ``FileNotFoundError``) or cannot be read (also an ``OSError``), or a remote read failed after its
            retries (exit code 3 at the CLI); the message names the input as given.
        MissingDependencyError: a URL needs a package that is not installed.
        InvalidArgumentError: ``content`` is not a content tier.
        ConfigError: an unknown profile, or a rule selector that matches no rule (``UnknownSelectorError``).
    """
    if profile is not None:
        policy = replace(policy or Policy(), profile=profile)
    if content is not None:
        options = replace(options or CheckOptions(), content=_content(content))
    if storage_options is not None:
        options = replace(options or CheckOptions(), storage_options=dict(storage_options))
    options = options or _default_options()
    policy = policy or _default_policy()
    if is_remote(path):
        return _check_remote(path, policy, options)
    p = Path(InputUnreadableError.checked_path(cast("str | os.PathLike[str]", path)))
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise InputNotFoundError(str(p)) from None
    except OSError as exc:  # e.g. a name too long, a loop of links
        raise InputUnreadableError.from_os_error(str(p), exc) from exc
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise InputUnreadableError(str(p), "not a regular file or directory")
    try:
        context = CheckContext(p, options)
    except OSError as exc:
        raise InputUnreadableError.from_os_error(str(p), exc) from exc
    return run_rules(context, policy=policy, path=str(p), content=options.content.value)


@functools.cache
def _default_policy() -> Policy:
    """Return the policy of a check given none (built once: frozen, and never handed to a caller)."""
    return Policy()


@functools.cache
def _default_options() -> CheckOptions:
    """Return the options of a check given none (built once: frozen, and never handed to a caller)."""
    return CheckOptions()


def _check_remote(target: object, policy: Policy, options: CheckOptions) -> Report:
    """Check a URL (kept as given), a file object or a ranged reader."""
    if isinstance(target, str):
        context = CheckContext(target, options)
    else:
        reader = open_reader(target)
        context = CheckContext(reader.name, options, reader=reader)
    try:
        return run_rules(context, policy=policy, path=str(context.path), content=options.content.value)
    finally:
        if context.source is not None and context.source is not target:  # a caller's reader stays theirs
            context.source.close()


def _content(content: str | Content) -> Content:
    try:
        return Content(content)
    except ValueError:
        tiers = ", ".join(c.value for c in Content)
        raise InvalidArgumentError(f"content must be one of {tiers}, not {content!r}") from None


def validate(path: str | os.PathLike[str] | BinaryIO, *, policy: Policy | None = None,
             options: CheckOptions | None = None, profile: str | None = None, content: str | Content | None = None,
             storage_options: Mapping[str, Any] | None = None) -> Report:
    """Like :func:`check`, but raise when the container does not conform.

    Raises:
        ConformanceError: a finding at or above the policy's ``fail_on`` severity.
        InputUnreadableError: the input does not exist or cannot be read.
    """
    report = check(path, policy=policy, options=options, profile=profile, content=content,
                   storage_options=storage_options)
    if not report.conformant:
        raise ConformanceError(report)
    return report


def expand_inputs(paths: Sequence[str | os.PathLike[str]], *,
                  on_error: Callable[[WalkError], None] | None = None) -> Iterator[Path | str]:
    """Yield the containers named by ``paths``.

    A URL is recognised first and yielded exactly as given (a ``str``; spec/remote.md#urls). Files and expanded
    container folders are yielded as given; other directories are walked (sorted, see :mod:`hsi_conform._walk`)
    for ``*.hsi`` files and container folders. Symbolic links inside a directory are never walked into; a link to
    a ``*.hsi`` file or to a container folder is yielded like one given by name.

    Args:
        paths: Files and folders, as the user named them.
        on_error: Called with each folder or entry of a walked directory that could not be read (default: it is
            left out).
    """
    for raw in paths:
        if is_url(raw):
            yield cast(str, raw)
            continue
        p = Path(raw)
        try:
            folder = p.is_dir()
        except OSError:  # e.g. a name too long: check() reports it unreadable
            folder = False
        if folder:
            yield from _containers_under(p, on_error)
        else:
            yield p


def _unit_if_container(folder: Path) -> Visit:
    return Visit.UNIT if is_container_folder(folder) else Visit.DESCEND


def _containers_under(root: Path, on_error: Callable[[WalkError], None] | None) -> Iterator[Path]:
    for item in walk(root, _unit_if_container):
        if isinstance(item, Unit):
            yield item.path
        elif isinstance(item, Folder):
            yield from (f for f in item.files if _is_hsi_name(f))
            yield from _linked_containers(item.links)
        elif on_error is not None:
            on_error(item)


def _is_hsi_name(path: Path) -> bool:
    return path.name.lower().endswith(".hsi")


def _linked_containers(links: Iterable[Path]) -> Iterator[Path]:
    # A link to a container is validated as if named on the command line (as the os.walk-based search did);
    # a dangling *.hsi link is yielded so that check() reports it unreadable.
    for link in links:
        if link.is_dir():
            if is_container_folder(link):
                yield link
        elif _is_hsi_name(link):
            yield link
