"""The exception tree declares the exit codes, and ``ExitCode`` is the one home of their numbers."""

from __future__ import annotations

import inspect

import pytest

import hsi_conform.errors as errors
from hsi_conform.cli import ExitCode
from hsi_conform.errors import ConfigError, HsiConformError, InputUnreadableError


def test_exit_code_values_are_the_documented_ones() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0, "NONCONFORMANT": 1, "USAGE": 2, "UNREADABLE": 3, "INTERNAL": 4, "HANGUP": 129, "INTERRUPTED": 130,
        "TERMINATED": 143}
    assert all(code.meaning for code in ExitCode)


@pytest.mark.parametrize("cls", [c for _, c in inspect.getmembers(errors, inspect.isclass)
                                 if issubclass(c, HsiConformError) and c is not HsiConformError])
def test_every_error_class_declares_its_exit_code(cls: type[HsiConformError]) -> None:
    assert isinstance(cls.__dict__.get("exit_code"), ExitCode), cls.__name__


def test_usage_and_unreadable_errors() -> None:
    assert ConfigError("x").exit_code is ExitCode.USAGE
    assert InputUnreadableError("p", "x").exit_code is ExitCode.UNREADABLE
    assert errors.ConformanceError.exit_code is ExitCode.NONCONFORMANT


def test_migrate_summary_exit_code_is_a_member() -> None:
    from hsi_conform.converters.migrate import Summary

    assert Summary().exit_code is ExitCode.OK
    assert Summary(failed=1).exit_code is ExitCode.NONCONFORMANT
    assert Summary(with_errors=["x"]).exit_code is ExitCode.NONCONFORMANT


def test_unknown_selector_error_pickles_for_batch_workers() -> None:
    import pickle

    error = errors.UnknownSelectorError("HDR999", ["HDR009"], None, "pyproject.toml")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.selector, copy.suggestions, copy.retired, copy.source) == ("HDR999", ("HDR009",), None,
                                                                            "pyproject.toml")
    assert isinstance(copy, ConfigError) and str(copy) == str(error)
