"""``oresight news extract | ingest | events`` end to end, with bad input among good."""

import json

import pytest
from typer.testing import CliRunner

from oresight.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def news(fixtures):
    return fixtures / "news"


def run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def records(output: str) -> dict[str, dict]:
    rows = [json.loads(line) for line in output.splitlines() if line.strip()]
    return {row["id"]: row for row in rows}


def test_extract_jsonl_one_object_per_article(news):
    result = run("news", "extract", news / "reports.jsonl", news / "article.html", news / "feed.xml")
    assert result.exit_code == 0, result.output
    found = records(result.stdout)
    assert len(found) == 12
    assert found["g-en"]["event"] == found["g-de"]["event"]
    assert found["feed-sport"]["event"] is None
    lifting = found["feed-ga-lift"]
    assert (lifting["type"], lifting["event_date"]) == ("export_control_suspension", "2025-11-09")
    for row in found.values():
        assert {"id", "event", "type", "commodities", "countries", "event_date", "flags", "evidence"} <= set(row)
        assert all(len(code) == 3 and code.isupper() for code in row["countries"])


def test_extract_table(news):
    result = run("news", "extract", news / "reports.jsonl", "--format", "table")
    assert result.exit_code == 0, result.output
    assert "9 articles, 4 events" in result.stdout
    assert "agreement_partnership" in result.stdout.replace("\n", "")


def test_malformed_lines_are_reported_and_the_rest_is_read(news):
    result = run("news", "extract", news / "bad.jsonl")
    assert result.exit_code == 1
    assert list(records(result.stdout)) == ["sb-price"]
    assert "bad.jsonl, line 2: not valid JSON" in result.stderr
    assert 'bad.jsonl, line 3: text: expected the article text as a string (field "text")' in result.stderr


@pytest.mark.parametrize(("name", "message"), [("empty.txt", "file is empty"), ("binary.txt", "file is binary")])
def test_empty_and_binary_files(news, name, message):
    result = run("news", "extract", news / name, news / "latin1.txt")
    assert result.exit_code == 1
    assert message in result.stderr
    assert list(records(result.stdout)) == ["latin1"]


def test_latin1_and_cp1252_text(news, tmp_path):
    cp1252 = tmp_path / "cp1252.txt"
    cp1252.write_bytes(
        "USA und Japan unterzeichnen Abkommen über Seltene Erden\n„Ein wichtiger Schritt“, sagte die Ministerin am "
        "Dienstag in Tokio, wo die USA und Japan ein Abkommen über Seltene Erden unterzeichneten.".encode("cp1252")
    )
    result = run("news", "extract", news / "latin1.txt", cp1252)
    assert result.exit_code == 0, result.output
    found = records(result.stdout)
    assert found["latin1"]["type"] == "export_control"
    assert found["latin1"]["event_date"] == "2024-12-03"  # "am Dienstag", against the header date 2024-12-04
    assert found["cp1252"]["type"] == "agreement_partnership"
    assert any("„Ein wichtiger Schritt“" in sentence for sentence in found["cp1252"]["evidence"]["type"])


def test_large_files_are_cut_with_a_flag(news):
    result = run("news", "extract", news / "reports.jsonl", news / "article.html", "--max-bytes", "700")
    assert result.exit_code == 1
    found = records(result.stdout)
    assert "input_truncated" in found["article"]["flags"]
    assert list(found) == ["g-en", "article"]  # only the first JSON line fits whole in 700 bytes
    assert "input_truncated" not in found["g-en"]["flags"]
    assert "reports.jsonl: larger than 700 bytes" in result.stderr


def test_missing_file_is_named(tmp_path):
    result = run("news", "extract", tmp_path / "nowhere.jsonl")
    assert result.exit_code == 1 and "nowhere.jsonl: file not found" in result.stderr


