"""Start-up cost: keep xarray from importing dask to wrap arrays that cannot be dask arrays.

xarray asks "is this a dask array?" for every array it wraps, and to answer it imports ``dask.array`` whenever
dask is installed (linopy and the sweeps install it) — about a second before any command can show a number.
An object can only be a dask array once ``dask.array`` has been imported, so until then the answer "no" is
exactly as correct and costs nothing; once anything imports ``dask.array`` (a sweep, the planner), xarray sees
dask arrays as before. Likewise xarray imports dask to ask an object whether it is a dask collection; only an
object with a ``__dask_graph__`` method can be one, so only such an object is asked. :func:`defer_dask_detection`
installs both answers as soon as xarray's module of array types is imported.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys

__all__ = ["defer_dask_detection"]

_PYCOMPAT = "xarray.namedarray.pycompat"


class _DaskWhenImported:
    """xarray's record of dask (``DuckArrayModule("dask")``), filled from ``sys.modules`` when asked."""

    @property
    def _array(self):
        return sys.modules.get("dask.array")

    @property
    def type(self) -> tuple[type, ...]:
        array = self._array
        return (array.Array,) if array is not None and hasattr(array, "Array") else ()

    @property
    def module(self):
        import dask

        return dask

    @property
    def version(self):
        from packaging.version import Version

        return Version(self.module.__version__)

    @property
    def available(self) -> bool:
        return importlib.util.find_spec("dask") is not None


def _install(pycompat) -> None:
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    if isinstance(cache, dict):  # a later xarray without this cache simply keeps its own behaviour
        cache.setdefault("dask", _DaskWhenImported())
    utils = sys.modules.get("xarray.namedarray.utils")
    asks = getattr(utils, "is_dask_collection", None)
    if asks is not None and not getattr(asks, "deferred", False):
        utils.is_dask_collection = _deferred_collection_check(asks)


def _deferred_collection_check(asks):
    """xarray's ``is_dask_collection``, which imports dask to ask ``x.__dask_graph__()``: asked only of an object
    that has that method at all (dask's own test is whether it has one that returns a graph)."""

    def is_dask_collection(x) -> bool:
        return hasattr(x, "__dask_graph__") and asks(x)

    is_dask_collection.deferred = True
    return is_dask_collection


class _OnImport(importlib.abc.MetaPathFinder):
    """Installs the record right after xarray imports its module of array types."""

    def find_spec(self, name, path, target=None):
        if name != _PYCOMPAT:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module) -> None:
            run(module)
            _install(module)

        spec.loader.exec_module = exec_module
        return spec


def defer_dask_detection() -> None:
    """Make xarray answer "is this a dask array?" without importing dask (see the module's docstring)."""
    if _PYCOMPAT in sys.modules:
        _install(sys.modules[_PYCOMPAT])
    elif not any(isinstance(finder, _OnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _OnImport())
