"""The settings of a ``validate`` run: command line over configuration file over defaults, and ``--show-settings``.

Rule settings (``profile``, ``select``, ``ignore``, ``severity``, ``fail-on``, waivers, limits) come from each input's
nearest configuration file; run settings (``content``, ``format``, ``jobs``, ``color``) from the configuration of the
run: ``--config``, else the one found upward from the current directory, as ruff finds its own
(spec/cli.md#settings). No environment variable sets either (spec/cli.md#environment).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hsi_conform.errors import ConfigError
from hsi_conform.limits import DEFAULT_LIMITS, LIMIT_NAMES
from hsi_conform.validate.config import ConfigFile, find_config, read_config

__all__ = ["RunSettings", "run_settings", "show_settings"]

_COMMAND_LINE = "command line"
_DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class RunSettings:
    """The run settings of ``validate`` and where each came from.

    Attributes:
        content: Content tier.
        formats: Report formats, in order.
        jobs: Files validated in parallel.
        color: ``auto``, ``always`` or ``never``.
        config: The run's configuration file, or None.
        sources: Per key (``content``, ``format``, ``jobs``, ``color``): ``command line``, the file, or ``default``.
    """

    content: str
    formats: tuple[str, ...]
    jobs: int
    color: str
    config: Path | None = None
    sources: dict[str, str] = field(default_factory=dict)


def _run_config(args: argparse.Namespace) -> ConfigFile:
    if args.isolated:
        return ConfigFile()
    found = args.config or find_config(Path.cwd())
    return read_config(found) if found is not None else ConfigFile()


def run_settings(args: argparse.Namespace) -> RunSettings:
    """Return the run settings of parsed ``validate`` arguments (each: command line, else configuration, else default).

    Raises:
        ConfigError: The configuration is invalid, or a format it names has no renderer.
    """
    from hsi_conform import report

    file = _run_config(args)
    where = str(file.path) if file.path is not None else _DEFAULT
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, given, configured, default in (
        ("content", args.content, file.content, "none"),
        ("format", tuple(args.formats) if args.formats else None, file.formats, ("text",)),
        ("jobs", args.jobs, file.jobs, 1),
        ("color", args.color, file.color, "auto"),
    ):
        if given is not None:
            values[key], sources[key] = given, _COMMAND_LINE
        elif configured is not None:
            values[key], sources[key] = configured, where
        else:
            values[key], sources[key] = default, _DEFAULT
    unknown = [f for f in values["format"] if f not in report.RENDERERS]
    if unknown:
        raise ConfigError(f"unknown report format {unknown[0]!r} (expected one of {', '.join(report.RENDERERS)})",
                          sources["format"])
    return RunSettings(content=values["content"], formats=tuple(values["format"]), jobs=values["jobs"],
                       color=values["color"], config=file.path, sources=sources)


def show_settings(args: argparse.Namespace, settings: RunSettings) -> str:
    """Return ``--show-settings``: every effective setting as TOML, each followed by where it comes from.

    The rule settings are those of the first input (or of the current directory when none is given).
    """
    from hsi_conform.validate.config import load_limits, load_policy

    start = Path(args.paths[0]) if args.paths and args.paths[0] != "-" else Path.cwd()
    found = {"config": args.config, "isolated": args.isolated}
    policy = load_policy(start, **found, profile=args.profile, select=_split(args.select),
                         ignore=_split(args.ignore), severity=args.severity_map, fail_on=args.fail_on,
                         waivers=not args.no_waivers)
    file = read_config(Path(policy.config)) if policy.config is not None else ConfigFile()
    rule_file = policy.config or _DEFAULT

    def origin(given: object, configured: object) -> str:
        return _COMMAND_LINE if given else rule_file if configured else _DEFAULT

    lines = [f"# run configuration: {settings.config or 'none'}",
             f"# rule configuration for {start}: {policy.config or 'none'}"]
    rows: list[tuple[str, object, str]] = [
        ("content", settings.content, settings.sources["content"]),
        ("format", list(settings.formats), settings.sources["format"]),
        ("jobs", settings.jobs, settings.sources["jobs"]),
        ("color", settings.color, settings.sources["color"]),
        ("profile", policy.profile, origin(args.profile, file.profile)),
        ("select", list(policy.select), origin(args.select, file.select)),
        ("ignore", list(policy.ignore), origin(args.ignore or args.select, file.ignore)),
        ("fail-on", policy.fail_on.label, origin(args.fail_on, file.fail_on)),
        ("severity", {k: v.label for k, v in policy.severity_overrides.items()},
         origin(args.severity_map, file.severity)),
        ("waivers", [w.rule for w in policy.waivers], "--no-waivers" if args.no_waivers else
         origin(None, file.waivers)),
    ]
    limits = load_limits(start, **found, limits=args.limit_map)
    for name in LIMIT_NAMES:
        attribute = name.replace("-", "_")
        value = getattr(limits, attribute)
        changed = getattr(file.limits, attribute) != getattr(DEFAULT_LIMITS, attribute)
        rows.append((f"limits.{name}", value, origin(name in args.limit_map, changed)))
    lines += [f"{key} = {json.dumps(value)}  # {source}" for key, value, source in rows]
    return "\n".join(lines) + "\n"


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [v.strip() for value in values for v in value.split(",") if v.strip()]
