"""Benchmark: the web app under 20 concurrent clients on loopback.

    python benchmarks/web_load.py [--clients 20] [--rounds 60] [--port 8765]

Starts `oresight serve` in its own process (an empty store in a temporary ORESIGHT_HOME, news ingested from
the test fixtures, one saved run), warms every URL once, then lets each client walk through every page and API
read ``--rounds`` times in its own shuffled order, all clients at once. Prints p50/p95/max latency per URL
and overall. Targets: p95 under 300 ms for pages and under 200 ms for API reads on a 2-core machine.
Each client is a process with one kept-alive connection (a Python async client was itself the bottleneck
at ~200 requests/s); the clients run on the same machine and compete with the server for the two cores.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from load_and_show import machine

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["/", "/commodity/rare-earths", "/commodity/gallium", "/country/CHN", "/scenarios", "/news"]
API = [
    "/api/commodities",
    "/api/commodities/rare-earths",
    "/api/commodities/rare-earths/chain",
    "/api/commodities/gallium/explain",
    "/api/assessments?importer=US%2BJP",
    "/api/countries/CHN",
    "/api/scenarios",
    "/api/runs",
    "/api/events",
]


def start_server(port: int, home: Path) -> subprocess.Popen:
    env = {**os.environ, "ORESIGHT_HOME": str(home)}
    subprocess.run(
        [sys.executable, "-m", "oresight", "news", "ingest", str(ROOT / "tests/fixtures/news/reports.jsonl")],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "oresight", "serve", "--port", str(port)], env=env)


def wait_until_up(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(base + "/api/scenarios").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.2)


def saved_run(base: str) -> str:
    job = httpx.post(base + "/api/runs", json={"scenario": "cn-2025-10-ree-controls", "samples": 200}).json()
    while job["status"] in ("queued", "running"):
        time.sleep(0.3)
        job = httpx.get(f"{base}/api/jobs/{job['id']}").json()
    return job["run_id"]


def one_client(port: int, urls: list[str], rounds: int, seed: int) -> list[tuple[str, float]]:
    """One client: a kept-alive connection, every URL per round in its own order, one request at a time."""
    order = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for _ in range(rounds):
        for url in order.sample(urls, len(urls)):
            start = time.perf_counter()
            connection.request("GET", url)
            response = connection.getresponse()
            response.read()
            times.append((url, time.perf_counter() - start))
            if response.status != 200:
                raise SystemExit(f"{url}: HTTP {response.status}")
    connection.close()
    return times


def run(args) -> dict[str, list[float]]:
    """The clients are processes, not threads: the load generator must not be slowed by its own lock."""
    base = f"http://127.0.0.1:{args.port}"
    wait_until_up(base)
    run_id = saved_run(base)
    urls = [*PAGES, f"/scenarios/runs/{run_id}", *API, f"/api/runs/{run_id}", f"/api/runs/{run_id}/fan"]
    first_views = {}
    for url in urls:  # warm the caches: the first view of a page computes what later views look up
        start = time.perf_counter()
        httpx.get(base + url, timeout=60)
        first_views[url] = time.perf_counter() - start
    print("first views (cold caches), ms: " + ", ".join(f"{u} {1000 * t:.0f}" for u, t in first_views.items()))
    jobs = [(args.port, urls, args.rounds, seed) for seed in range(args.clients)]
    start = time.perf_counter()
    with multiprocessing.Pool(args.clients) as pool:
        results = pool.starmap(one_client, jobs)
    times: dict[str, list[float]] = {"_wall": [time.perf_counter() - start]}
    for url, seconds in (pair for result in results for pair in result):
        times.setdefault(url, []).append(seconds)
    return times


def report(times: dict[str, list[float]], clients: int) -> None:
    wall = times.pop("_wall")[0]
    total = sum(len(v) for v in times.values())
    print(machine())
    print(f"{clients} concurrent clients, {total} requests in {wall:.1f} s ({total / wall:.0f} requests/s)")
    print(f"{'url':48} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  target")
    for kind, prefix, target in (("pages", "/", 300), ("API", "/api/", 200)):
        rows = {u: v for u, v in times.items() if u.startswith("/api/") == (prefix == "/api/")}
        for url, values in rows.items():
            ms = np.array(values) * 1000
            p95 = np.percentile(ms, 95)
            flag = "ok" if p95 < target else f"over {target}"
            print(f"{url[:48]:48} {len(ms):5d} {np.percentile(ms, 50):8.1f} {p95:8.1f} {ms.max():8.1f}  {flag}")
        every = np.concatenate([np.array(v) for v in rows.values()]) * 1000
        print(f"{'all ' + kind:48} {len(every):5d} {np.percentile(every, 50):8.1f} {np.percentile(every, 95):8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        server = start_server(args.port, Path(home))
        try:
            report(run(args), args.clients)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
