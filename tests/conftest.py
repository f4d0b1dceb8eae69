"""Shared fixtures. Tests never touch the network, the user's home or ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own empty ORESIGHT_HOME, so the user's store never leaks in."""
    home = tmp_path / "oresight-home"
    monkeypatch.setenv("ORESIGHT_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def world():
    """The bundled data, without any local store."""
    import oresight

    return oresight.load(store=False)
