"""The exception tree declares the exit codes, and ``ExitCode`` is the one home of their numbers.

Every exception class of the package derives from ``HsiConformError`` and lives in the ``errors``
package (spec/safety.md#errors; its public classes are named ``hsi_conform.errors.X``), except the
control-flow classes listed in ``NOT_ERRORS`` with their reasons.
"""

from __future__ import annotations

import errno
import importlib
import inspect
import pickle
import pkgutil
import re
from pathlib import Path

import pytest

import hsi_conform
import hsi_conform.errors as errors
from hsi_conform.cli import ExitCode
from hsi_conform.errors import ConfigError, HsiConformError, InputUnreadableError
from hsi_conform.limits import Limits
from hsi_conform.testing.samples import write_sample_container
from hsi_conform.validate.engine import Policy
from tests._paths import SPEC

pytest.importorskip("hypothesis")  # imported before the walk below reaches hsi_conform.testing.strategies

#: Exception classes that are not errors of the API, each with why it may stay outside the tree.
NOT_ERRORS: dict[str, str] = {
    "hsi_conform.rules.SkipRule": "control flow from a rule to the engine, which records the rule as skipped; it "
                                  "never leaves the engine, and deriving from HsiConformError would let the "
                                  "`except HsiConformError` of rule helpers swallow it",
    "hsi_conform.corpus.readers._Rejected": "private control flow of a corpus reader process: the file is refused "
                                            "(exit 1); it never leaves `run`",
    "hsi_conform.remote.fsspec_reader._ShortRead": "private control flow of a remote read: a body shorter than its "
                                                   "range is retried, then becomes an InputUnreadableError; it never "
                                                   "leaves FsspecReader",
    "hsi_conform.errors.Interrupted": "a signal, not an error: a KeyboardInterrupt, so that a batch's per-dataset "
                                      "`except Exception` cannot swallow it (exit 128 + signal)",
}


def _package_classes() -> list[type[BaseException]]:
    """Every exception class defined in a module of hsi_conform (warning categories apart: they are not raised)."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(hsi_conform.__path__, "hsi_conform."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and not issubclass(cls, Warning) and cls.__module__ == info.name:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


PACKAGE_CLASSES = _package_classes()


@pytest.mark.parametrize("cls", PACKAGE_CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_exception_class_is_in_the_tree_and_in_the_errors_package(cls: type[BaseException]) -> None:
    name = f"{cls.__module__}.{cls.__qualname__}"
    if name in NOT_ERRORS:
        assert not issubclass(cls, HsiConformError), f"{name} is listed as an exception to the tree"
        return
    assert issubclass(cls, HsiConformError), name
    public = not cls.__name__.startswith("_")
    if public:  # documented, pickled and reported under the package's name, wherever it is defined
        assert cls.__module__ == "hsi_conform.errors", f"{name} is not named hsi_conform.errors.{cls.__name__}"
        assert getattr(errors, cls.__name__) is cls and cls.__name__ in errors.__all__
    else:
        assert cls.__module__.startswith("hsi_conform.errors."), f"{name} is defined outside the errors package"


def test_the_list_of_exceptions_is_current() -> None:
    names = {f"{c.__module__}.{c.__qualname__}" for c in PACKAGE_CLASSES}
    assert set(NOT_ERRORS) <= names


def test_exit_code_values_are_the_documented_ones() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0, "NONCONFORMANT": 1, "USAGE": 2, "UNREADABLE": 3, "INTERNAL": 4, "UNWRITABLE": 5, "HANGUP": 129,
        "INTERRUPTED": 130, "TERMINATED": 143}
    assert all(code.meaning for code in ExitCode)


ERROR_CLASSES = [c for _, c in inspect.getmembers(errors, inspect.isclass)
                 if issubclass(c, HsiConformError) and c is not HsiConformError]


@pytest.mark.parametrize("cls", ERROR_CLASSES)
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


def test_builtins_the_api_raised_before_stay_bases() -> None:
    assert issubclass(errors.ConfigError, ValueError)
    assert issubclass(errors.UnknownOptionError, ValueError)
    for cls in (errors.DatasetError, errors.InvalidArgumentError, errors.MemberNameError, errors.ProcedureError,
                errors.QuantizationError):
        assert issubclass(cls, ValueError), cls
    for cls in (errors.InputUnreadableError, errors.OutputUnwritableError):
        assert issubclass(cls, OSError), cls
    assert issubclass(errors.InternalError, AssertionError)
    assert issubclass(errors.MemberNameError, errors.ContainerError)


def test_internal_errors_exit_4_and_input_errors_do_not() -> None:
    for cls in (errors.InternalError, errors.ContainerVerifyError, errors.MutationError):
        assert cls.exit_code is ExitCode.INTERNAL
    internal = {c for c in ERROR_CLASSES if issubclass(c, errors.InternalError)}
    assert all(c.exit_code is not ExitCode.INTERNAL for c in ERROR_CLASSES if c not in internal)


def test_file_errors_are_os_errors_that_pickle() -> None:
    error = errors.OutputUnwritableError.from_os_error("out.hsi", OSError(errno.ENOSPC, "No space left on device"))
    assert (error.errno, error.filename, error.path) == (errno.ENOSPC, "out.hsi", "out.hsi")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.path, copy.reason, copy.errno, str(copy)) == (
        type(error), error.path, error.reason, error.errno, str(error))
    with pytest.raises(errors.InputUnreadableError):
        errors.InputUnreadableError.checked_path("a\0b")
    assert errors.InputUnreadableError.checked_path("a/b") == "a/b"


@pytest.mark.parametrize("error", [
    errors.DatasetError("x", "data.envi"), errors.InvalidArgumentError("x"), errors.MemberNameError("a/../b", "x"),
    errors.QuantizationError("x", 3), errors.ContainerVerifyError("x"), errors.InternalError("x"),
    errors.ProcedureError("x", item=1), errors.UnknownOptionError(["a"], {"envi writer": ("sidecar",)}),
], ids=lambda e: type(e).__name__)
def test_errors_pickle_for_batch_workers(error: HsiConformError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)


def _safety_table() -> dict[str, tuple[str, int]]:
    """The error table of spec/safety.md#errors: class -> (builtin base, exit code)."""
    text = (SPEC / "safety.md").read_text(encoding="utf-8").split('<a id="errors"></a>', 1)[1]
    rows = re.findall(r"^\| `(\w+)` \|\s*(`\w+`)?\s*\| (\d) \|", text, flags=re.MULTILINE)
    return {name: (base.strip("`"), int(code)) for name, base, code in rows}


