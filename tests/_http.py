"""A loopback HTTP server with Range support that counts what it serves, and can misbehave on purpose.

Used through the ``http_server`` fixture of ``tests/conftest.py``: ``url = http_server.serve(path)`` publishes a
local file, ``http_server.stats(url)`` says how many requests and body bytes it cost, and ``http_server.fault(url,
...)`` makes the next requests fail (a status, a short body, a delay), and ``http_server.rendezvous(url, n)`` holds
each GET, unanswered, until ``n`` are held at once (``stats(url).met``), so a test of concurrency does not depend on
how the scheduler raced. It binds 127.0.0.1 only.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass
class Stats:
    """What one served path cost.

    Attributes:
        requests: GET requests answered (HEAD requests are counted apart: they carry no body).
        heads: HEAD requests answered.
        bytes: Body bytes sent.
        ranges: ``(start, stop)`` of every body sent, in order.
        max_active: Most GET requests in progress at once. A handler finishes after its last write returns, so a
            client's next request may begin before: a sequential client can show 2 here. ``met`` cannot lie.
        met: A rendezvous of this path was met: that many GETs were held at once, none of them answered yet.
        headers: The request headers of every GET answered with a body, in order.
    """

    requests: int = 0
    heads: int = 0
    bytes: int = 0
    ranges: list[tuple[int, int]] = field(default_factory=list)
    max_active: int = 0
    active: int = 0
    met: bool = False
    headers: list[dict[str, str]] = field(default_factory=list)


@dataclass
class _Gate:
    n: int
    wait: float
    until: float
    held: int = 0


@dataclass(frozen=True)
class Fault:
    """One misbehaviour: ``status`` instead of the body, a body cut after ``short`` bytes, ``delay`` seconds, or the
    whole file with status 200 whatever ``Range`` asked (``ignore_range``)."""

    status: int | None = None
    short: int | None = None
    delay: float = 0.0
    ignore_range: bool = False


class RangeServer:
    """The server: files by URL path, their stats, and faults queued per path."""

    def __init__(self) -> None:
        self._files: dict[str, Path] = {}
        self._stats: dict[str, Stats] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._rendezvous: dict[str, _Gate] = {}
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> RangeServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def serve(self, file: Path, as_path: str | None = None) -> str:
        """Publish ``file`` under ``as_path`` (default: ``/<its name>``) and return its URL."""
        url_path = as_path or "/" + file.name
        with self._lock:
            self._files[url_path] = file
            self._stats[url_path] = Stats()
            self._faults.pop(url_path, None)
        return self.base + url_path

    def fault(self, url: str, *faults: Fault) -> None:
        """Queue faults for the next requests of ``url`` (HEAD and GET alike, in order)."""
        with self._lock:
            self._faults.setdefault(self._path(url), deque()).extend(faults)

    def rendezvous(self, url: str, n: int, *, wait: float = 1.0, within: float = 20.0) -> None:
        """Hold each GET of ``url`` before its body until ``n`` GETs are held at once; then ``stats(url).met``.

        The gate opens for good the first time ``n`` meet. A GET held ``wait`` s without meeting them goes on (the
        open's lone requests, a client that never overlaps); after ``within`` s the gate is dropped. Held requests
        are unanswered, so ``n`` of them are ``n`` requests the client has in flight together: a concurrent client
        meets the gate whatever the load on the machine, and a sequential one cannot.
        """
        with self._lock:
            self._rendezvous[self._path(url)] = _Gate(n, wait, time.monotonic() + within)

    def stats(self, url: str, *, settle: float = 5.0) -> Stats:
        """Return what ``url`` has cost so far, once no response is still being sent (for up to ``settle`` s).

        A handler counts a response's bytes after its last write returns, which can be after the client has read
        them all: without waiting, a count taken right after a read could miss them.
        """
        deadline = time.monotonic() + settle
        while True:
            with self._lock:
                s = self._stats.setdefault(self._path(url), Stats())
                if s.active == 0 or time.monotonic() >= deadline:
                    return s
            time.sleep(0.005)

    def reset(self, url: str, *, settle: float = 5.0) -> None:
        """Start counting ``url`` from zero, once no response is still being sent (for up to ``settle`` s).

        A response still being sent when the count restarts would add its bytes to the new count.
        """
        self.stats(url, settle=settle)
        with self._lock:
            self._stats[self._path(url)] = Stats()

    def _path(self, url: str) -> str:
        return url.removeprefix(self.base)

    # -- used by the handler ---------------------------------------------------------------------------------

    def next_fault(self, path: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(path)
            return queue.popleft() if queue else None

    def file(self, path: str) -> Path | None:
        with self._lock:
            return self._files.get(path)

    def begin(self, path: str, head: bool, headers: dict[str, str]) -> None:
        with self._lock:
            s = self._stats.setdefault(path, Stats())
            if head:
                s.heads += 1
                return
            s.requests += 1
            s.headers.append(headers)
            s.active += 1
            s.max_active = max(s.max_active, s.active)

    def meet(self, path: str) -> None:
        with self._arrived:
            gate = self._rendezvous.get(path)
            if gate is None:
                return
            gate.held += 1
            self._arrived.notify_all()
            try:
                opened = self._arrived.wait_for(lambda: gate.held >= gate.n or self._rendezvous.get(path) is not gate,
                                                timeout=max(0.0, min(gate.wait, gate.until - time.monotonic())))
                if opened and self._rendezvous.get(path) is gate:
                    del self._rendezvous[path]  # met: open for good
                    self._stats[path].met = True
                elif time.monotonic() >= gate.until and self._rendezvous.get(path) is gate:
                    del self._rendezvous[path]
            finally:
                gate.held -= 1

    def end(self, path: str, start: int, sent: int) -> None:
        with self._lock:
            s = self._stats.setdefault(path, Stats())
            s.active -= 1
            s.bytes += sent
            s.ranges.append((start, start + sent))


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up early (a short-read fault, a cancelled request) is part of the tests


def _handler(server: RangeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The headers and the body go out in two writes: with Nagle's algorithm a small body waits for the client's
        # delayed ACK of the headers (40 ms on Linux), which made a band of 1,024 small ranges cost seconds whatever
        # the client. Web servers and object stores send with TCP_NODELAY; so does this one.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def do_GET(self) -> None:
            self._answer(head=False)

        def _answer(self, *, head: bool) -> None:
            path = self.path.split("?", 1)[0]
            fault = server.next_fault(path)
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            file = server.file(path)
            if file is None or (fault is not None and fault.status is not None):
                status = 404 if file is None else fault.status if fault is not None else 500
                self.send_response(status or 500)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            size = file.stat().st_size
            ranged = "Range" in self.headers and not (fault is not None and fault.ignore_range)
            start, stop = self._range(size) if ranged else (0, size)
            server.begin(path, head, dict(self.headers.items()))
            self.send_response(206 if ranged else 200)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(stop - start))
            if ranged:
                self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{size}")
            self.end_headers()
            if head:
                return
            server.meet(path)
            sent = 0
            try:
                body = _pread(file, start, stop - start)
                if fault is not None and fault.short is not None:
                    body = body[: fault.short]
                    self.close_connection = True
                self.wfile.write(body)
                sent = len(body)
            finally:
                server.end(path, start, sent)

        def _range(self, size: int) -> tuple[int, int]:
            m = _RANGE.fullmatch(self.headers.get("Range", "").strip())
            if m is None:
                return 0, size
            first, last = m.groups()
            if not first:  # a suffix: the last N bytes
                return max(0, size - int(last)), size
            return int(first), min(size, int(last) + 1) if last else size

    return Handler


def _pread(file: Path, start: int, size: int) -> bytes:
    fd = os.open(file, os.O_RDONLY)
    try:
        return os.pread(fd, size, start)
    finally:
        os.close(fd)
