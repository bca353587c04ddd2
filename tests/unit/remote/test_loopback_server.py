"""The loopback server's rendezvous: it proves overlap for a concurrent client and cannot be met by a sequential one.

Tests of concurrency (``stats.met``) rest on it; ``max_active`` alone measured how the scheduler raced.
"""

from __future__ import annotations

import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests._http import RangeServer


def _get(url: str, start: int) -> bytes:
    request = urllib.request.Request(url, headers={"Range": f"bytes={start}-{start + 99}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


def test_concurrent_requests_meet_and_go_on_together(http_server: RangeServer, tmp_path: Path) -> None:
    file = tmp_path / "blob"
    file.write_bytes(bytes(range(256)) * 16)
    url = http_server.serve(file, "/rendezvous/met")
    http_server.rendezvous(url, 3, wait=20.0)
    began = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        bodies = list(pool.map(lambda start: _get(url, start), [0, 1000, 2000]))
    assert time.monotonic() - began < 10  # they met: nobody waited out the 20 s
    assert bodies == [file.read_bytes()[s:s + 100] for s in (0, 1000, 2000)]
    stats = http_server.stats(url)
    assert stats.met and stats.max_active == 3


def test_a_sequential_client_cannot_meet_it(http_server: RangeServer, tmp_path: Path) -> None:
    file = tmp_path / "blob"
    file.write_bytes(bytes(4096))
    url = http_server.serve(file, "/rendezvous/alone")
    http_server.rendezvous(url, 2, wait=0.2, within=5.0)
    began = time.monotonic()
    for start in (0, 1000, 2000):
        assert _get(url, start) == bytes(100)
    assert time.monotonic() - began >= 3 * 0.2  # each request waited for a partner in vain
    assert not http_server.stats(url).met