def test_the_safety_page_lists_every_error_with_its_base_and_exit_code() -> None:
    documented = _safety_table()
    public = {c.__name__: c for c in (HsiConformError, *ERROR_CLASSES) if not c.__name__.startswith("_")}
    assert set(documented) == set(public)
    for name, (base, code) in documented.items():
        cls = public[name]
        # the most specific builtin base: a missing input is a FileNotFoundError, every other I/O error an OSError
        builtins = [b.__name__ for b in (ValueError, KeyError, FileNotFoundError, OSError, AssertionError)
                    if issubclass(cls, b)][:1]
        assert builtins == ([base] if base else []), name
        assert cls.exit_code == code, name


# -- issue 20 item 17: builtin bases where users expect them, every class importable from hsi_conform ------------
def test_a_missing_input_is_a_file_not_found_error(tmp_path: Path) -> None:


    missing = tmp_path / "missing.hsi"
    for call in (hsi_conform.open, hsi_conform.check):
        with pytest.raises(FileNotFoundError) as info:
            call(missing)
        assert isinstance(info.value, errors.InputUnreadableError) and info.value.errno == errno.ENOENT
        assert info.value.filename == str(missing) and info.value.exit_code == ExitCode.UNREADABLE


def test_every_input_unreadable_error_with_enoent_is_an_input_not_found_error() -> None:
    made = errors.InputUnreadableError.from_os_error("x", FileNotFoundError(errno.ENOENT, "gone", "x"))
    assert type(made) is errors.InputNotFoundError
    assert type(errors.InputUnreadableError("x", "gone", errno.ENOENT)) is errors.InputNotFoundError
    other = errors.InputUnreadableError.from_os_error("x", PermissionError(errno.EACCES, "denied", "x"))
    assert type(other) is errors.InputUnreadableError and isinstance(other, OSError)
    assert not isinstance(other, FileNotFoundError)
    assert type(pickle.loads(pickle.dumps(made))) is errors.InputNotFoundError


def test_other_io_causes_are_os_errors_not_file_not_found(tmp_path: Path) -> None:


    with pytest.raises(OSError) as info:
        hsi_conform.open("/dev/null")  # exists, but is not a regular file or folder
    assert isinstance(info.value, errors.InputUnreadableError) and not isinstance(info.value, FileNotFoundError)


def test_every_error_class_is_importable_from_hsi_conform() -> None:


    for name in errors.__all__:
        assert getattr(hsi_conform, name) is getattr(errors, name) and name in hsi_conform.__all__


INVALID_ARGUMENTS = {
    "content": lambda path: hsi_conform.check(path, content="ful"),
    "profile": lambda path: hsi_conform.check(path, profile="exchang"),
    "select": lambda path: hsi_conform.check(path, policy=Policy(select=("NOPE999",))),
    "open-limits": lambda path: hsi_conform.open(path, limits=Limits(max_entries=0)),
}


@pytest.mark.parametrize("call", list(INVALID_ARGUMENTS))
def test_invalid_argument_values_are_hsi_conform_value_errors(call: str, tmp_path: Path) -> None:
    sample = write_sample_container(tmp_path / "s.hsi")
    with pytest.raises(ValueError) as info:
        INVALID_ARGUMENTS[call](sample)
    assert isinstance(info.value, HsiConformError) and info.value.exit_code == ExitCode.USAGE
