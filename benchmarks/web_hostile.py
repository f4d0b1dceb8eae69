"""Benchmark: the web app against hostile uploads and a writer in another process.

    python benchmarks/web_hostile.py [--runs 5] [--port 8766]

Starts `oresight serve` in its own process (an empty store in a temporary ORESIGHT_HOME) and measures:
the time to refuse a 9-level YAML alias bomb (548 bytes that expand to 387 million nodes) and a 600-level
deep file; the latency of other requests while four bombs are in flight; the time to refuse a body that
declares 500 MB; and, while `oresight news ingest` writes to the store from the terminal, the answers of
rounds of 20 concurrent reads of the store (runs and events). Targets (issue 15): a bomb refused in under 1 s,
other requests answering meanwhile, every concurrent read answered 200.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from load_and_show import machine

ROOT = Path(__file__).resolve().parents[1]
BOMB = "\n".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    + ["name: bomb"]
).encode()
DEEP = ("x: " + "[" * 600 + "]" * 600 + "\nname: deep\n").encode()


def start_server(port: int, home: Path) -> subprocess.Popen:
    env = {**os.environ, "ORESIGHT_HOME": str(home)}
    server = subprocess.Popen([sys.executable, "-m", "oresight", "serve", "--port", str(port)], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/scenarios", timeout=60)
            return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


def upload(url: str, content: bytes) -> tuple[int, float]:
    start = time.perf_counter()
    response = httpx.post(f"{url}/api/runs/upload", files={"file": ("s.yaml", content)}, timeout=120)
    return response.status_code, time.perf_counter() - start


def declared_500_mb(port: int) -> tuple[int, float]:
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(
            b"POST /api/runs/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 500000000\r\n\r\n--b\r\n"
        )
        status = int(sock.recv(4096).split(b" ", 2)[1])
    return status, time.perf_counter() - start


def report(name: str, times: list[float], extra: str = "") -> None:
    print(f"{name:60s} median {statistics.median(times):.3f} s, max {max(times):.3f} s (n={len(times)}){extra}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp()) / "home"
    url = f"http://127.0.0.1:{args.port}"
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    server = start_server(args.port, home)
    try:
        for name, content in (("9-level alias bomb (548 bytes)", BOMB), ("600-level nesting", DEEP)):
            answers = [upload(url, content) for _ in range(args.runs)]
            report(f"refuse a {name}", [t for _, t in answers], f"; status {sorted({s for s, _ in answers})}")
        with ThreadPoolExecutor(4) as pool:
            bombs = [pool.submit(upload, url, BOMB) for _ in range(4)]
            others = []
            while not all(b.done() for b in bombs) or len(others) < args.runs:
                start = time.perf_counter()
                httpx.get(f"{url}/api/scenarios", timeout=60).raise_for_status()
                others.append(time.perf_counter() - start)
        report("GET /api/scenarios while four bombs are refused", others)
        answers = [declared_500_mb(args.port) for _ in range(args.runs)]
        report("refuse a body declaring 500 MB", [t for _, t in answers], f"; status {sorted({s for s, _ in answers})}")
        env = {**os.environ, "ORESIGHT_HOME": str(home)}
        ingest = subprocess.Popen(
            [sys.executable, "-m", "oresight", "news", "ingest", str(ROOT / "tests/fixtures/news/reports.jsonl")],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        statuses, latencies = [], []

        def read(path: str) -> int:
            start = time.perf_counter()
            code = httpx.get(url + path, timeout=120).status_code
            latencies.append(time.perf_counter() - start)
            return code

        with ThreadPoolExecutor(20) as pool:
            while ingest.poll() is None or not statuses:
                statuses += list(pool.map(read, ["/api/runs", "/api/events"] * 10))
        counts = {code: statuses.count(code) for code in sorted(set(statuses))}
        report(
            "20 concurrent reads of the store during a CLI news ingest",
            latencies,
            f"; answers {counts}; the ingest exited {ingest.returncode}",
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
