"""Validator configuration: ``[tool.hsi-conform]`` in ``pyproject.toml`` or an ``hsi-conform.toml``.

The nearest configuration found upward from the input wins (``hsi-conform.toml`` before ``pyproject.toml``
in the same directory; a ``pyproject.toml`` without the table is passed over). Command-line values win over the
file for every key: a command-line ``select`` replaces the file's ``select`` and ``ignore`` (the file's ignore
would otherwise veto a rule the user asked for by name), a command-line ``ignore`` replaces the file's ``ignore``,
and a command-line re-grade decides every rule it names, however specific the file's key for that rule.
Recognised keys::

    [tool.hsi-conform]
    profile = "exchange"           # exchange | reader | strict
    select = ["ZIP", "LAY"]        # ids, id prefixes or rule names
    ignore = ["LAY008"]
    fail-on = "error"
    severity = { LAY009 = "warning", "zip-name-case-collision" = "error" }
    content = "crc"                # run settings (spec/cli.md#settings): none | crc | full
    format = ["text"]              # report formats, paired with -o in order
    jobs = 4                       # files validated in parallel
    color = "auto"                 # auto | always | never

    [tool.hsi-conform.limits]      # spec/safety.md#limits; bytes as integers or "64KiB", "16MiB", "1GiB"
    max-header-bytes = "64MiB"
    max-name-depth = 16

    executor = "dask"              # processes | dask: where batches run (spec/batch.md#configuration)
    scheduler = "tcp://scheduler:8786"   # a Dask scheduler (default: a LocalCluster)

    [tool.hsi-conform.storage-options]   # fsspec options for URL inputs (spec/remote.md#options)
    anon = true
    endpoint_url = "http://localhost:9000"

    [[tool.hsi-conform.waiver]]    # spec/report.md#waivers; repeatable
    rule = "FLD011"                # an id, id prefix or name
    paths = ["archive/2019/**"]    # globs relative to this file's folder (default: every input)
    reason = "wavelength units agreed with partner X in 2025"   # required
    expires = "2027-06-30"         # optional; the last day it applies

A selector, ``severity`` key or waived rule that matches no rule, a waiver without a reason or with a bad date,
or a selection that leaves no rule to run, is a :class:`~hsi_conform.errors.ConfigError` naming the file. So is
a configuration path that is not a regular file (a FIFO, a folder, a device): it is refused from its ``stat``,
never opened for reading, so it cannot hang the run (spec/safety.md#batches).
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from hsi_conform.errors import ConfigError, UnknownSelectorError
from hsi_conform.finding import Severity
from hsi_conform.limits import DEFAULT_LIMITS, Limits, limits_from_mapping
from hsi_conform.rules import DEFAULT_PROFILE
from hsi_conform.rules.context import Content
from hsi_conform.validate.engine import Policy, check_selection, layer_overrides
from hsi_conform.validate.executor import EXECUTORS
from hsi_conform.validate.waivers import Waiver, parse_waivers, relative_to

__all__ = [
    "COLOR_CHOICES",
    "CONFIG_FILENAMES",
    "ConfigFile",
    "ConfigSearch",
    "find_config",
    "load_executor",
    "load_limits",
    "load_policy",
    "load_storage_options",
    "parse_severity_assignment",
    "read_config",
    "read_regular",
]

CONFIG_FILENAMES: tuple[str, ...] = ("hsi-conform.toml", "pyproject.toml")
"""Searched in this order in each directory."""

_TABLE = "hsi-conform"
_KEYS = frozenset({"profile", "select", "ignore", "severity", "fail-on", "limits", "storage-options", "waiver",
                   "executor", "scheduler",
                   "content", "format", "jobs", "color"})

COLOR_CHOICES: tuple[str, ...] = ("auto", "always", "never")
"""The values of ``color`` (and ``--color``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigFile:
    """The validated settings of one configuration file.

    Attributes:
        path: The file they come from (None for an empty configuration).
        profile: Profile, if set.
        select: Selectors, if set.
        ignore: Selectors, if set.
        severity: Per-selector severity overrides.
        fail_on: Verdict threshold, if set.
        limits: The resource limits (the defaults with the file's ``limits`` table applied).
        storage_options: The ``storage-options`` table: fsspec options for URL inputs.
        waivers: The file's waivers, in order.
        executor: Where batches run (``processes`` or ``dask``), if set.
        scheduler: The Dask scheduler's address, if set.
        content: The content tier of a run, if set (a run setting: spec/cli.md#settings).
        formats: The report formats of a run, if set.
        jobs: Files validated in parallel, if set.
        color: ``auto``, ``always`` or ``never``, if set.
    """

    path: Path | None = None
    profile: str | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    severity: Mapping[str, Severity] = field(default_factory=dict)
    fail_on: Severity | None = None
    limits: Limits = DEFAULT_LIMITS
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()
    executor: str | None = None
    scheduler: str | None = None
    content: str | None = None
    formats: tuple[str, ...] | None = None
    jobs: int | None = None
    color: str | None = None


def _choice(table: Mapping[str, Any], key: str, choices: Sequence[str], source: str) -> str | None:
    value = table.get(key)
    if value is not None and value not in choices:
        raise ConfigError(f"{key!r} must be one of {', '.join(choices)}, not {value!r}", source)
    return value


def _jobs(value: object, source: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(f"'jobs' must be an integer >= 1, not {value!r}", source)
    return value


def _limits(value: object, source: str) -> Limits:
    if not isinstance(value, dict):
        raise ConfigError("'limits' must be a table of name = value", source)
    return limits_from_mapping(value, source=source)


def _storage_options(value: object, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError("'storage-options' must be a table of key = value", source)
    return dict(value)


def _text(value: object, key: str, source: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{key!r} must be a string", source)
    return value


def _executor(value: object, source: str) -> str | None:
    name = _text(value, "executor", source)
    if name is not None and name not in EXECUTORS:
        raise ConfigError(f"'executor' must be one of {', '.join(EXECUTORS)}, not {name!r}", source)
    return name


def read_regular(path: Path) -> str:
    """Return the text of a regular file; anything else is refused before it is opened.

    Raises:
        ConfigError: ``path`` is not a regular file (a FIFO, a folder, a device).
        OSError: It cannot be read.
        UnicodeDecodeError: It is not UTF-8.
    """
    if not stat.S_ISREG(path.stat().st_mode):
        raise ConfigError("not a regular file (a FIFO, a folder or a device is never read)", str(path))
    # Non-blocking: a FIFO put in its place after the stat still cannot block the open.
    with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise ConfigError("not a regular file (a FIFO, a folder or a device is never read)", str(path))
        return f.read().decode("utf-8")


T = TypeVar("T")
_Signature = tuple[int, int, int, int, int]
_CONFIGS: dict[Path, tuple[_Signature, ConfigFile]] = {}
_HAS_TABLE: dict[Path, tuple[_Signature, bool]] = {}
_MAX_CACHED = 64


def _signature(path: Path) -> _Signature | None:
    """Return what identifies a file's content unread: device, inode, size, change and modification times."""
    try:
        st = os.stat(path)
    except OSError:
        return None  # the read that follows reports it
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _by_file(cache: dict[Path, tuple[_Signature, T]], path: Path, compute: Callable[[Path], T]) -> T:
    """Return ``compute(path)``, computed again only when the file at ``path`` is another or has changed."""
    signature = _signature(path)
    cached = cache.get(path)
    if cached is not None and signature is not None and cached[0] == signature:
        return cached[1]
    value = compute(path)  # raises for a file that cannot be read or is invalid: nothing is kept
    if signature is not None:
        if len(cache) >= _MAX_CACHED:
            cache.clear()
        cache[path] = (signature, value)
    return value


def _has_table(path: Path) -> bool:
    return _by_file(_HAS_TABLE, path, lambda p: _table(p) is not None)


def _table(path: Path) -> dict[str, Any] | None:
    """Return the hsi-conform settings of a file, or None when a pyproject.toml has none."""
    try:
        data = tomllib.loads(read_regular(path))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read configuration: {exc}", str(path)) from exc
    tool = data.get("tool")
    table = tool.get(_TABLE) if isinstance(tool, dict) else None
    if table is None and path.name != "pyproject.toml":
        table = {k: v for k, v in data.items() if k != "tool"}
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"[tool.{_TABLE}] must be a table", str(path))
    return table


def find_config(start: Path) -> Path | None:
    """Return the nearest configuration file at or above ``start`` (a file or a directory).

    A ``pyproject.toml`` without a ``[tool.hsi-conform]`` table does not count.
    """
    here = start.resolve()
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        for name in CONFIG_FILENAMES:
            candidate = directory / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_table(candidate)):
                return candidate
    return None


class ConfigSearch:
    """One upward search per directory of a batch's inputs (spec/batch.md#configuration-cache).

    A link or an input that cannot be seen is searched on its own; the file found is read through the file cache.
    """

    def __init__(self) -> None:
        """Start a search that has seen no directory (it lives as long as one listing of inputs)."""
        self._found: dict[str, Path | None] = {}

    def find(self, start: Path) -> Path | None:
        """Return what :func:`find_config` returns for ``start``, searching each directory once."""
        try:
            mode = os.lstat(start).st_mode
        except OSError:
            return find_config(start)
        if stat.S_ISLNK(mode):
            return find_config(start)
        # Not a link: the directory searched is the input's own (a folder) or its parent's, resolved alike.
        directory = str(start) if stat.S_ISDIR(mode) else str(start.parent)
        if directory not in self._found:
            self._found[directory] = find_config(Path(directory))
        return self._found[directory]


def _find(start: Path, search: ConfigSearch | None) -> Path | None:
    return find_config(start) if search is None else search.find(start)


def _strings(value: object, key: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key!r} must be a list of strings", source)
    return tuple(value)


def _severity(value: object, key: str, source: str | None) -> Severity:
    if isinstance(value, Severity):
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{key!r} must be a severity name", source)
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise ConfigError(f"{key!r}: {exc}", source) from None


def _severities(value: object, source: str) -> Mapping[str, Severity]:
    if not isinstance(value, dict):
        raise ConfigError("'severity' must be a table of ID = \"level\"", source)
    return {k: _severity(v, f"severity.{k}", source) for k, v in value.items()}


def read_config(path: Path) -> ConfigFile:
    """Read and validate one configuration file.

    A batch asks for the configuration of every input (its policy, limits and storage options): a file is read
    and validated once, and again only when it changed (spec/batch.md#configuration-cache).

    Raises:
        ConfigError: If the file cannot be parsed or holds unknown keys or ill-typed values.
    """
    return _by_file(_CONFIGS, path, _read_config)


def _read_config(path: Path) -> ConfigFile:
    source = str(path)
    table = _table(path) or {}
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"unknown keys {unknown} (expected {sorted(_KEYS)})", source)
    profile = table.get("profile")
    if profile is not None and not isinstance(profile, str):
        raise ConfigError("'profile' must be a string", source)
    settings = ConfigFile(
        path=path,
        profile=profile,
        select=_strings(table["select"], "select", source) if "select" in table else None,
        ignore=_strings(table["ignore"], "ignore", source) if "ignore" in table else None,
        severity=_severities(table.get("severity", {}), source),
        fail_on=_severity(table["fail-on"], "fail-on", source) if "fail-on" in table else None,
        limits=_limits(table["limits"], source) if "limits" in table else DEFAULT_LIMITS,
        storage_options=_storage_options(table.get("storage-options", {}), source),
        waivers=parse_waivers(table["waiver"], source) if "waiver" in table else (),
        executor=_executor(table.get("executor"), source),
        scheduler=_text(table.get("scheduler"), "scheduler", source),
        content=_choice(table, "content", [c.value for c in Content], source),
        formats=_strings(table["format"], "format", source) if "format" in table else None,
        jobs=_jobs(table.get("jobs"), source),
        color=_choice(table, "color", COLOR_CHOICES, source),
    )
    try:  # validate profile, selectors and waived rules now, so the error names this file
        check_selection(Policy(
            profile=settings.profile or DEFAULT_PROFILE,
            select=settings.select or (),
            ignore=settings.ignore or (),
            severity_overrides=settings.severity,
            waivers=settings.waivers,
        ))
    except UnknownSelectorError as exc:
        raise UnknownSelectorError(exc.selector, exc.suggestions, exc.retired, source) from None
    except ConfigError as exc:
        raise ConfigError(exc.reason, source) from None
    return settings


def parse_severity_assignment(text: str) -> tuple[str, Severity]:
    """Parse a command-line ``ID=LEVEL`` re-grade, e.g. ``"LAY009=warning"``.

    Raises:
        ConfigError: If the text is not ``selector=severity``.
    """
    selector, sep, level = text.partition("=")
    if not sep or not selector.strip():
        raise ConfigError(f"expected ID=LEVEL, got {text!r}")
    return selector.strip(), _severity(level, selector.strip(), None)


def load_policy(
    start: Path,
    *,
    config: Path | None = None,
    isolated: bool = False,
    profile: str | None = None,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    severity: Mapping[str, Severity | str] | None = None,
    fail_on: Severity | str | None = None,
    waivers: bool = True,
    today: date | None = None,
    search: ConfigSearch | None = None,
) -> Policy:
    """Build the policy for validating ``start``: its configuration file, overridden by the CLI values.

    Args:
        start: The input path; the configuration is searched from there upward.
        config: An explicit configuration file (skips the search).
        isolated: Ignore every configuration file.
        profile: Profile from the command line.
        select: Selectors from the command line (replace the file's ``select`` and ``ignore``).
        ignore: Selectors from the command line (replace the file's ``ignore``).
        severity: Per-selector re-grades from the command line (each decides every rule it names, over the
            file's re-grades).
        fail_on: Verdict threshold from the command line.
        waivers: Apply the file's waivers whose ``paths`` match ``start`` (False: ``--no-waivers``).
        today: The day waivers expire against (None: the local date when the rules run).
        search: The batch's configuration search (None: search from ``start`` now).

    Returns:
        The policy.

    Raises:
        ConfigError: If the configuration or an override is invalid, a selector matches no rule, or the
            selection leaves no rule to run.
    """
    found = None if isolated else (config or _find(start, search))
    file = read_config(found) if found is not None else ConfigFile()
    cli_severity = {k: _severity(v, k, None) for k, v in (severity or {}).items()}
    overrides = layer_overrides(file.severity, cli_severity) if cli_severity else dict(file.severity)
    threshold = fail_on if fail_on is not None else file.fail_on
    chosen, ignored = _selection(file, select, ignore)
    policy = Policy(
        profile=profile or file.profile or DEFAULT_PROFILE,
        select=chosen,
        ignore=ignored,
        severity_overrides=overrides,
        fail_on=Severity.ERROR if threshold is None else _severity(threshold, "fail-on", None),
        waivers=_waivers_for(start, file) if waivers else (),
        today=today,
        config=None if found is None else str(found),
    )
    check_selection(policy)  # before any file is read: a typo must not pass as "conformant"
    return policy


def _waivers_for(start: Path, file: ConfigFile) -> tuple[Waiver, ...]:
    """Return the file's waivers whose ``paths`` match ``start``, relative to the file's folder."""
    if file.path is None or not file.waivers:
        return ()
    folder = file.path.parent
    # As given (the configuration named by --config) and with links resolved (as the search found the file).
    places = {Path(os.path.relpath(os.path.abspath(start), os.path.abspath(folder))).as_posix(),
              relative_to(start, folder)}
    return tuple(w for w in file.waivers if any(w.applies_to(place) for place in places))


def _selection(file: ConfigFile, select: Sequence[str] | None,
               ignore: Sequence[str] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return ``(select, ignore)`` with the command line on top: its ``select`` starts a fresh selection."""
    if select is not None:  # as ruff does: the highest layer's select is the basis, lower ignores do not apply
        return tuple(select), tuple(ignore or ())
    return file.select or (), tuple(ignore) if ignore is not None else file.ignore or ()


def load_limits(start: Path, *, config: Path | None = None, isolated: bool = False,
                limits: Mapping[str, object] | None = None, search: ConfigSearch | None = None) -> Limits:
    """Return the resource limits for validating ``start``: its configuration's, overridden by the CLI values.

    Args:
        start: The input path; the configuration is searched from there upward.
        config: An explicit configuration file (skips the search).
        isolated: Ignore every configuration file.
        limits: Limits from the command line (``{"max-header-bytes": "64MiB"}``), applied over the file's.
        search: The batch's configuration search (None: search from ``start`` now).

    Raises:
        ConfigError: If the configuration or an override names an unknown limit or holds an invalid value.
    """
    found = None if isolated else (config or _find(start, search))
    base = read_config(found).limits if found is not None else DEFAULT_LIMITS
    return limits_from_mapping(limits or {}, base=base)


def load_storage_options(start: Path, *, config: Path | None = None, isolated: bool = False,
                         options: Mapping[str, Any] | None = None,
                         search: ConfigSearch | None = None) -> dict[str, Any]:
    """Return the fsspec storage options for URL inputs: the configuration's, overridden by the CLI values.

    Args:
        start: Where the configuration is searched from, upward (the current directory for a URL).
        config: An explicit configuration file (skips the search).
        isolated: Ignore every configuration file.
        options: Options from the command line (``--storage-option KEY=VALUE``), applied over the file's.
        search: The batch's configuration search (None: search from ``start`` now).

    Raises:
        ConfigError: If the configuration is invalid.
    """
    found = None if isolated else (config or _find(start, search))
    merged = dict(read_config(found).storage_options) if found is not None else {}
    merged.update(options or {})
    return merged


def load_executor(start: Path, *, config: Path | None = None, isolated: bool = False, executor: str | None = None,
                  scheduler: str | None = None) -> tuple[str, str | None]:
    """Return where a batch runs: ``(executor, scheduler address or None)``, the command line over the file's.

    A batch runs in one place, so one configuration decides it: ``config``, else the one found from ``start``
    upward (the current directory; spec/batch.md#configuration). A command-line ``executor`` other than the file's
    drops the file's ``scheduler``; a scheduler address with no executor named anywhere means ``dask``.

    Raises:
        ConfigError: If the configuration is invalid.
    """
    found = None if isolated else (config or find_config(start))
    file = read_config(found) if found is not None else ConfigFile()
    address = scheduler or (file.scheduler if executor in (None, file.executor) else None)
    return executor or file.executor or ("dask" if address else "processes"), address
