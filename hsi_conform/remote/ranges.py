"""The one ranged-read interface every container byte goes through, and the coalescing of byte ranges.

A :class:`RangeReader` is a sized, random-access, read-only byte source: a local file (``SourceFile``, read with
``pread``), a remote object (:class:`~hsi_conform.remote.fsspec_reader.FsspecReader`, read with HTTP range
requests or their object-store equivalents) or a Python file object (:class:`FileObjectReader`). The strict ZIP
reader, the container and the lazy remote array read through it, so the request plan of spec/remote.md is the
same for every kind of source; only remote readers batch, cache and retry.

:func:`coalesce` turns many small ranges into fewer requests within a byte budget (spec/remote.md#coalescing).
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol, TypeGuard, runtime_checkable

import numpy as np

__all__ = ["MAX_GAP", "MAX_REQUESTS", "REQUEST_COST", "FileObjectReader", "RangeReader", "coalesce",
           "read_ranges_into", "read_ranges_serially"]

#: The fixed part of a read's byte budget, and the largest gap ever merged (spec/remote.md#coalescing).
MAX_GAP = 256 << 10
#: What one request is worth in bytes of transfer: past :data:`MAX_REQUESTS`, gaps up to this are merged.
REQUEST_COST = 16 << 10
#: Above this many requests for one read, gaps of up to :data:`REQUEST_COST` are merged past the byte budget.
MAX_REQUESTS = 512


@runtime_checkable
class RangeReader(Protocol):
    """A sized, random-access, read-only byte source (spec/remote.md#interface).

    Attributes:
        name: The input exactly as the user gave it (a path or a URL), for messages.
        remote: Whether a read costs a request (then callers batch ranges and :meth:`prefetch` is worth calling).
    """

    name: str
    remote: bool

    def size(self) -> int:
        """Return the size in bytes."""
        ...

    def read(self, offset: int, size: int) -> bytes:
        """Return up to ``size`` bytes from ``offset`` (fewer only at the end of the source)."""
        ...

    def read_ranges(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the bytes of each ``(start, stop)`` range, in order (remote readers fetch them in parallel)."""
        ...

    def iter_ranges(self, ranges: Iterable[tuple[int, int]]) -> Iterator[bytes]:
        """Yield the bytes of each range in order, fetched ahead in parallel but never more than a few at once."""
        ...

    def prefetch(self, ranges: Sequence[tuple[int, int]]) -> None:
        """Fetch ranges now, in one batch, so that later :meth:`read` calls inside them cost no request."""
        ...

    def close(self) -> None:
        """Release the source."""
        ...


def is_range_reader(value: object) -> TypeGuard[RangeReader]:
    """Whether ``value`` is a :class:`RangeReader`.

    Paths and plain file objects are told apart first: a runtime-protocol check looks up every member of the
    protocol, which costs more than opening a small container (spec/remote.md#interface).
    """
    if isinstance(value, str | bytes | os.PathLike | io.IOBase):
        return False
    return isinstance(value, RangeReader)


def read_ranges_into(reader: RangeReader, ranges: Sequence[tuple[int, int]], buffers: Sequence[Any]) -> list[int]:
    """Fill each writable buffer with the bytes of its ``(start, stop)`` range; return how many each got.

    A reader with a ``read_ranges_into`` method of its own (the fsspec reader: bodies land in place,
    spec/remote.md#http-reads) fills them itself; any other reader's :meth:`RangeReader.read_ranges` is copied in.
    A count is short only at the end of the source.
    """
    own = getattr(reader, "read_ranges_into", None)
    if own is not None:
        counts: list[int] = own(ranges, buffers)
        return counts
    counts = []
    for buffer, data in zip(buffers, reader.read_ranges(ranges), strict=True):
        memoryview(buffer).cast("B")[: len(data)] = data
        counts.append(len(data))
    return counts


def read_ranges_serially(reader: RangeReader, ranges: Iterable[tuple[int, int]]) -> Iterator[bytes]:
    """Yield ``reader.read`` of each ``(start, stop)`` range, one after the other (local sources)."""
    for start, stop in ranges:
        yield reader.read(start, stop - start)


class FileObjectReader:
    """A :class:`RangeReader` over a seekable binary file object (``io.BytesIO``, an open file, any wrapper).

    Reads seek and read under a lock, so that threads never interleave; the object is left open.
    """

    remote = False

    def __init__(self, f: BinaryIO, name: str | None = None) -> None:
        self._f = f
        self._lock = threading.Lock()
        self.name = name if name is not None else str(getattr(f, "name", None) or f"<{type(f).__name__}>")

    def size(self) -> int:
        """Return the size in bytes (the position of the end)."""
        with self._lock:
            return self._f.seek(0, os.SEEK_END)

    def read(self, offset: int, size: int) -> bytes:
        """Return up to ``size`` bytes from ``offset``."""
        if size <= 0 or offset < 0:
            return b""
        parts: list[bytes] = []
        with self._lock:
            self._f.seek(offset)
            while size > 0:
                got = self._f.read(size)
                if not got:
                    break
                parts.append(got)
                size -= len(got)
        return b"".join(parts)

    def read_ranges(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the bytes of each range, read one after the other."""
        return list(read_ranges_serially(self, ranges))

    def iter_ranges(self, ranges: Iterable[tuple[int, int]]) -> Iterator[bytes]:
        """Yield the bytes of each range, read one after the other."""
        return read_ranges_serially(self, ranges)

    def prefetch(self, ranges: Sequence[tuple[int, int]]) -> None:
        """Do nothing: a read costs no request."""

    def close(self) -> None:
        """Do nothing: the file object belongs to the caller."""


@dataclass(frozen=True, slots=True)
class Plan:
    """Requests covering a set of ranges.

    Attributes:
        requests: ``(start, stop)`` of each request, sorted and disjoint.
        owner: For each input range (in input order), the index of the request holding it.
    """

    requests: list[tuple[int, int]]
    owner: np.ndarray[tuple[int], np.dtype[np.intp]]


def coalesce(starts: np.ndarray[tuple[int], np.dtype[np.int64]], stops: np.ndarray[tuple[int], np.dtype[np.int64]],
             *, max_gap: int = MAX_GAP, max_requests: int = MAX_REQUESTS,
             request_cost: int = REQUEST_COST) -> Plan:
    """Merge ranges into requests: the smallest gaps first within a byte budget, then only gaps cheaper than a request.

    The cost model of spec/remote.md#coalescing: the bytes merged over stay within ``0.1 x`` the useful bytes ``+
    max_gap``, and no gap larger than ``max_gap`` is merged, so a read costs at most ``1.1 x`` its bytes plus
    ``max_gap`` (spec/remote.md#budgets). When that leaves more than ``max_requests`` requests, the smallest of the
    remaining gaps of at most ``request_cost`` bytes are merged too, down to ``max_requests`` (a band of a BIP
    cube would otherwise be a request per pixel); a larger gap is never merged past the budget, however many
    requests remain (a band of a BIL cube is a request per line, run in parallel).

    Args:
        starts: First byte of each range.
        stops: One past the last byte of each range (ranges may overlap or repeat).
        max_gap: The fixed part of the byte budget, and the largest gap merged within it.
        max_requests: The number of requests above which gaps cheaper than a request are merged.
        request_cost: The largest gap merged past the byte budget: what a request is worth in bytes.
    """
    if len(starts) == 0:
        return Plan([], np.zeros(0, dtype=np.intp))
    if len(starts) == 1:  # a BSQ band, a window of one run: nothing to merge (and no sort to pay for)
        return Plan([(int(starts[0]), int(stops[0]))], np.zeros(1, dtype=np.intp))
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], np.maximum.accumulate(stops[order])  # running end: overlapping ranges join
    gaps = s[1:] - e[:-1]
    merge = gaps <= 0
    positive = np.flatnonzero(~merge)
    if len(positive):
        by_size = positive[np.argsort(gaps[positive], kind="stable")]
        sizes = gaps[by_size]
        useful = int(np.sum(stops - starts))
        within = int(np.searchsorted(np.cumsum(sizes), useful // 10 + max_gap, side="right"))
        within = int(np.searchsorted(sizes[:within], max_gap, side="right"))
        cheap = int(np.searchsorted(sizes, min(request_cost, max_gap), side="right"))
        excess = max(0, len(positive) + 1 - max_requests)
        merge[by_size[: max(within, min(excess, cheap))]] = True
    first = np.concatenate(([True], ~merge))
    group = np.cumsum(first) - 1
    heads = np.flatnonzero(first)
    tails = np.concatenate((heads[1:], [len(s)])) - 1
    requests = [(int(s[a]), int(e[b])) for a, b in zip(heads, tails, strict=True)]
    owner = np.empty(len(starts), dtype=np.intp)
    owner[order] = group
    return Plan(requests, owner)
