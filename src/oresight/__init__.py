"""oresight: critical-mineral supply security — map, measure, stress-test, plan and watch.

>>> import oresight
>>> world = oresight.load()
>>> world.tax.commodity("Seltene Erden").id
'rare-earths'
"""

import sys
import types

from oresight._startup import defer_dask_detection
from oresight.errors import DataNotAttestedError, InputError, OresightError, UnknownNameError

defer_dask_detection()

__version__ = "0.1.0"

#: public names loaded when first used, so that ``import oresight`` (and every command) starts fast
_LAZY = {
    "World": ("oresight.world", "World"),
    "load": ("oresight.world", "load"),
    "assess": ("oresight.assess", "assess"),
    "explain": ("oresight.assess", "explain"),
    "load_taxonomy": ("oresight.taxonomy", "load_taxonomy"),
}


def __getattr__(name: str):
    import importlib

    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    # ``oresight.plan(...)`` plans; the package loads (linopy, HiGHS) only when first used
    if name == "plan":
        return importlib.import_module("oresight.plan")
    raise AttributeError(f"module 'oresight' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, "plan"})


class _Package(types.ModuleType):
    """``oresight.assess`` is the function, also once its module ``oresight.assess`` is imported (the import
    system sets a package's attribute to each submodule it imports)."""

    def __setattr__(self, name: str, value) -> None:
        if name in ("assess", "explain") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "DataNotAttestedError",
    "InputError",
    "OresightError",
    "UnknownNameError",
    "World",
    "__version__",
    "assess",
    "explain",
    "load",
    "load_taxonomy",
    "plan",
]
