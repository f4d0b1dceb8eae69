"""What the web app shows, computed once per question and shared by the pages and the JSON API.

The World is loaded once when the app starts; assessments, chains and explanations are cached by their
arguments, so that repeated page views cost a lookup.
"""

from __future__ import annotations

import json
import threading
import time
from functools import lru_cache
from pathlib import Path

import pandas as pd

from oresight.errors import DataNotAttestedError, OresightError, UnknownNameError
from oresight.store import Store
from oresight.web.jobs import Job, JobQueue

__all__ = ["WEB_MAX_HORIZON", "WEB_MAX_SAMPLES", "Service", "plain"]

#: how long values read from the store are reused before they are read again
STORE_REFRESH_SECONDS = 5
#: limits of a simulation started from the web (the command line has none): a shared server must stay responsive
WEB_MAX_SAMPLES = 5000
WEB_MAX_HORIZON = 120


def plain(frame: pd.DataFrame) -> list[dict]:
    """A table as JSON-safe records: NaN becomes null, numpy scalars become Python numbers."""
    return json.loads(frame.to_json(orient="records", date_format="iso"))


class Service:
    """The web app's model: a World, the store path and a job queue."""

    def __init__(self, world, store: Path, jobs: JobQueue | None = None) -> None:
        self.world = world
        self.store = Path(store)
        self.jobs = jobs or JobQueue()
        self._memo: dict = {}
        self._key_locks: dict[tuple, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._generation = 0  # bumped whenever this app writes to the store
        self.assessment = lru_cache(maxsize=64)(self._assessment)
        self.chain = lru_cache(maxsize=64)(self._chain)
        self.explanation = lru_cache(maxsize=256)(self._explanation)
        self.commodities = lru_cache(maxsize=1)(self._commodities)
        self.scenarios = lru_cache(maxsize=1)(self._scenarios)
        self._supply_shares = lru_cache(maxsize=16)(self.world.supply_shares)

    def memo(self, key: tuple, build, *, stored: bool = False):
        """``build()``, computed once per key. ``stored``: the value depends on the store, so it is computed
        again after this app saved a run, and at least every :data:`STORE_REFRESH_SECONDS` (news ingested from
        the terminal meanwhile show up then)."""
        full = self._full_key(key, stored)
        if full in self._memo:
            return self._memo[full]
        with self._lock_of(full):  # concurrent misses of one key wait for the first, not compute it again
            if full not in self._memo:
                if len(self._memo) > 512:
                    self._memo.clear()
                self._memo[full] = build()
        return self._memo[full]

    def _lock_of(self, key: tuple) -> threading.Lock:
        with self._locks_guard:
            if len(self._key_locks) > 1024:
                self._key_locks.clear()
            return self._key_locks.setdefault(key, threading.Lock())

    def store_changed(self) -> None:
        """Forget what was read from the store (this app wrote to it, or a caller knows someone else did)."""
        self._generation += 1

    def peek(self, key: tuple, *, stored: bool = False):
        """The value :meth:`memo` holds for ``key``, or None."""
        return self._memo.get(self._full_key(key, stored))

    def _full_key(self, key: tuple, stored: bool) -> tuple:
        return (*key, self._generation, int(time.monotonic() // STORE_REFRESH_SECONDS)) if stored else key

    # -- names ------------------------------------------------------------------------------------------------
    def importer(self, name: str):
        return self.world.tax.importer(name)

    def commodity_id(self, name: str) -> str:
        return self.world.resolve(name)[0]

    def country(self, name: str) -> str:
        """The ISO3 code of a country named by code or name (a bloc or a world total is no country page)."""
        from oresight.taxonomy.countries import AGGREGATES, EUROPEAN_UNION

        code = self.world.tax.country(name)
        if code in AGGREGATES or code == EUROPEAN_UNION:
            raise UnknownNameError("country", name)
        return code

    # -- map and measure --------------------------------------------------------------------------------------
    def _commodities(self) -> pd.DataFrame:
        from oresight.tables import commodity_list

        return commodity_list(self.world)

    def _assessment(self, importer: str, year: int | None) -> pd.DataFrame:
        from oresight.assess import assess

        return assess(self.world, self.importer(importer), year)

    def _chain(self, commodity: str, importer: str, year: int | None) -> tuple[pd.DataFrame, list[str]]:
        from oresight.briefing import chain_flows

        return chain_flows(self.world, commodity, importer, year)

    def _explanation(self, commodity: str, importer: str, year: int | None) -> dict:
        from oresight.assess import explain

        return explain(self.world, commodity, self.importer(importer), year)

    def commodity_stages(self, commodity: str, importer: str, year: int | None) -> pd.DataFrame:
        """The assessment's rows of one commodity: none where no source gives its supply by country."""
        table = self.assessment(importer, year)
        return table[table["commodity"] == commodity]

    def commodity_facts(self, commodity: str) -> pd.DataFrame:
        from oresight.tables import commodity_facts

        return self.memo(("facts", commodity), lambda: commodity_facts(self.world, commodity))

    def explained(self, commodity: str, importer: str, year: int | None) -> dict:
        """:meth:`explanation`, or no stages and the reason where no stage has supply data."""
        try:
            return self.explanation(commodity, importer, year)
        except DataNotAttestedError as exc:
            return {"commodity": commodity, "stages": [], "sources": [], "note": str(exc)}

    def supplies(self, country: str, year: int | None) -> pd.DataFrame:
        """What a country supplies: its share of world output at every stage with data."""
        shares = self._supply_shares(year)
        rows = shares[(shares["country"] == country) & shares["share"].notna()]
        columns = ["commodity", "stage", "year", "share", "basis", "source"]
        return rows[columns].sort_values("share", ascending=False).reset_index(drop=True)

    def sources(self, ids) -> list[dict]:
        wanted = sorted({s for cell in ids for s in str(cell).replace(";", " ").split()})
        return [self.world.source(s) for s in wanted if s in self.world.sources.index]

    # -- scenarios and runs -----------------------------------------------------------------------------------
    def _scenarios(self) -> list[dict]:
        from oresight.simulate.scenario import library_names, load_scenario

        out = []
        for name in library_names():
            try:
                scenario = load_scenario(name)
            except OresightError:  # a template that needs parameters (n-minus-1)
                scenario = None
            out.append(self._scenario_entry(name, scenario))
        return out

    @staticmethod
    def _scenario_entry(name: str, scenario) -> dict:
        event = scenario.event if scenario else None
        return {
            "name": name,
            "description": scenario.description if scenario else "needs parameters: see its YAML",
            "event_date": str(event.date) if event else None,
            "commodities": scenario.commodities if scenario else [],
            "importers": scenario.importers if scenario else [],
            "samples": scenario.samples if scenario else None,
            "horizon_months": scenario.horizon_months if scenario else None,
        }

    def scenario_yaml(self, name: str) -> str:
        from importlib import resources

        from oresight.simulate.scenario import LIBRARY, library_names

        if name not in library_names():
            raise UnknownNameError("scenario", name)
        return resources.files(LIBRARY).joinpath(f"{name}.yaml").read_text(encoding="utf-8")

    def start_library_run(self, name: str, overrides: dict, parameters: dict) -> Job:
        from oresight.simulate.scenario import library_names, load_scenario

        if name not in library_names():  # a request's name never reaches the file system as a path
            raise UnknownNameError("scenario", name)
        return self._start(load_scenario(name, {k: str(v) for k, v in parameters.items()}), overrides)

    def start_uploaded_run(self, text: str, filename: str, overrides: dict) -> Job:
        from oresight.simulate.scenario import scenario_from_text

        return self._start(scenario_from_text(text, f"uploaded file {filename}"), overrides)

    def _start(self, scenario, overrides: dict) -> Job:
        from oresight.simulate import check_scenario, simulate, with_overrides
        from oresight.simulate.runs import save_run
        from oresight.simulate.scenario import ScenarioError

        scenario = with_overrides(scenario, **overrides)
        if scenario.samples > WEB_MAX_SAMPLES:
            raise ScenarioError(f"at most {WEB_MAX_SAMPLES} samples from the web", field="samples")
        if scenario.horizon_months > WEB_MAX_HORIZON:
            raise ScenarioError(f"at most {WEB_MAX_HORIZON} months from the web", field="horizon_months")
        check_scenario(scenario, self.world)

        def work(progress) -> str:
            sim = simulate(scenario, self.world, explain=True, progress=progress)
            run_id = save_run(sim, self.store)
            self.store_changed()
            return run_id

        return self.jobs.submit(scenario.name, work)

    def runs(self) -> pd.DataFrame:
        from oresight.simulate.runs import list_runs

        runs = list_runs(self.store)
        columns = ["id", "created", "scenario", "seed", "samples", "horizon", "importers", "data_version"]
        return runs[columns] if len(runs) else pd.DataFrame(columns=columns)

    def run(self, run_id: str) -> dict:
        from oresight.simulate.runs import load_run

        def read() -> dict:
            try:
                return load_run(run_id, self.store)
            except OresightError:
                raise UnknownNameError("saved run", run_id) from None

        return self.memo(("run", run_id), read)  # a saved run never changes

    def run_results(self, run_id: str) -> pd.DataFrame:
        """A saved run's results table; its file can have been deleted while the store kept the run's row."""
        path = Path(str(self.run(run_id)["results_path"]))
        if not path.is_file():
            raise DataNotAttestedError(
                f"the results file of run {run_id} is missing ({path.name}); its summary is still at /api/runs/{run_id}"
            )
        return pd.read_parquet(path)

    def run_fan(self, run_id: str) -> pd.DataFrame:
        from oresight.simulate.runs import demand_by_stage, shortfall_fan

        return shortfall_fan(self.run_results(run_id), demand_by_stage(self.run(run_id)["summary"]))

    # -- sweeps -----------------------------------------------------------------------------------------------
    def sweeps(self) -> pd.DataFrame:
        from oresight.sweep import list_sweep_runs

        runs = list_sweep_runs(self.store)
        columns = ["id", "created", "name", "scenarios", "rows", "seconds", "workers", "data_version"]
        return runs[columns] if len(runs) else pd.DataFrame(columns=columns)

    def sweep_screen(self, run_id: str | None, top: int = 10) -> dict | None:
        """A recorded sweep's screen; None = the latest whose results are still there (None if there is none)."""
        from oresight.sweep.screen import latest_screen, screen_of_run

        def read() -> dict | None:
            if run_id is None:
                return latest_screen(self.world.tax, self.store, top=top)
            return screen_of_run(run_id, self.world.tax, self.store, top=top)

        return self.memo(("sweep", run_id, top), read, stored=run_id is None)

    # -- news -------------------------------------------------------------------------------------------------
    def events(self, since: str | None = None, kind: str | None = None, commodity: str | None = None) -> list[dict]:
        from oresight.news.store import events

        store = Store.open(self.store, read_only=True)
        if store is None:
            return []
        with store:
            return events(store, since=since, kind=kind, commodity=commodity)

    def article_texts(self, ids: list[str]) -> dict[str, str]:
        from oresight.news.store import article_texts

        store = Store.open(self.store, read_only=True)
        if store is None:
            return {}
        with store:
            return article_texts(store, ids)
