"""Loading a World: the bundled facts and sources, merged with what the user imported into their store."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from oresight.world import World

__all__ = ["bundled", "load"]


def bundled() -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Bundled facts and sources, and a short digest of the facts file that names this data version."""
    folder = resources.files("oresight") / "data"
    with resources.as_file(folder / "facts.parquet") as path:
        from pyarrow.parquet import ParquetFile  # one file: no need for pyarrow's dataset layer (slow to import)

        # one thread: for a 1 MB file Arrow's thread pool costs more than it saves, several times more on a busy
        # machine (measured in docs/benchmarks.md)
        facts = ParquetFile(path).read(use_threads=False).to_pandas(use_threads=False)
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    with resources.as_file(folder / "sources.csv") as path:
        sources = pd.read_csv(path, dtype=str, keep_default_na=False)
    return facts, sources, digest


def load(year: int | None = None, *, edition: str | int | None = None, store: str | Path | bool | None = True) -> World:
    """Load the bundled data, plus what the user imported into their local store.

    ``year``: the default year of selections (latest with data when None). ``edition``: prefer this edition of
    every publication that has it (e.g. ``2025`` for MCS 2025), else the latest edition. ``store``: the local
    store to merge (True: the default store if it exists; a path; False: bundled data only).
    """
    from oresight.world import World

    facts, sources, version = bundled()
    facts["load_order"] = 0
    sources["load_order"] = 0
    if store:
        from oresight.store import Store

        local = Store.open(None if store is True else store, read_only=True)
        if local is not None:
            with local:
                imported, imported_sources = local.facts_and_sources()
                imports = local.imports()
            facts = pd.concat([facts, imported], ignore_index=True)
            sources = pd.concat([sources, imported_sources], ignore_index=True)
            if not imports.empty:
                digest = hashlib.sha256("|".join(imports["sha256"].astype(str)).encode()).hexdigest()[:8]
                version += f"+{len(imports)} imports {digest}"
    if edition is not None:
        version += f" edition {edition}"
    from .trade import trade_path

    return World(facts, sources, year=year, edition=edition, data_version=version, trade_path=trade_path())
