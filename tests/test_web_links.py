"""Every link the web app renders leads somewhere: a test walks them all, page by page.

The walk runs on the bundled facts of a few commodities chosen to cover each kind the app must handle (a full
chain, a group and its members, a rare earth known only by shares and composition, a gas known only from
US statistics, a commodity with trade figures but no world supply), so that it visits every page they link
to within seconds. Separately, every commodity the full Overview lists must be a page's canonical name.
"""

from __future__ import annotations

import html
import re
import warnings
from urllib.parse import parse_qsl, urlsplit

import pytest

warnings.filterwarnings("ignore", message=".*httpx2.*")
from fastapi.testclient import TestClient  # noqa: E402

from oresight.web import create_app  # noqa: E402

#: a chain with several stages (gallium), a group (clays, whose members kaolin and bentonite have pages too),
#: an element with only shares and composition (samarium), a gas known only from US statistics (neon), trade
#: figures without world supply (thorium); few producing countries each, so that the walk stays short
COMMODITIES = ["gallium", "clays", "samarium", "neon", "thorium"]
LINK = re.compile(r'(?:href|src)="(/[^"#]*)"')


@pytest.fixture(scope="module")
def small_world(world):
    from oresight.world import World

    keep = world.all_facts["commodity"].isin(["", *COMMODITIES])
    facts = world.all_facts[keep].drop(columns=["series", "edition"]).reset_index(drop=True)
    return World(facts, world.sources, data_version="links")


@pytest.fixture(scope="module")
def client(small_world, tmp_path_factory):
    app = create_app(small_world, tmp_path_factory.mktemp("links") / "store.duckdb")
    with TestClient(app) as test_client:
        yield test_client


def walk(client, tax, start: str = "/") -> tuple[dict[str, int], dict[str, list[str]]]:
    """Visit every page reachable from ``start``; the status of every link target and where it was found.

    A page is rendered once per path; the same path with other query values (a commodity seen by each
    country, ``?importer=JPN``) is checked by the rule the route applies to them, not rendered again.
    """
    status: dict[str, int] = {}
    found_on: dict[str, list[str]] = {}
    rendered: set[str] = set()
    todo = [start]
    while todo:
        url = todo.pop()
        if url in status:
            continue
        parts = urlsplit(url)
        if parts.path in rendered:
            status[url] = 200 if all(_query_resolves(tax, k, v) for k, v in parse_qsl(parts.query)) else 422
            continue
        rendered.add(parts.path)
        response = client.get(url, follow_redirects=True)
        status[url] = response.status_code
        if response.status_code != 200 or not response.headers["content-type"].startswith("text/html"):
            continue
        for link in {html.unescape(x) for x in LINK.findall(response.text)}:
            found_on.setdefault(link, []).append(url)
            if link not in status:
                todo.append(link)
    return status, found_on


def _query_resolves(tax, key: str, value: str) -> bool:
    from oresight.errors import UnknownNameError

    try:
        {"importer": tax.importer, "year": int, "commodity": tax.commodity}[key](value)
    except (UnknownNameError, ValueError, KeyError):
        return False
    return True


def test_every_link_on_every_page_resolves(client, small_world):
    status, found_on = walk(client, small_world.tax)
    broken = {url: (code, found_on.get(url, ["start"])[:3]) for url, code in status.items() if code != 200}
    assert not broken, broken
    visited = {urlsplit(u).path.split("/")[1] for u in status}
    assert {"", "commodity", "country", "scenarios", "news", "static", "api", "openapi.json"} <= visited
    commodity_pages = {urlsplit(u).path for u in status if u.startswith("/commodity/")}
    assert {f"/commodity/{c}" for c in COMMODITIES} <= commodity_pages
    assert sum(u.startswith("/country/") for u in status) >= 8


def test_a_commodity_without_world_supply_has_a_page_saying_so(client):
    page = client.get("/commodity/samarium")
    assert page.status_code == 200 and 'id="no-supply-note"' in page.text
    assert "mass_fraction" in page.text  # what the data do hold is shown
    assert client.get("/api/commodities/neon").json()["note"]


def test_pages_answer_to_every_name_of_a_commodity_or_country(client):
    for name, canonical in [("Kaolin", "kaolin"), ("Bentonit", "bentonite"), ("Seltene Erden", "rare-earths"),
                            ("Kobalt", "cobalt"), ("NdFeB magnets", "rare-earths")]:  # fmt: skip
        response = client.get(f"/commodity/{name}?importer=JPN", follow_redirects=False)
        assert response.status_code == 307 and response.headers["location"] == f"/commodity/{canonical}?importer=JPN"
        assert client.get(f"/api/commodities/{name}").json()["commodity"] == canonical
    for name in ("China", "China, People's Republic of", "CN", "chn"):
        assert client.get(f"/country/{name}", follow_redirects=False).headers["location"] == "/country/CHN"
        assert client.get(f"/api/countries/{name}").json()["country"] == "CHN"


def test_every_commodity_the_overview_lists_is_a_canonical_page_name(world):
    """On the full data: each of the Overview's commodity links names its commodity by its own id, so that it
    resolves to itself (before, kaolin and bentonite resolved to their group, clays)."""
    from oresight.tables import commodity_list

    listed = commodity_list(world)["commodity"]
    assert len(listed) > 100
    assert [c for c in listed if world.resolve(c)[0] != c] == []
