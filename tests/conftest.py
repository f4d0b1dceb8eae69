"""Shared fixtures. Tests never touch the network, the user's home or ../shared."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

# Before any fixture of any scope runs (module- and session-scoped ones run before the per-test home below):
# the whole session's default home is a fresh folder, so no test can reach the user's ~/.oresight.
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="oresight-tests-")) / "home"
os.environ["ORESIGHT_HOME"] = str(_SESSION_HOME)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own empty ORESIGHT_HOME, so the user's store never leaks in."""
    home = tmp_path / "oresight-home"
    monkeypatch.setenv("ORESIGHT_HOME", str(home))
    return home


@pytest.fixture
def oresight_process(tmp_path):
    """Run ``python -m oresight ARGS`` in a new process with an empty home, as a user's shell would (the
    console script's error handling included); returns the completed process."""

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "oresight", *map(str, args)],
            capture_output=True,
            text=True,
            env={"ORESIGHT_HOME": str(tmp_path / "process-home"), "PATH": ""},
        )

    return run


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def world():
    """The bundled data, without any local store."""
    import oresight

    return oresight.load(store=False)


# -- a toy World for the simulator: one cobalt chain, small round numbers --------------------------------------
def _toy_fact(stage, country, value, measure="production", unit="t", partner="", basis="t Co content", year=2024):
    return {
        "commodity": "cobalt",
        "stage": stage,
        "country": country,
        "partner": partner,
        "year": year,
        "measure": measure,
        "value": value,
        "unit": unit,
        "basis": basis,
        "status": "reported",
        "source": "toy-survey",
    }


TOY_FACTS = [
    # mining: 240 t, COD 180, IDN 40, AUS 10 and 10 unattributed
    *(_toy_fact("mining", c, v) for c, v in [("COD", 180.0), ("IDN", 40.0), ("AUS", 10.0), ("WLD", 240.0)]),
    # refining: 220 t, CHN 170, FIN 20, JPN 10 and 20 unattributed
    *(_toy_fact("refining", c, v) for c, v in [("CHN", 170.0), ("FIN", 20.0), ("JPN", 10.0), ("WLD", 220.0)]),
    _toy_fact("", "USA", 15.0, measure="consumption", basis="consumption, apparent"),
    _toy_fact("refining", "JPN", 30.0, measure="consumption", basis="consumption, apparent"),
    *(
        _toy_fact("", "USA", s, measure="import_share", unit="share", partner=p, basis="refined")
        for p, s in [("FIN", 0.5), ("JPN", 0.2), ("CHN", 0.3)]
    ),
    _toy_fact("refining", "CHN", 100.0, measure="export_quantity", partner="WLD", basis="t exported"),
]


@pytest.fixture(scope="session")
def toy_world():
    """A World of hand-made cobalt facts (a tiny mock of the bundled data, as pymrio mocks its databases)."""
    import pandas as pd

    from oresight.world import World

    sources = pd.DataFrame(
        [
            {
                "id": "toy-survey",
                "series": "toy",
                "edition": "2024",
                "publisher": "Toy",
                "title": "Toy survey",
                "year": "2024",
                "licence": "CC0",
            }
        ]
    )
    return World(pd.DataFrame(TOY_FACTS), sources, data_version="toy")
