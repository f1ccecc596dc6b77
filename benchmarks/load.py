"""HTTP transport, latency statistics and a bounded thread-pool load generator.

Each client thread owns one keep-alive connection (as a browser tab does) and replays recorded
interactions (a short sequence of callback requests) until a fixed count or a deadline is reached.
"""

from __future__ import annotations

import gzip
import http.client
import zlib
import math
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import brotli

from singularity_dash.app import GZIP_LEVEL  # the server's level, so computed sizes match what it sends

try:  # Python 3.14+; before that flask-compress itself depends on the backport
    from compression import zstd
except ImportError:
    from backports import zstd

# Exactly what Chromium accepts, so the server picks the encoding it picks for a browser (zstd);
# gzip sizes for the tables are computed from the body at the server's gzip level.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
DECODERS = {"gzip": gzip.decompress, "br": brotli.decompress, "zstd": zstd.decompress,
            "deflate": zlib.decompress, "": bytes}


@dataclass(frozen=True)
class Response:
    """One HTTP answer: status, body (decompressed), bytes on the wire and round-trip milliseconds."""

    status: int
    body: bytes
    wire_bytes: int
    elapsed_ms: float
    content_encoding: str = ""

    @property
    def raw_bytes(self) -> int:
        """Size of the uncompressed body."""
        return len(self.body)

    @property
    def gzip_bytes(self) -> int:
        """Size on the wire when gzip-compressed (as sent, or computed at the server's level)."""
        return self.wire_bytes if self.content_encoding == "gzip" else compute_gzip_size(self.body)


def compute_gzip_size(data: bytes) -> int:
    """Bytes of `data` gzip-compressed at the server's level."""
    return len(gzip.compress(data, compresslevel=GZIP_LEVEL))


class HttpTransport:
    """A keep-alive HTTP/1.1 connection to one server, accepting the encodings a browser accepts."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def request(self, method: str, path: str, body: bytes | None = None) -> Response:
        """Send one request; reconnects once if the server closed the idle connection."""
        headers = {"Accept-Encoding": ACCEPT_ENCODING, "Accept": "application/json, text/html, */*"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            conn = self._connection()
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                answer = conn.getresponse()
                wire = answer.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
                continue
            elapsed = (time.perf_counter() - started) * 1000.0
            encoding = answer.getheader("Content-Encoding", "") or ""
            data = DECODERS[encoding](wire)
            if answer.getheader("Connection", "").lower() == "close":
                self.close()
            return Response(answer.status, data, len(wire), elapsed, encoding)
        raise RuntimeError("unreachable")

    def get(self, path: str) -> Response:
        """GET `path`."""
        return self.request("GET", path)

    def post(self, path: str, body: bytes) -> Response:
        """POST a JSON body to `path`."""
        return self.request("POST", path, body)

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def compute_percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values to take a percentile of")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def summarize_latencies(values_ms: list[float]) -> dict:
    """count, median, p95, mean, min and max of a list of milliseconds."""
    if not values_ms:
        return {"count": 0}
    return {
        "count": len(values_ms),
        "median_ms": compute_percentile(values_ms, 50),
        "p95_ms": compute_percentile(values_ms, 95),
        "mean_ms": sum(values_ms) / len(values_ms),
        "min_ms": min(values_ms),
        "max_ms": max(values_ms),
    }


@dataclass(frozen=True)
class Step:
    """One request of a recorded interaction."""

    path: str
    body: bytes


@dataclass
class LoadResult:
    """What a load run measured."""

    clients: int
    completed: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """interactions/s, latency percentiles and the error count."""
        return {
            "clients": self.clients,
            "interactions": self.completed,
            "errors": self.errors,
            "seconds": self.seconds,
            "interactions_per_s": self.completed / self.seconds if self.seconds else 0.0,
            **{key: value for key, value in summarize_latencies(self.latencies_ms).items() if key != "count"},
            "error_samples": self.error_samples[:5],
        }


def run_load(
    base_url: str,
    interactions: list[list[Step]],
    clients: int,
    total: int,
    max_seconds: float,
) -> LoadResult:
    """Replay `interactions` round-robin from `clients` threads until `total` are done or time is up."""
    if clients < 1 or total < 1 or not interactions:
        raise ValueError("need at least one client, one interaction to run and a non-empty interaction list")
    lock = threading.Lock()
    counter = {"next": 0}
    result = LoadResult(clients=clients, completed=0, errors=0, seconds=0.0)
    started = time.perf_counter()
    deadline = started + max_seconds

    def take() -> int | None:
        with lock:
            if counter["next"] >= total or time.perf_counter() > deadline:
                return None
            counter["next"] += 1
            return counter["next"] - 1

    def client() -> None:
        transport = HttpTransport(base_url)
        try:
            while (n := take()) is not None:
                steps = interactions[n % len(interactions)]
                t0 = time.perf_counter()
                failure = None
                for step in steps:
                    try:
                        answer = transport.post(step.path, step.body)
                    except OSError as exc:
                        failure = f"{type(exc).__name__}: {exc}"
                        transport.close()
                        break
                    if answer.status != 200 and answer.status != 204:
                        failure = f"HTTP {answer.status} on {step.path}"
                        break
                elapsed = (time.perf_counter() - t0) * 1000.0
                with lock:
                    if failure is None:
                        result.completed += 1
                        result.latencies_ms.append(elapsed)
                    else:
                        result.errors += 1
                        result.error_samples.append(failure)
        finally:
            transport.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max_seconds + 60)
    result.seconds = time.perf_counter() - started
    return result
