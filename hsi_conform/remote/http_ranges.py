"""Ranged GETs of fsspec's HTTP filesystem as coroutines on its own loop and session, bodies landing in place.

fsspec's ``cat_file`` waits on the filesystem's event loop for ``await response.read()`` (the body's chunks joined
into new bytes), which the reader then copies into the array; a batch of ranges was 16 threads each waking the loop
and waiting for it. Here the ranges of one read run as coroutines in **one** call to the loop, 16 in flight, each
copying its body chunk by chunk into its destination buffer (spec/remote.md#http-reads).

The request is the one ``HTTPFileSystem._cat_file`` makes: the filesystem's own aiohttp session
(``fs.set_session()``, built from its ``client_kwargs``), its request options (``fs.kwargs``: headers, auth,
``ssl``...) with a ``Range`` header added, its URL encoding (``fs.encode_url``). The answer is judged as there: 404
is a ``FileNotFoundError``, any other error status aiohttp's ``ClientResponseError`` (``raise_for_status``); a body
longer than the range is a server that ignores ``Range``; aiohttp's own errors (a dropped connection, a body
shorter than its ``Content-Length``) pass through. The caller's retry policy classifies them as it classifies
``cat_file``'s.

Nothing here imports fsspec or aiohttp: :func:`is_plain_http` looks for the class among the loaded modules, so a
filesystem can be plain HTTP only once fsspec has loaded its HTTP implementation.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from hsi_conform.errors import InputUnreadableError

__all__ = ["gather_on_loop", "get_into", "is_plain_http"]

_HTTP_MODULE = "fsspec.implementations.http"
_WAKE = 0.25  # seconds between two looks at pending signals while a read is waited for


def is_plain_http(fs: Any) -> bool:
    """Whether ``fs`` is fsspec's HTTP filesystem, or a subclass that keeps its way of making a ranged request.

    A subclass that overrides ``_cat_file``, ``set_session`` or ``encode_url`` makes its requests its own way, and an
    asynchronous instance has no loop of its own to run on: both keep ``cat_file``.
    """
    module = sys.modules.get(_HTTP_MODULE)
    base = getattr(module, "HTTPFileSystem", None)
    if base is None or not isinstance(fs, base) or getattr(fs, "asynchronous", True):
        return False
    cls = type(fs)
    return all(getattr(cls, name) is getattr(base, name) for name in ("_cat_file", "set_session", "encode_url"))


async def get_into(fs: Any, url: str, name: str, start: int, buffer: memoryview) -> int:
    """GET bytes ``[start, start + len(buffer))`` of ``url`` into ``buffer``; return how many came (short: fewer).

    Raises:
        FileNotFoundError: HTTP 404.
        InputUnreadableError: the body is longer than the range (the server ignores ``Range``), naming ``name``.
        Exception: whatever aiohttp raises (``ClientResponseError`` for another error status, a dropped connection,
            a body shorter than its ``Content-Length``, a timeout).
    """
    wanted = len(buffer)
    kwargs = dict(fs.kwargs)
    headers = dict(kwargs.pop("headers", None) or {})
    headers["Range"] = f"bytes={start}-{start + wanted - 1}"
    session = await fs.set_session()
    async with session.get(fs.encode_url(url), headers=headers, **kwargs) as response:
        if response.status == 404:
            raise FileNotFoundError(url)
        response.raise_for_status()
        length = response.content_length
        if length is not None and length > wanted:
            raise _ignored(name, start, wanted, length)
        got = 0
        async for chunk in response.content.iter_any():
            end = got + len(chunk)
            if end > wanted:
                raise _ignored(name, start, wanted, end)
            buffer[got:end] = chunk
            got = end
    return got


def _ignored(name: str, start: int, wanted: int, got: int) -> InputUnreadableError:
    return InputUnreadableError(name, f"the server answered bytes {start}-{start + wanted - 1} with {got} bytes: "
                                      "it does not honour range requests")


def gather_on_loop(fs: Any, jobs: Sequence[Callable[[], Awaitable[None]]], limit: int) -> None:
    """Run every job on ``fs.loop``, at most ``limit`` at once, and wait for them in this thread.

    The first failure cancels the jobs still running, waits for them to stop (none writes into its buffer after this
    returns) and is raised here. An exception raised while this thread waits (an interrupt, a signal turned into an
    exception) cancels them too, without waiting.

    Raises:
        RuntimeError: called from the loop's own thread (it would wait for itself), or the loop is unusable (a
            forked child: fsspec's loop is not fork-safe).
    """
    import asyncio
    import concurrent.futures

    loop = fs.loop
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        raise RuntimeError("a remote read cannot wait for fsspec's event loop from that loop's own thread")
    future = asyncio.run_coroutine_threadsafe(_gather(jobs, limit), loop)
    try:
        while True:
            try:
                # Timed waits: a lock waited on without a timeout is not woken by a signal landing on another thread.
                return future.result(timeout=_WAKE)
            except concurrent.futures.TimeoutError:
                continue
    except BaseException:
        future.cancel()
        raise


async def _gather(jobs: Sequence[Callable[[], Awaitable[None]]], limit: int) -> None:
    import asyncio

    if len(jobs) == 1:
        await jobs[0]()
        return
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    tasks = [asyncio.ensure_future(run(job)) for job in jobs]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
