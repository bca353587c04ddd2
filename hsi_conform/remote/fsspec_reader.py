"""Remote objects read by byte ranges through fsspec, with retries and errors that name the URL.

fsspec (and aiohttp for ``http(s)://``, s3fs for ``s3://``: the ``[remote]`` extra) is imported only when a URL
is opened, so local reads never pay for it. Every read is one ranged request (``cat_file(path, start, end)``);
a batch of ranges runs in a small thread pool, fsspec's async filesystems overlapping them on their own event
loop. Array reads over fsspec's HTTP filesystem (:meth:`FsspecReader.read_ranges_into`) instead run their requests
as coroutines on its loop, bodies landing in place (``http_ranges.py``, spec/remote.md#http-reads). What
spec/remote.md#errors says holds here, on either path:

- a transient failure (HTTP 408, 425, 429 and 5xx, a timeout, a dropped connection, a body shorter than its
  range) is retried with exponential backoff (:class:`Retry`);
- everything else (404, 403, an unknown protocol, a server that ignores ``Range``) and a transient failure that
  outlives its retries is an :class:`~hsi_conform.errors.InputUnreadableError` (exit code 3) naming the URL as
  given;
- a missing optional dependency is a :class:`~hsi_conform.errors.MissingDependencyError` that says what to
  install.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from hsi_conform.errors import InputUnreadableError, MissingDependencyError
from hsi_conform.remote.http_ranges import gather_on_loop, get_into, is_plain_http
from hsi_conform.remote.ranges import coalesce

__all__ = ["DEFAULT_RETRY", "FsspecReader", "Retry", "open_url", "url_filesystem"]

T = TypeVar("T")

_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# aiohttp's exceptions, known by name so that aiohttp is never imported here (it may not be installed).
_TRANSIENT_NAMES = frozenset({"ClientConnectionError", "ClientPayloadError", "ServerDisconnectedError",
                              "ServerTimeoutError", "ConnectionTimeoutError", "SocketTimeoutError"})
_PARALLEL = 16  # requests in flight for a batch of ranges (spec/remote.md#coalescing)
_AHEAD = 4  # chunks fetched ahead while a stream is consumed
_PREFETCH_GAP = 64 << 10  # prefetched ranges closer than this are one request
_KEEP_READ = 1 << 20  # plain reads up to this size are kept (headers, CSV, JPEG: what the CRC pass reads again)
_KEEP_TOTAL = 32 << 20  # the most bytes kept per reader


@dataclass(frozen=True, slots=True, kw_only=True)
class Retry:
    """How transient failures are retried.

    Attributes:
        attempts: Tries in all (1: no retry).
        backoff: Seconds before the first retry; doubled before each later one.
        cap: Longest wait between two tries, in seconds.
    """

    attempts: int = 4
    backoff: float = 0.25
    cap: float = 4.0

    def delays(self) -> Iterator[float]:
        """Yield the wait before each retry."""
        for i in range(self.attempts - 1):
            yield min(self.cap, self.backoff * 2**i)


DEFAULT_RETRY = Retry()
"""Four tries, waiting 0.25, 0.5 and 1 s (spec/remote.md#errors)."""


class _ShortRead(Exception):
    """A response holding fewer bytes than its range (transient until the retries run out)."""


def _cause(exc: BaseException) -> BaseException:
    """Return the HTTP error behind fsspec's ``FileNotFoundError`` (its ``info`` turns any failure into one)."""
    cause = exc.__cause__
    return cause if isinstance(exc, FileNotFoundError) and isinstance(cause, Exception) else exc


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None) or getattr(exc, "code", None)
    return status if isinstance(status, int) else None


def _transient(exc: BaseException) -> bool:
    exc = _cause(exc)
    if isinstance(exc, _ShortRead | TimeoutError | ConnectionError):
        return True
    if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError | NotADirectoryError):
        return False
    status = _status(exc)
    if status is not None:
        return status in _TRANSIENT_STATUS
    return any(cls.__name__ in _TRANSIENT_NAMES for cls in type(exc).__mro__)


_STATUS_REASONS = {401: "unauthorized", 403: "access denied", 404: "not found", 410: "gone"}


def _reason(exc: BaseException) -> str:
    exc = _cause(exc)
    status = _status(exc)
    if status is not None:
        return f"{_STATUS_REASONS.get(status, 'the server answered')} (HTTP {status})"
    if isinstance(exc, FileNotFoundError):
        return "not found (no such object)"
    if isinstance(exc, PermissionError):
        return "access denied"
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, _ShortRead) else f"{type(exc).__name__}: {text}"


