"""What every conversion checks before it writes: the source, the outputs, the member names, the byte budget.

One function per class of problem, shared by every writer and by the pipeline (spec/safety.md#refused):

* :func:`judge_source`: a container source (``.hsi`` or expanded folder) is validated first, as
  ``hsi-conform validate --content crc`` would; a nonconformant one is refused unless the caller allows it, and
  then its report is kept in the output as :data:`~hsi_conform.members.SOURCE_REPORT`
  (:func:`record_source_report`).
* :func:`guard_write`: before a writer creates anything, (1) no output is an input
  (:func:`hsi_conform._outputs.refuse_output_on_input`), (2) every member name passes the strict reader's name
  policy (:func:`hsi_conform.container.zipwrite.member_parts`), (3) the data fits the byte budget: every byte the
  writer copies from a file is a distinct byte of that file, except that a whole file may be copied twice
  (:func:`check_budget`), so an overlap bomb (thousands of members made of one region) is refused and no output
  holds more than twice the bytes of its sources.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from hsi_conform._outputs import refuse_output_on_input
from hsi_conform.converters.base import Blob, HsiDataset, MemberCrc, Payload, dataset_members, member_paths
from hsi_conform.errors import DataBudgetError, InputUnreadableError, MemberCrcError, NonconformantSourceError
from hsi_conform.finding import Report
from hsi_conform.members import SOURCE_REPORT

try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # numpy < 2
    from numpy import byte_bounds  # type: ignore[attr-defined,no-redef]

__all__ = ["FileRange", "check_budget", "check_deferred_crcs", "content_range", "crc_judged", "dataset_sources",
           "file_ranges", "guard_write", "judge_source", "record_source_report", "source_inputs", "verbatim_crc"]

#: The converter whose sources the validator judges: containers (``.hsi`` files and expanded folders).
CONTAINER_READER = "hsi"

FileRange = tuple[Path, int, int, str]
"""``(file, offset, size, member)``: bytes a writer copies from a file."""


def judge_source(reader_name: str, source: Path, *, allow_nonconformant: bool,
                 deferred: Collection[str] = ()) -> Report | None:
    """Validate a container source before it is converted (other formats: None, their reader is the judge).

    The source is judged as ``hsi-conform validate --content crc SRC`` judges it (its configuration file
    included): CRCs too, so that a damaged member is never re-stamped with a fresh CRC by the writer.

    Args:
        reader_name: The source's converter.
        source: The source.
        allow_nonconformant: Return the report of a nonconformant source instead of raising.
        deferred: Members whose CRC-32 the writer checks from the bytes it copies (spec/safety.md#crc-while-copying):
            the judge leaves their CRC to it (unless ``allow_nonconformant``: the report kept must be whole).
            The caller then runs :func:`check_deferred_crcs` before writing and the write inside
            :func:`crc_judged`.

    Returns:
        The report, or None when the reader is not the container reader.

    Raises:
        NonconformantSourceError: the source does not conform and ``allow_nonconformant`` is false.
        ConfigError: the configuration file that applies to the source is invalid.
    """
    if reader_name != CONTAINER_READER:
        return None
    from hsi_conform.validate import check
    from hsi_conform.validate.config import load_policy

    policy = load_policy(source)
    if deferred and not allow_nonconformant and source.is_file():
        report = check(source, policy=policy, content="none")  # the structure, headers and rules, no data read
        if report.conformant and _crcs_match(source, exclude=frozenset(deferred)):
            return report
    report = check(source, policy=policy, content="crc")
    if not report.conformant and not allow_nonconformant:
        raise NonconformantSourceError(report)
    return report


def _crcs_match(source: Path, *, exclude: frozenset[str] = frozenset(), only: frozenset[str] | None = None) -> bool:
    """Return whether the stored members of a ``.hsi`` file (all but ``exclude``, or ``only``) match their CRCs."""
    from hsi_conform.container.zipread import iter_member_crc, read_zip_structure

    structure = read_zip_structure(source)
    if structure.fatal:
        return False
    members = [m for m in structure.members if m.name not in exclude and (only is None or m.name in only)
               and m.method == 0 and m.compressed_size == m.uncompressed_size]
    return all(crc == m.crc for m, crc in iter_member_crc(source, structure, members))


def check_deferred_crcs(reader_name: str, source: Path, dataset: HsiDataset, deferred: Collection[str]) -> None:
    """Check, from the source, the CRC of each deferred member that the writer will not copy verbatim.

    The judge left those CRCs to the writer; a member the dataset no longer holds as its source range (a cube
    replaced or decoded) would go unchecked, so it is checked here, before anything is written.

    Raises:
        NonconformantSourceError: a CRC does not match (the source judged in full, as before any write).
    """
    if reader_name != CONTAINER_READER or not deferred or not source.is_file():
        return
    members = dataset_members(dataset)
    unchecked = frozenset(n for n in deferred if n in members and verbatim_crc(dataset, n, members[n]) is None)
    if unchecked and not _crcs_match(source, only=unchecked):
        judge_source(reader_name, source, allow_nonconformant=False)


def verbatim_crc(dataset: HsiDataset, name: str, content: Payload | np.ndarray[Any, Any]) -> MemberCrc | None:
    """Return the source CRC of member ``name`` when ``content`` is its source range verbatim, else None."""
    expected = dataset.crcs.get(name)
    found = content_range(content)
    if expected is None or found is None or found[1:] != (expected.offset, expected.size):
        return None
    try:
        return expected if os.path.samefile(found[0], expected.file) else None
    except OSError:
        return None


@contextmanager
def crc_judged(reader_name: str, source: Path, deferred: Collection[str]) -> Iterator[None]:
    """Turn a writer's :class:`~hsi_conform.errors.MemberCrcError` into the judge's refusal.

    The judge left the CRC of ``deferred`` members to the writer; when the writer finds one wrong (and published
    nothing), the source is judged in full, so the error is the :class:`NonconformantSourceError` a judge before
    the write would have raised. A source the full judge passes (it changed meanwhile) re-raises the writer's error.
    """
    try:
        yield
    except MemberCrcError:
        if deferred and reader_name == CONTAINER_READER:
            judge_source(reader_name, source, allow_nonconformant=False)
        raise


def record_source_report(dataset: HsiDataset, report: Report | None) -> None:
    """Keep the report of a nonconformant source in the dataset as :data:`SOURCE_REPORT` (JSON), with a note.

    Its members are then written as they are: a writer that checks CRCs while copying (``crc_checked``) no longer
    refuses a member the judge reported and the caller allowed (spec/safety.md#crc-while-copying).
    """
    if report is None or report.conformant:
        return
    from hsi_conform.report import render

    dataset.crcs = {}  # every CRC was judged (the judge runs whole when nonconformance is allowed) and reported
    dataset.members[SOURCE_REPORT] = render("json", [report]).encode("utf-8")
    counts = ", ".join(f"{n} {label}" for label, n in report.counts.items() if n)
    dataset.notes.append(f"the source is not conformant ({counts}); its findings are kept as {SOURCE_REPORT}")


def source_inputs(source: Path, files: Iterable[Path]) -> list[Path]:
    """Return what a conversion of ``source`` reads: the source, its files, and the folders holding them.

    A folder that holds a source file below the source's own folder is an input too (the ENVI pair's
    ``<name>.hsi.d/``): writing into it would add to the source. The folder the source sits in is not, so
    ``convert x.hdr back.hsi`` may write beside its source.
    """
    base = source if source.is_dir() else source.parent
    out = [source]
    for path in files:
        out.append(path)
        out += [folder for folder in path.parents if folder != base and folder.is_relative_to(base)]
    return list(dict.fromkeys(out))


def guard_write(dataset: HsiDataset, outputs: Iterable[Path]) -> None:
    """Refuse, before anything is created, a write that is unsafe (see the module docstring).

    Every built-in writer calls it first; the pipeline calls it too, so plugins are covered.

    Args:
        dataset: What is about to be written.
        outputs: Every path the writer creates or replaces.

    Raises:
        OutputIsInputError: an output is a file the dataset reads (exit 2).
        MemberNameError: a member name the name policy refuses, or one used both as a file and as a folder
            (exit 1).
        DataBudgetError: members share bytes of a file (exit 1).
        InputUnreadableError: a member runs past the end of its file (exit 3).
    """
    refuse_output_on_input(outputs, dataset_sources(dataset))
    member_paths(dataset.member_names())
    check_budget(file_ranges(dataset))


def dataset_sources(dataset: HsiDataset) -> list[Path]:
    """Return every file the dataset's lazy members and mapped arrays read (each once)."""
    return list(dict.fromkeys(path for path, _, _, _ in file_ranges(dataset)))


def file_ranges(dataset: HsiDataset) -> list[FileRange]:
    """Return the file bytes a writer copies for the dataset: one range per lazy member or mapped array."""
    out: list[FileRange] = []
    for name, content in dataset_members(dataset).items():
        found = _range_of(content)
        if found is not None:
            out.append((*found, name))
    return out


def content_range(content: Payload | np.ndarray[Any, Any]) -> tuple[Path, int, int] | None:
    """Return the file range whose bytes a member's content is, verbatim: (file, offset, size); None for bytes.

    A mapped array counts only when it is C-contiguous (its bytes in C order are the range's).
    """
    if isinstance(content, np.ndarray) and not content.flags.c_contiguous:
        return None
    return _range_of(content)


def _range_of(content: Payload | np.ndarray[Any, Any]) -> tuple[Path, int, int] | None:
    if isinstance(content, Blob):
        return content.file, content.offset, content.size
    if isinstance(content, np.ndarray):
        return _mapped_range(content)
    return None  # bytes in memory


def _mapped_range(array: np.ndarray[Any, Any]) -> tuple[Path, int, int] | None:
    """Where a memory-mapped array (or a view of one) lies in its file; None for an array in memory."""
    root = array
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not isinstance(root, np.memmap) or not isinstance(root.base, mmap.mmap) or root.filename is None:
        return None
    low, high = byte_bounds(array)
    root_low, _ = byte_bounds(root)
    return Path(root.filename), int(root.offset) + low - root_low, high - low


def check_budget(ranges: Iterable[FileRange]) -> None:
    """Refuse ranges that copy a byte of a file twice, or that run past the end of their file.

    One exception: a whole file may be copied into two members (a reader keeping a file both converted and
    verbatim, as the SPECIM reader keeps its references), so no output exceeds twice its sources. Files are told
    apart by device and inode, so two names (hard links) of one file count as one; a file that no longer exists
    (a scratch file unlinked while mapped) holds no bytes to copy twice.

    Raises:
        DataBudgetError: the first range that shares bytes with another (naming both members), or a third copy
            of a whole file.
        InputUnreadableError: a range past the end of its file: the source does not hold the bytes it declares
            (a lying archive, or a file cut while being converted), so it cannot be read whole (exit 3).
    """
    by_file: dict[tuple[int, int], tuple[int, list[FileRange]]] = {}
    for item in ranges:
        path, offset, size, member = item
        if size <= 0:
            continue
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        if offset < 0 or offset + size > st.st_size:
            raise InputUnreadableError(str(path), f"member {member!r} needs {size} bytes at offset {offset}, the "
                                                  f"file holds {st.st_size}: the input is shorter than it declares "
                                                  "(or was cut while being converted)")
        by_file.setdefault((st.st_dev, st.st_ino), (st.st_size, []))[1].append(item)
    for file_size, items in by_file.values():
        _refuse_overlaps(items, file_size)


def _refuse_overlaps(items: list[FileRange], file_size: int) -> None:
    whole = [item for item in items if item[1] == 0 and item[2] == file_size]
    if len(whole) > 2:
        raise DataBudgetError(whole[2][3], f"is a third copy of {whole[2][0]} (after members {whole[0][3]!r} and "
                                           f"{whole[1][3]!r}; the output would be larger than the source)")
    end, holder = 0, ""
    for path, offset, size, member in sorted([*(i for i in items if i not in whole), *whole[:1]],
                                             key=lambda r: (r[1], r[1] + r[2])):
        if offset < end:
            raise DataBudgetError(member, f"shares bytes of {path} with member {holder!r} (overlapping members: "
                                          "the output would be larger than the source)")
        end, holder = offset + size, member  # sorted by start, so this range ends after every earlier one
