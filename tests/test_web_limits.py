"""The web app under hostile input: alias bombs and deep YAML refused while other requests go on, huge bodies
refused before they are read, saved runs with NaN or without their results file answered cleanly, and an API
contract that documents its errors (404, 429, 503) and says which methods a route allows."""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from oresight.web import create_app
from oresight.web.api import MAX_UPLOAD_BYTES

#: 9 levels of nine aliases each: 548 bytes that expand to 9^9 (387 million) nodes
ALIAS_BOMB = "\n".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    + ["name: bomb"]
).encode()
DEEP = ("x: " + "[" * 600 + "]" * 600 + "\nname: deep\n").encode()
NAN_SCENARIO = b"""name: nan-test
importers: [USA]
shocks:
  - {kind: export_restriction, exporter: CHN, commodity: gallium, stages: [refining], blocked: .nan, start_month: 1}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(world, tmp_path_factory):
    """The app served by uvicorn on a thread (its event loop is that thread); yields (url, app, thread)."""
    import uvicorn

    app = create_app(world, tmp_path_factory.mktemp("limits") / "store.duckdb")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app, thread
    server.should_exit = True
    thread.join(timeout=10)


def _upload(url: str, content: bytes, name: str = "s.yaml") -> httpx.Response:
    return httpx.post(f"{url}/api/runs/upload", files={"file": (name, content)}, timeout=60)


def test_an_alias_bomb_is_refused_off_the_event_loop_while_other_requests_answer(server):
    url, app, loop_thread = server
    service = app.state.service
    parsed_on = []
    original = service.start_uploaded_run

    def recording(*args, **kwargs):
        parsed_on.append(threading.current_thread())
        return original(*args, **kwargs)

    service.start_uploaded_run = recording
    try:
        httpx.get(f"{url}/api/scenarios", timeout=60)  # computed once; then answered from the event loop
        with ThreadPoolExecutor(4) as pool:
            bombs = [pool.submit(_upload, url, ALIAS_BOMB, f"bomb{i}.yaml") for i in range(2)]
            others = [httpx.get(f"{url}/api/scenarios", timeout=60) for _ in range(10)]
            refused = [b.result() for b in bombs]
    finally:
        service.start_uploaded_run = original
    assert all(r.status_code == 200 for r in others)
    for response in refused:
        assert response.status_code == 422
        assert "aliases are expanded" in response.json()["detail"][0]["msg"]
    assert parsed_on and all(thread is not loop_thread for thread in parsed_on)


def test_deep_yaml_and_nan_numbers_are_clean_422s(server):
    url, _, _ = server
    deep = _upload(url, DEEP, "deep.yaml")
    assert deep.status_code == 422 and "nested more than" in deep.json()["detail"][0]["msg"]
    nan = _upload(url, NAN_SCENARIO, "nan.yaml")
    assert nan.status_code == 422, nan.text
    assert "shocks[0].blocked" in nan.json()["detail"][0]["msg"] and "finite" in nan.json()["detail"][0]["msg"]


def _raw_request(url: str, head: str, body_chunks: list[bytes]) -> tuple[int, int]:
    """Send a request by hand; the status, and how many body bytes the server let us send before answering."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode())
        sent = 0
        for chunk in body_chunks:
            try:
                sock.sendall(chunk)
                sent += len(chunk)
            except OSError:
                break
        answer = sock.recv(65536).decode("latin-1")
    return int(answer.split(" ", 2)[1]), sent


def test_a_huge_declared_body_is_refused_before_it_is_read(server):
    url, _, _ = server
    head = (
        "POST /api/runs/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        "Content-Length: 500000000\r\n\r\n"
    )
    status, _ = _raw_request(url, head, [b"--b\r\n"])
    assert status == 413  # answered after 5 of the announced 500,000,000 bytes


def test_a_huge_chunked_body_is_cut_off_at_the_limit(server):
    url, _, _ = server
    head = (
        "POST /api/runs/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.yaml"\r\n\r\n'
    pieces = [part, *[b"#" * 32768] * 8]  # a well-formed start, then 256 kB of file: four times the limit
    status, _ = _raw_request(url, head, [f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces])
    assert status == 413
    assert httpx.get(f"{url}/api/scenarios", timeout=60).status_code == 200


def test_an_upload_just_under_the_limit_still_reaches_the_scenario_check(server):
    url, _, _ = server
    padded = b"name: padded\n" + b"#" * (MAX_UPLOAD_BYTES - 100) + b"\n"
    response = _upload(url, padded, "padded.yaml")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "shocks"]


def test_a_saved_run_with_nan_or_without_its_results_file_answers_cleanly(server):
    from oresight.store import Store

    url, app, _ = server
    service = app.state.service
    summary = {"scenario": "old", "importers": {"USA": {"shortfall_t": {"p50": float("nan")}, "commodities": {}}},
               "stockpiles": [], "price_index_peak": {}, "notes": [], "samples": 1, "horizon_months": 1}  # fmt: skip
    row = {
        "id": "20250101-000000-abcdef",
        "created": "2025-01-01 00:00:00",
        "scenario": "old",
        "seed": 1,
        "samples": 1,
        "horizon": 1,
        "importers": "USA",
        "data_version": "x",
        "oresight_version": "0",
        "scenario_yaml": "name: old\n",
        "summary_json": json.dumps(summary),
    }  # fmt: skip (a bare NaN, as once saved)
    import pandas as pd

    with Store.open(service.store) as store:
        results = store.add_run(row, pd.DataFrame({"value": [1.0]}))
    results.unlink()  # the results file deleted behind the store's back
    service.store_changed()
    answer = httpx.get(f"{url}/api/runs/{row['id']}", timeout=60)
    assert answer.status_code == 200
    assert json.loads(answer.text, parse_constant=pytest.fail)["summary"]["importers"]["USA"]["shortfall_t"] == {
        "p50": None
    }
    fan = httpx.get(f"{url}/api/runs/{row['id']}/fan", timeout=60)
    assert fan.status_code == 404 and "missing" in fan.json()["detail"]
    assert httpx.get(f"{url}/api/runs/{row['id']}/results.csv", timeout=60).status_code == 404
    page = httpx.get(f"{url}/scenarios/runs/{row['id']}", timeout=60)
    assert page.status_code == 200 and 'id="fan-note"' in page.text


def test_405_says_which_methods_are_allowed(server):
    url, _, _ = server
    response = httpx.delete(f"{url}/api/runs", timeout=60)
    assert response.status_code == 405 and set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET"}


def test_the_api_contract_documents_its_errors(server):
    url, _, _ = server
    paths = httpx.get(f"{url}/openapi.json", timeout=60).json()["paths"]
    for path, methods in paths.items():
        for method, spec in methods.items():
            assert {"404", "503"} <= set(spec["responses"]), (method, path)
    assert "429" in paths["/api/runs"]["post"]["responses"]
    assert {"413", "429"} <= set(paths["/api/runs/upload"]["post"]["responses"])
