"""Array reads over fsspec's HTTP filesystem run on its loop and land in place (spec/remote.md#http-reads).

Against the loopback server of ``tests/_http.py``: the requests carry the filesystem's options, transient failures
are retried, a server that ignores ``Range`` or a missing object is an input error naming the URL, and a subclass
with its own request keeps ``cat_file``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

fsspec = pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")

import hsi_conform  # noqa: E402
from hsi_conform.errors import InputUnreadableError  # noqa: E402
from hsi_conform.remote import Retry, open_reader  # noqa: E402
from hsi_conform.remote.fsspec_reader import FsspecReader  # noqa: E402
from hsi_conform.remote.http_ranges import is_plain_http  # noqa: E402
from tests._http import Fault, RangeServer  # noqa: E402

_QUICK = Retry(attempts=3, backoff=0.01)


@pytest.fixture(scope="module")
def cubes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """8 lines, 40 bands, 4096 samples as BSQ (a band is one request) and BIL (a band's lines lie 312 KiB apart: a
    request per line); arrays are given in storage order."""
    folder = tmp_path_factory.mktemp("http-ranges")
    cube = np.random.default_rng(16).integers(0, 4096, (8, 40, 4096), dtype="<u2")  # lines, bands, samples
    return {"bil": hsi_conform.write_container(folder / "bil.hsi", cube, interleave="bil", thumbnail=False),
            "bsq": hsi_conform.write_container(folder / "bsq.hsi", np.ascontiguousarray(cube.transpose(1, 0, 2)),
                                               interleave="bsq", thumbnail=False)}


def _open(url: str, **options: Any) -> hsi_conform.Container:
    return hsi_conform.open(open_reader(url, options, retry=_QUICK))


@pytest.mark.parametrize("interleave", ["bsq", "bil"])
def test_a_band_lands_in_place_with_the_filesystems_request_options(http_server: RangeServer,
                                                                     cubes: dict[str, Path], interleave: str) -> None:
    url = http_server.serve(cubes[interleave], f"/in-place/{interleave}.hsi")
    with _open(url, headers={"X-Hsi-Test": "16"}) as remote, hsi_conform.open(cubes[interleave]) as local:
        assert isinstance(remote.cube.reader, FsspecReader) and is_plain_http(remote.cube.reader.fs)
        http_server.reset(url)
        if interleave == "bil":
            http_server.rendezvous(url, 2)
        assert np.array_equal(remote.read_band(20), local.read_band(20))
        stats = http_server.stats(url)
    assert stats.requests == (1 if interleave == "bsq" else 8) and stats.bytes == 8 * 4096 * 2
    assert all(h.get("X-Hsi-Test") == "16" and h.get("Range", "").startswith("bytes=") for h in stats.headers)
    if interleave == "bil":
        assert stats.met  # the requests of one read are in flight together on the loop


def test_requests_merged_over_gaps_land_in_one_buffer(http_server: RangeServer, cubes: dict[str, Path]) -> None:
    url = http_server.serve(cubes["bsq"], "/in-place/spectrum.hsi")
    with _open(url, headers={"X-Hsi-Test": "16"}) as remote, hsi_conform.open(cubes["bsq"]) as local:
        http_server.reset(url)
        assert np.array_equal(remote.read_spectrum(3, 100), local.read_spectrum(3, 100))
        stats = http_server.stats(url)
    # 40 values 64 KiB apart: the budget merges a few gaps, the other values are a request each
    assert 1 < stats.requests < 40 and all(h.get("X-Hsi-Test") == "16" for h in stats.headers)


@pytest.mark.parametrize("interleave", ["bsq", "bil"])
@pytest.mark.parametrize("faults", [(Fault(status=503),), (Fault(short=10),), (Fault(status=500), Fault(short=3))],
                         ids=["503", "short body", "500 then short"])
def test_transient_failures_in_place_are_retried(http_server: RangeServer, cubes: dict[str, Path], interleave: str,
                                                 faults: tuple[Fault, ...]) -> None:
    url = http_server.serve(cubes[interleave], f"/retried/{interleave}.hsi")
    with _open(url) as remote, hsi_conform.open(cubes[interleave]) as local:
        http_server.fault(url, *faults)
        assert np.array_equal(remote.read_band(3), local.read_band(3))


@pytest.mark.parametrize("interleave", ["bsq", "bil"])
@pytest.mark.parametrize(("faults", "reason"), [
    ([Fault(ignore_range=True)], "does not honour range requests"), ([Fault(status=404)], "not found"),
    ([Fault(status=403)], "access denied (HTTP 403)"), ([Fault(status=503)] * 24, "(HTTP 503)"),
    ([Fault(short=10)] * 24, "ClientPayloadError"),  # every try of every line's request (3 x 8) fails
], ids=["range ignored", "404", "403", "503 persists", "short persists"])
def test_failures_in_place_are_input_errors_naming_the_url(http_server: RangeServer, cubes: dict[str, Path],
                                                           interleave: str, faults: list[Fault], reason: str) -> None:
    url = http_server.serve(cubes[interleave], f"/refused/{interleave}.hsi")
    with _open(url) as remote:
        http_server.fault(url, *faults)
        with pytest.raises(InputUnreadableError) as info:
            remote.read_band(5)
    assert info.value.path == url and reason in str(info.value)


def test_a_server_ignoring_range_is_refused_on_plain_reads_too(http_server: RangeServer,
                                                               cubes: dict[str, Path]) -> None:
    url = http_server.serve(cubes["bsq"], "/refused/plain.hsi")
    reader = open_reader(url, retry=_QUICK)
    http_server.fault(url, Fault(ignore_range=True))
    with pytest.raises(InputUnreadableError, match="does not honour range requests"):
        reader.read(reader.size() // 2, 4096)


def test_a_subclass_with_its_own_request_keeps_cat_file(http_server: RangeServer, cubes: dict[str, Path]) -> None:
    from fsspec.implementations.http import HTTPFileSystem

    class Counting(HTTPFileSystem):  # type: ignore[misc]
        calls = 0

        async def _cat_file(self, url: str, start: int | None = None, end: int | None = None,
                            **kwargs: Any) -> bytes:
            Counting.calls += 1
            data: bytes = await super()._cat_file(url, start=start, end=end, **kwargs)
            return data

    url = http_server.serve(cubes["bil"], "/subclass/bil.hsi")
    fs = Counting(skip_instance_cache=True)
    assert not is_plain_http(fs) and is_plain_http(HTTPFileSystem(skip_instance_cache=True))
    reader = FsspecReader(fs, url, url, retry=_QUICK)
    with hsi_conform.open(reader) as remote, hsi_conform.open(cubes["bil"]) as local:
        before = Counting.calls
        assert np.array_equal(remote.read_band(7), local.read_band(7))
        assert Counting.calls - before == 8


def _read_band_in_child(remote: hsi_conform.Container, out: Any) -> None:
    try:
        remote.read_band(1)
        out.put("read")
    except InputUnreadableError as exc:
        out.put(f"unreadable: {exc.path}")
    except BaseException as exc:  # what the test must not see: a raw error
        out.put(f"raw {type(exc).__name__}: {exc}")


def test_a_forked_child_gets_an_input_error_not_a_raw_one(http_server: RangeServer, cubes: dict[str, Path]) -> None:
    import multiprocessing

    url = http_server.serve(cubes["bsq"], "/forked/bsq.hsi")
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    with _open(url) as remote:
        assert remote.cube.shape == (40, 8, 4096)  # opened and mapped in the parent: the child only reads the band
        child = context.Process(target=_read_band_in_child, args=(remote, out))
        child.start()
        child.join(60)
    # fsspec's loop belongs to the parent (not fork-safe): the child says the URL is unreadable, never a raw error
    assert out.get(timeout=5) == f"unreadable: {url}"


def test_an_interrupt_while_waiting_cancels_the_requests(http_server: RangeServer, cubes: dict[str, Path]) -> None:
    import _thread
    import asyncio
    import threading
    import time

    from fsspec.asyn import sync

    url = http_server.serve(cubes["bil"], "/interrupted/bil.hsi")
    with _open(url) as remote:
        fs = remote.cube.reader.fs
        http_server.fault(url, *[Fault(delay=12.0)] * 8)  # every line's request hangs
        timer = threading.Timer(0.3, _thread.interrupt_main)
        timer.start()
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            remote.read_band(2)
        assert time.monotonic() - t0 < 6  # far from the 12 s the requests hang, whatever the load on the machine

        async def ours() -> list[str]:
            await asyncio.sleep(0.05)  # the cancellation runs on the loop
            return [name for t in asyncio.all_tasks() if (name := t.get_coro().__qualname__).startswith("_gather")]

        assert sync(fs.loop, ours) == []
