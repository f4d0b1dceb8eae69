"""Read commands start fast because they import only what they use: a guard on what the data-show path does NOT
import (speed itself is measured in benchmarks/load_and_show.py, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

#: heavy libraries and oresight parts no read of the data needs (each costs from 0.1 s to several seconds)
NOT_ON_THE_READ_PATH = [
    "xarray", "rich", "dask", "scipy", "linopy", "highspy", "plotly", "fastapi", "starlette", "uvicorn", "jinja2",
    "lingua", "simplemma", "trafilatura", "feedparser", "datasketch", "lxml", "duckdb", "openpyxl", "country_converter",
    "oresight.assess", "oresight.simulate", "oresight.news", "oresight.web", "oresight.report", "oresight.plan",
    "oresight.io",
]  # fmt: skip


def _modules_after(code: str, tmp_path) -> set[str]:
    script = textwrap.dedent(
        f"""
        import contextlib, io, json, sys
        {code}
        print(json.dumps(sorted(sys.modules)), file=sys.stderr)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env={"ORESIGHT_HOME": str(tmp_path)}
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def _loaded(modules: set[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


@pytest.mark.parametrize(
    "command",
    [
        "data show rare-earths --stage mining --format json",  # issue 14's benchmark command: shares from volumes
        "data show rare-earths --format csv",  # every stage, also those known only from published shares
        "data list --format json",
    ],
)
def test_read_commands_import_nothing_they_do_not_use(tmp_path, command):
    modules = _modules_after(
        f"""
        sys.argv = ["oresight", *{command.split()!r}]
        from oresight.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                main()
            except SystemExit as exit:
                assert not exit.code, exit.code
        """,
        tmp_path,
    )
    assert _loaded(modules, "oresight.world")  # the command did its work
    assert [name for name in NOT_ON_THE_READ_PATH if _loaded(modules, name)] == []


def test_importing_oresight_loads_no_data_library(tmp_path):
    modules = _modules_after("import oresight", tmp_path)
    assert [name for name in ("pandas", "xarray", "numpy", "oresight.world") if _loaded(modules, name)] == []


def test_xarray_sees_dask_arrays_once_dask_is_imported(tmp_path):
    """Deferring xarray's dask detection loses nothing: before dask.array is imported no array can be a dask
    array; after, xarray handles dask arrays as it always does."""
    modules = _modules_after(
        """
        import oresight, xarray as xr
        oresight.load(store=False).production("rare-earths", "mining", 2024)
        assert "dask.array" not in sys.modules
        import dask.array as da
        lazy = xr.DataArray(da.ones(4, chunks=2)) * 2
        assert lazy.chunks == ((2, 2),) and float(lazy.sum().compute()) == 8.0
        """,
        tmp_path,
    )
    assert _loaded(modules, "dask")


def test_commands_do_their_work_with_the_garbage_collector_on(tmp_path):
    """Start-up runs without the cyclic garbage collector (oresight.cli); the command's own work never does."""
    _modules_after(
        """
        import gc
        import oresight.tables as tables
        seen, original = [], tables.stage_table
        tables.stage_table = lambda *args, **kwargs: seen.append(gc.isenabled()) or original(*args, **kwargs)
        sys.argv = ["oresight", "data", "show", "cobalt", "--stage", "mining", "--format", "json"]
        from oresight.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                main()
            except SystemExit as exit:
                assert not exit.code, exit.code
        assert seen == [True] and gc.isenabled(), seen
        assert gc.get_freeze_count() > 0  # what start-up made was set aside, not collected again and again
        """,
        tmp_path,
    )