def test_ingest_then_list_events(news):
    first = run("news", "ingest", news / "reports.jsonl", news / "latin1.txt")
    assert first.exit_code == 0, first.output
    assert "stored 10 articles (0 already stored); 5 events" in first.stdout
    again = run("news", "ingest", news / "reports.jsonl")
    assert "stored 0 articles (9 already stored)" in again.stdout
    listed = json.loads(run("news", "events", "--format", "json").stdout)
    assert len(listed) == 5
    bans = json.loads(
        run("news", "events", "--type", "export_control", "--since", "2024-01-01", "--format", "json").stdout
    )
    assert [e["scenario"]["scenario"] for e in bans] == ["cn-2024-12-ga-ge-sb-us-ban"]
    table = run("news", "events", "--commodity", "graphite")
    assert table.exit_code == 0 and "graphite" in table.stdout and "antimony" not in table.stdout
    by_taxonomy_id = json.loads(run("news", "events", "--commodity", "rare-earths", "--format", "json").stdout)
    assert [e["type"] for e in by_taxonomy_id] == ["agreement_partnership"]
    assert "no stored event matches" in run("news", "events", "--since", "2030-01-01").stdout
    # a listing command speaks CSV too: one row per event, the linked scenario beside it, German filters work
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(run("news", "events", "--commodity", "Graphit", "--format", "csv").stdout)))
    assert rows and {r["event"] for r in rows} == {e["event"] for e in listed if "graphite" in e["commodities"]}
    assert all("graphite" in r["commodities"] for r in rows)
    (ban,) = list(csv.DictReader(io.StringIO(run("news", "events", "--since", "2024-12-01", "--type",
                                                 "export_control", "--format", "csv").stdout)))  # fmt: skip
    assert ban["scenario"] == "cn-2024-12-ga-ge-sb-us-ban" and int(ban["reports"]) >= 1


def test_events_on_an_empty_store_says_how_to_fill_it():
    result = run("news", "events")
    assert result.exit_code == 0 and "oresight news ingest" in result.stdout


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--type", "embargo", "unknown event type 'embargo'"),
        ("--commodity", "unobtainium", "unknown commodity 'unobtainium'"),
        ("--since", "last week", "not a date: 'last week'"),
    ],
)
def test_bad_filter_is_one_clear_message_without_traceback(oresight_process, option, value, message):
    proc = oresight_process("news", "events", option, value)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert message in proc.stderr and option in proc.stderr


def test_ingest_runs_the_alert_rules_on_the_events_it_adds(tmp_path, monkeypatch):
    monkeypatch.setenv("ORESIGHT_HOME", str(tmp_path / "home"))
    reports = tmp_path / "reports.jsonl"
    reports.write_text(
        json.dumps(
            {
                "id": "ga-wire",
                "published": "2025-03-05",
                "text": "China tightens gallium export controls\nChina tightened its export controls on gallium "
                "and germanium on Wednesday, the commerce ministry said.",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - name: minor metals from China\n    types: [export_control]\n"
        "    commodities: [Gallium]\n    importers: [US]\n    samples: 40\n",
        encoding="utf-8",
    )
    log = tmp_path / "alerts.jsonl"
    result = run("news", "ingest", reports, "--alerts", rules, "--alerts-log", log)
    assert result.exit_code == 0, result.output
    assert "alert minor metals from China" in result.stdout
    (alert,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert alert["articles"] == ["ga-wire"] and alert["impact"] is not None
    # the same file again adds no event: no second alert
    again = run("news", "ingest", reports, "--alerts", rules, "--alerts-log", log)
    assert again.exit_code == 0 and "alert" not in again.stdout
    assert len(log.read_text().splitlines()) == 1


def test_ingest_with_a_bad_rules_file_stores_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("ORESIGHT_HOME", str(tmp_path / "home"))
    reports = tmp_path / "reports.jsonl"
    reports.write_text(json.dumps({"id": "x", "text": "China curbs gallium exports."}) + "\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: x\n    commodities: [unobtainium]\n", encoding="utf-8")
    result = runner.invoke(app, ["news", "ingest", str(reports), "--alerts", str(rules)])
    assert result.exit_code == 1 and "unobtainium" in str(result.exception)
    assert not (tmp_path / "home" / "oresight.duckdb").exists()
