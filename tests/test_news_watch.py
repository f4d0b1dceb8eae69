"""Watching feeds served by a local HTTP server (loopback only): conditional requests, each new item's page
fetched once, idempotent ingest, retries with backoff, alerts with the impact of the linked scenario."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import pytest
from typer.testing import CliRunner

from oresight.cli import app
from oresight.news import watch
from oresight.news.store import events
from oresight.store import Store

GALLIUM_JA = (
    "中国商務省は4日、ガリウムとゲルマニウムの輸出規制を強化すると発表した。"
    "今後、米国向けの輸出には個別の許可が必要になる。"
)
GALLIUM_KO = (
    "중국 상무부는 4일 갈륨과 게르마늄에 대한 수출 통제를 강화한다고 밝혔다. "
    "앞으로 미국으로 수출하려면 정부 허가를 받아야 한다."
)
GALLIUM_FR = (
    "Le ministère chinois du Commerce a annoncé mardi de nouvelles restrictions sur les exportations de gallium et "
    "de germanium vers les États-Unis."
)
GRAPHITE_PAGE = (
    "<html><head><title>Graphite permits</title></head><body><nav>Home | World | Markets</nav><article>"
    "<h1>China to require permits for graphite exports</h1>"
    "<p>China will require export permits for some graphite products from December 1, the commerce ministry said "
    "on Friday, in a move that could slow shipments of a material used in electric-vehicle batteries.</p>"
    "<p>Exporters will have to apply for licences and report the end users of the graphite they sell abroad, "
    "the ministry said in a statement published on its website.</p></article><footer>Contact</footer></body></html>"
)


class Site:
    """The feeds and pages a test server serves, what it was asked, and failures to stage."""

    def __init__(self) -> None:
        self.feeds: dict[str, tuple[str, str]] = {}  # path -> (etag, xml)
        self.pages: dict[str, str] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, If-None-Match)
        self.fail: dict[str, int] = {}  # path -> how many more requests answer 503

    def item(self, base: str, key: str, title: str, summary: str, date: str, page: str | None = None) -> str:
        link = f"{base}/page/{key}.html"
        if page is not None:
            self.pages[f"/page/{key}.html"] = page
        return (
            f"<item><guid>{key}</guid><title>{escape(title)}</title><link>{link}</link>"
            f"<description>{escape(summary)}</description><pubDate>{date}</pubDate></item>"
        )

    def publish(self, path: str, etag: str, items: list[str]) -> None:
        self.feeds_items = items
        body = "".join(items)
        self.feeds[path] = (
            etag,
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test desk</title>{body}</channel></rss>',
        )


@pytest.fixture
def site():
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state.requests.append((self.path, self.headers.get("If-None-Match")))
            if state.fail.get(self.path, 0) > 0:
                state.fail[self.path] -= 1
                self.send_error(503)
                return
            if self.path in state.feeds:
                etag, xml = state.feeds[self.path]
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self._send(xml.encode(), "application/rss+xml", {"ETag": etag})
            elif self.path in state.pages:
                self._send(state.pages[self.path].encode(), "text/html; charset=utf-8", {})
            else:
                self.send_error(404)

        def _send(self, body: bytes, kind: str, headers: dict) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_port}"
    yield state
    server.shutdown()
    server.server_close()


def _paths(site):
    return [path for path, _ in site.requests]


def test_a_feed_polled_twice_stores_only_what_is_new(site, tmp_path):
    store = tmp_path / "store.duckdb"
    first = site.item(
        site.base,
        "graphite-1",
        "China to require permits for graphite exports",
        "Permits needed.",
        "Fri, 20 Oct 2023 09:00:00 GMT",
        GRAPHITE_PAGE,
    )
    site.publish("/feed.xml", '"v1"', [first])
    report = watch.poll([f"{site.base}/feed.xml"], store)
    assert report.stored == 1 and report.feeds[f"{site.base}/feed.xml"] == "new items: 1"
    with Store.open(store, read_only=True) as opened:
        (event,) = events(opened)
    assert event["type"] == "export_control" and event["commodities"] == ["graphite"]
    assert "licences" in event["articles"][0]["evidence"]["type"][0] or event["articles"][0]["url"].endswith(".html")

    again = watch.poll([f"{site.base}/feed.xml"], store)  # unchanged: a conditional request, answered 304
    assert again.stored == 0 and again.feeds[f"{site.base}/feed.xml"] == "not modified"
    assert site.requests[-1] == ("/feed.xml", '"v1"')

    second = site.item(site.base, "ga-ja", "ガリウム輸出規制", GALLIUM_JA, "Wed, 05 Mar 2025 01:00:00 GMT")
    site.publish("/feed.xml", '"v2"', [second, first])
    changed = watch.poll([f"{site.base}/feed.xml"], store)
    assert changed.stored == 1 and changed.feeds[f"{site.base}/feed.xml"] == "new items: 1"
    assert _paths(site).count("/page/graphite-1.html") == 1  # a seen item's page is not fetched again
    with Store.open(store, read_only=True) as opened:
        assert opened.con.execute("SELECT count(*) FROM news_articles").fetchone()[0] == 2


def test_a_failing_feed_is_retried_and_then_backs_off(site, tmp_path):
    store = tmp_path / "store.duckdb"
    site.publish(
        "/feed.xml",
        '"v1"',
        [site.item(site.base, "ga-ko", "갈륨 수출 통제", GALLIUM_KO, "Tue, 04 Mar 2025 03:00:00 GMT")],
    )
    site.fail["/feed.xml"] = 2  # two 503s, then the feed
    waits = []
    report = watch.poll([f"{site.base}/feed.xml"], store, sleep=waits.append)
    assert report.stored == 1 and waits == [1, 2]

    site.fail["/down.xml"] = 100
    down = f"{site.base}/down.xml"
    failed = watch.poll([down], store, sleep=lambda s: None)
    assert failed.feeds[down].startswith("failed: HTTP 503")
    later = watch.poll([down], store, sleep=lambda s: None)
    assert later.feeds[down].startswith("waiting: next try in")
    with Store.open(store, read_only=True) as opened:
        failures, next_try = opened.con.execute(
            "SELECT failures, next_try FROM news_feeds WHERE url = ?", [down]
        ).fetchone()
    assert failures == 1 and next_try > 0


def test_japanese_and_korean_reports_are_one_event_with_its_impact(site, tmp_path):
    site.publish(
        "/asia.xml",
        '"a1"',
        [
            site.item(
                site.base,
                "ga-ja",
                "中国、ガリウムとゲルマニウムの輸出規制を強化",
                GALLIUM_JA,
                "Wed, 05 Mar 2025 01:00:00 GMT",
            ),
            site.item(
                site.base, "ga-ko", "중국, 갈륨·게르마늄 수출 통제 강화", GALLIUM_KO, "Tue, 04 Mar 2025 03:00:00 GMT"
            ),
        ],
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - name: minor metals from China\n    types: [export_control]\n"
        "    commodities: [Gallium]\n    countries: [China]\n    importers: [US]\n    samples: 40\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app,
        ["news", "watch", f"{site.base}/asia.xml", "--once", "--alerts", str(rules), "--quiet"],
        env={"ORESIGHT_HOME": str(tmp_path / "home")},
    )
    assert result.exit_code == 0, result.output
    assert "alert minor metals from China" in result.stdout
    (alert,) = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert sorted(alert["articles"]) == ["ga-ja", "ga-ko"]
    impact = alert["impact"]
    assert impact["scenario"] == "cn-2024-12-ga-ge-sb-us-ban"
    usa = impact["importers"]["USA"]["shortfall_t"]
    assert 0 <= usa["p50"] <= usa["p95"]
    listed = CliRunner().invoke(
        app, ["news", "events", "--format", "json"], env={"ORESIGHT_HOME": str(tmp_path / "home")}
    )
    (event,) = json.loads(listed.stdout)
    assert event["impact"]["importers"]["USA"]["shortfall_t"] == usa
    assert {a["language"] for a in event["articles"]} == {"ja", "ko"}

    # a French report of the same event joins it without a second alert (its impact stands)
    from oresight.news.alerts import load_rules

    french = site.item(
        site.base, "ga-fr", "La Chine durcit ses contrôles sur le gallium", GALLIUM_FR, "Wed, 05 Mar 2025 08:00:00 GMT"
    )
    site.publish("/asia.xml", '"a2"', [french, *site.feeds_items])
    report = watch.poll([f"{site.base}/asia.xml"], tmp_path / "home" / "oresight.duckdb", alerts=load_rules(rules))
    assert report.stored == 1 and report.alerts == []
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 1


def test_bad_watch_arguments_are_one_line_errors(tmp_path, oresight_process):
    runner = CliRunner()
    bad_every = runner.invoke(app, ["news", "watch", "http://127.0.0.1:1/feed.xml", "--every", "soon", "--once"])
    assert bad_every.exit_code == 1 and "--every" in str(bad_every.exception)
    not_url = runner.invoke(app, ["news", "watch", "feed.xml", "--once"])
    assert not_url.exit_code == 1 and "not a feed URL" in str(not_url.exception)
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: x\n    commodities: [unobtainium]\n", encoding="utf-8")
    proc = oresight_process("news", "watch", "http://127.0.0.1:1/f.xml", "--once", "--alerts", str(rules))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "rules.yaml" in proc.stderr and "unobtainium" in proc.stderr
    assert "rules[0].commodities" in " ".join(proc.stderr.split())
    rules.write_text("rules:\n  - name: x\n    samples: .nan\n", encoding="utf-8")
    proc = oresight_process("news", "watch", "http://127.0.0.1:1/f.xml", "--once", "--alerts", str(rules))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "samples" in proc.stderr