class FsspecReader:
    """A remote object read by ranges (a :class:`~hsi_conform.remote.ranges.RangeReader`).

    Use :func:`open_url`, or :meth:`from_file` for an fsspec file object. Ranges fetched by :meth:`prefetch`
    and plain reads of up to 1 MiB are kept (32 MiB at most) and serve later reads that start or end inside them;
    array reads (:meth:`read_ranges`) and streams (:meth:`iter_ranges`) are not kept, so a byte streamed is
    fetched once. ``requests`` and ``bytes_read`` count what was asked of the store.
    """

    remote = True

    def __init__(self, fs: Any, path: str, name: str, *, retry: Retry = DEFAULT_RETRY) -> None:
        self.fs = fs
        self.path = path
        self.name = name
        self.retry = retry
        self.requests = 0
        self.bytes_read = 0
        self._size: int | None = None
        self._kept: list[tuple[int, bytes]] = []
        self._kept_bytes = 0
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._http = is_plain_http(fs)  # array reads run on its loop, into place (spec/remote.md#http-reads)

    @classmethod
    def from_file(cls, f: Any, *, retry: Retry = DEFAULT_RETRY) -> FsspecReader:
        """Read the object behind an fsspec file object (``fsspec.open(...)`` or ``fs.open(...)``) by ranges."""
        fs, path = f.fs, f.path
        try:
            name = fs.unstrip_protocol(path)
        except Exception:  # an implementation without it: its own path is a fine name
            name = str(path)
        return cls(fs, path, name, retry=retry)

    # -- the RangeReader interface ---------------------------------------------------------------------------

    def size(self) -> int:
        """Return the object's size (asked once; a folder or an object of unknown size is unreadable)."""
        if self._size is None:
            info = self._call(lambda: self.fs.info(self.path))
            if info.get("type") == "directory":
                raise InputUnreadableError(self.name, "a folder, not a container")
            size = info.get("size")
            if not isinstance(size, int) or size < 0:
                raise InputUnreadableError(self.name, "the store does not tell the object's size")
            self._size = size
        return self._size

    def read(self, offset: int, size: int) -> bytes:
        """Return up to ``size`` bytes from ``offset`` (fewer only at the end of the object).

        A read of up to 1 MiB (a header, a CSV, a JPEG) is kept, so that a later read of the same bytes (the CRC
        pass after the rules) costs no request.
        """
        return self._read(offset, size, keep=size <= _KEEP_READ)

    def read_ranges(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """Return the bytes of each ``(start, stop)`` range, fetched in parallel (nothing is kept)."""
        if len(ranges) <= 1:
            return [self._read(a, b - a) for a, b in ranges]
        pool = self._executor()
        futures = [pool.submit(self._read, a, b - a) for a, b in ranges]
        return [f.result() for f in futures]

    def read_ranges_into(self, ranges: Sequence[tuple[int, int]], buffers: Sequence[Any]) -> list[int]:
        """Fill each writable buffer with its ``(start, stop)`` range's bytes, fetched in parallel (nothing is kept).

        Each buffer holds at least its range. Kept bytes at either end of a range are used as :meth:`read` uses
        them. Over fsspec's HTTP filesystem the requests of the call run on its event loop and each body lands in
        its buffer as it arrives (spec/remote.md#http-reads); other filesystems read through ``cat_file``.

        Returns:
            The bytes of each range, fewer only at the end of the object.
        """
        counts: list[int] = []
        jobs: list[tuple[int, int, memoryview]] = []
        for (start, stop), buffer in zip(ranges, buffers, strict=True):
            view = memoryview(buffer).cast("B")
            head, (middle_start, middle_stop), tail = self._split(start, stop - start)
            count = len(head) + middle_stop - middle_start + len(tail)
            view[: len(head)] = head
            view[count - len(tail) : count] = tail
            if middle_stop > middle_start:
                jobs.append((middle_start, middle_stop, view[len(head) : count - len(tail)]))
            counts.append(count)
        if self._http and jobs:
            try:
                gather_on_loop(self.fs, [self._http_job(*job) for job in jobs], _PARALLEL)
            except InputUnreadableError:
                raise
            except Exception as exc:  # reaching the loop failed (a forked child: fsspec's loop is not fork-safe)
                raise InputUnreadableError(self.name, _reason(exc)) from exc
        elif len(jobs) == 1:
            self._fetch_into(*jobs[0])
        elif jobs:
            for f in [self._executor().submit(self._fetch_into, *job) for job in jobs]:
                f.result()
        return counts

    def iter_ranges(self, ranges: Iterable[tuple[int, int]]) -> Iterator[bytes]:
        """Yield each range's bytes in order, with a few requests in flight ahead of the consumer."""
        pending: deque[Future[bytes]] = deque()
        pool = self._executor()
        try:
            for start, stop in ranges:
                pending.append(pool.submit(self._read, start, stop - start))
                if len(pending) >= _AHEAD:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()

    def prefetch(self, ranges: Sequence[tuple[int, int]]) -> None:
        """Fetch the ranges, coalesced, in one parallel batch and keep them for later reads."""
        wanted = [(a, min(b, self.size())) for a, b in ranges]
        wanted = [(a, b) for a, b in wanted if b > a and not self._covered(a, b)]
        if not wanted:
            return
        starts, stops = (np.array(column, dtype=np.int64) for column in zip(*wanted, strict=True))
        requests = coalesce(starts, stops, max_gap=_PREFETCH_GAP).requests
        for (start, _), data in zip(requests, self.read_ranges(requests), strict=True):
            self._keep(start, data)

    def close(self) -> None:
        """Drop kept ranges and stop the thread pool (the filesystem object is fsspec's, cached and shared)."""
        with self._lock:
            self._kept.clear()
            self._kept_bytes = 0
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # -- requests --------------------------------------------------------------------------------------------

    def _covered(self, offset: int, stop: int) -> bool:
        return any(s <= offset and stop <= s + len(d) for s, d in self._kept)

    def _keep(self, start: int, data: bytes) -> None:
        with self._lock:
            if self._kept_bytes + len(data) <= _KEEP_TOTAL:
                self._kept.append((start, data))
                self._kept_bytes += len(data)

    def _read(self, offset: int, size: int, *, keep: bool = False) -> bytes:
        """Read ``[offset, offset + size)``: kept bytes at either end are used, only the rest is fetched."""
        head, (middle_start, middle_stop), tail = self._split(offset, size)
        if middle_start == middle_stop:
            return head + tail
        middle = self._fetch(middle_start, middle_stop)
        if keep:
            self._keep(middle_start, middle)
        return head + middle + tail

    def _split(self, offset: int, size: int) -> tuple[bytes, tuple[int, int], bytes]:
        """Return the kept bytes at the start of ``[offset, offset + size)``, the span left to fetch, those at its end.

        The range is first cut at the end of the object (a range past it is empty).
        """
        stop = min(offset + size, self.size())
        if offset < 0 or stop <= offset:
            return b"", (0, 0), b""
        head = tail = b""
        for start, data in list(self._kept):
            end = start + len(data)
            if start <= offset < end:
                head = data[offset - start : min(stop, end) - start]
            if start < stop <= end and not start <= offset:
                tail = data[: stop - start]
        middle_start, middle_stop = offset + len(head), stop - len(tail)
        if middle_stop < middle_start:  # the two kept spans overlap
            tail, middle_stop = tail[middle_start - middle_stop :], middle_start
        return head, (middle_start, middle_stop), tail

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None or self._pool_pid != os.getpid():  # a forked child has none of its threads
                self._pool = ThreadPoolExecutor(max_workers=_PARALLEL, thread_name_prefix="hsi-remote")
                self._pool_pid = os.getpid()
            return self._pool

    def _fetch(self, start: int, stop: int) -> bytes:
        def get() -> bytes:
            data: bytes = self.fs.cat_file(self.path, start=start, end=stop)
            with self._lock:
                self.requests += 1
                self.bytes_read += len(data)
            if len(data) > stop - start:
                raise InputUnreadableError(self.name, f"the server answered bytes {start}-{stop - 1} with "
                                           f"{len(data)} bytes: it does not honour range requests")
            if len(data) < stop - start:
                raise _ShortRead(f"the server sent {len(data)} of bytes {start}-{stop - 1} "
                                 f"({stop - start} bytes): short read")
            return data

        return self._call(get)

    def _fetch_into(self, start: int, stop: int, view: memoryview) -> None:
        view[:] = self._fetch(start, stop)

    def _http_job(self, start: int, stop: int, view: memoryview) -> Callable[[], Awaitable[None]]:
        """Return the coroutine function of one ranged GET into ``view``, retried as :meth:`_call` retries."""
        async def job() -> None:
            delays = self.retry.delays()
            while True:
                try:
                    got = await get_into(self.fs, self.path, self.name, start, view)
                    with self._lock:
                        self.requests += 1
                        self.bytes_read += got
                    if got < stop - start:
                        raise _ShortRead(f"the server sent {got} of bytes {start}-{stop - 1} "
                                         f"({stop - start} bytes): short read")
                    return
                except InputUnreadableError:
                    raise
                except Exception as exc:
                    await asyncio.sleep(_retry_wait(self.name, exc, delays))

        return job

    def _call(self, action: Callable[[], T]) -> T:
        """Run a request, retrying transient failures; any failure left is an input error naming the URL."""
        delays = self.retry.delays()
        while True:
            try:
                return action()
            except InputUnreadableError:
                raise
            except Exception as exc:
                time.sleep(_retry_wait(self.name, exc, delays))


def _retry_wait(name: str, exc: Exception, delays: Iterator[float]) -> float:
    """Return the wait before the next try after ``exc`` (spec/remote.md#errors), for a loop and a coroutine alike.

    Raises:
        InputUnreadableError: naming ``name``, when ``exc`` is not transient or no try is left.
    """
    wait = next(delays, None) if _transient(exc) else None
    if wait is None:
        raise InputUnreadableError(name, _reason(exc)) from exc
    return wait


def _s3_options(options: dict[str, Any]) -> dict[str, Any]:
    """Add the endpoint of ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` unless the options name one.

    Recent botocore reads these variables itself; this makes older ones (and s3fs's own client set-up) agree.
    The client's connection pool is made as large as the requests a batch has in flight, unless the options say.
    Profiles (``AWS_PROFILE``, or the ``profile`` option) are botocore's and s3fs's to resolve.
    """
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    client_kwargs = options.get("client_kwargs") or {}
    if endpoint and "endpoint_url" not in options and "endpoint_url" not in client_kwargs:
        options["endpoint_url"] = endpoint
    # botocore's pool holds 10 connections: the requests of a batch would queue behind them (spec/remote.md#coalescing).
    options["config_kwargs"] = {"max_pool_connections": _PARALLEL, **(options.get("config_kwargs") or {})}
    return options


_REMOTE_EXTRA = frozenset({"fsspec", "aiohttp", "s3fs"})  # what `pip install 'hsi-conform[remote]'` brings


def _package_of(protocol: str, exc: ImportError) -> str:
    """Return the missing package: the import that failed, else the one fsspec's registry names for the protocol."""
    missing = getattr(exc.__cause__, "name", None) or exc.name
    if missing:
        return str(missing).split(".", 1)[0]
    from fsspec.registry import known_implementations

    known = str(known_implementations.get(protocol, {}).get("class", ""))
    return known.split(".", 1)[0] if known else protocol


def open_url(url: str, storage_options: Mapping[str, Any] | None = None, *,
             retry: Retry = DEFAULT_RETRY) -> FsspecReader:
    """Open any fsspec URL for ranged reads and learn its size.

    Args:
        url: The URL exactly as the user gave it (kept for messages).
        storage_options: Passed to the fsspec filesystem (credentials, endpoints, ``anon``...).
        retry: How transient failures are retried.

    Raises:
        MissingDependencyError: fsspec, or the package of the URL's protocol, is not installed.
        InputUnreadableError: no filesystem for the protocol, or the object cannot be found or read.
    """
    try:
        import fsspec.core
    except ImportError:
        raise MissingDependencyError(f"reading {url!r}", ("fsspec",), extra="remote") from None
    options = dict(storage_options or {})
    protocol = url.split("://", 1)[0].rsplit("::", 1)[-1].lower()
    if protocol in ("s3", "s3a"):
        options = _s3_options(options)
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError as exc:
        package = _package_of(protocol, exc)
        raise MissingDependencyError(f"reading {url!r}", (package,), hint=str(exc),
                                     extra="remote" if package in _REMOTE_EXTRA else None) from None
    except (ValueError, TypeError, OSError) as exc:
        raise InputUnreadableError(url, f"cannot open: {exc}") from exc
    reader = FsspecReader(fs, path, url, retry=retry)
    reader.size()
    return reader


def url_filesystem(url: str, storage_options: Mapping[str, Any] | None = None, *,
                   task: str | None = None) -> tuple[Any, str]:
    """Return the fsspec filesystem of ``url`` and the path in it, as :func:`open_url` finds them.

    ``s3://`` honours ``AWS_ENDPOINT_URL`` as :func:`open_url` does. For callers that list and write trees
    (``migrate``, spec/batch.md#remote-migrate) rather than read one container.

    Args:
        url: The URL as given.
        storage_options: Passed to the filesystem.
        task: What the caller does, for the message of a missing dependency (default: ``reading URL``).

    Raises:
        MissingDependencyError: fsspec, or the package of the URL's protocol, is not installed.
        InputUnreadableError: no filesystem for the protocol, or options it refuses.
    """
    what = task or f"reading {url!r}"
    try:
        import fsspec.core
    except ImportError:
        raise MissingDependencyError(what, ("fsspec",), extra="remote") from None
    options = dict(storage_options or {})
    protocol = url.split("://", 1)[0].rsplit("::", 1)[-1].lower()
    if protocol in ("s3", "s3a"):
        options = _s3_options(options)
    try:
        return fsspec.core.url_to_fs(url, **options)  # type: ignore[no-any-return]
    except ImportError as exc:
        package = _package_of(protocol, exc)
        raise MissingDependencyError(what, (package,), hint=str(exc),
                                     extra="remote" if package in _REMOTE_EXTRA else None) from None
    except (ValueError, TypeError, OSError) as exc:
        raise InputUnreadableError(url, f"cannot open: {exc}") from exc
