"""oresight: critical-mineral supply security — map, measure, stress-test, plan and watch.

>>> import oresight
>>> world = oresight.load()
>>> world.tax.commodity("Seltene Erden").id
'rare-earths'
"""

from oresight.assess import assess, explain
from oresight.errors import DataNotAttestedError, InputError, OresightError, UnknownNameError
from oresight.taxonomy import load_taxonomy
from oresight.world import World, load

__version__ = "0.1.0"


def __getattr__(name: str):
    # ``oresight.plan(...)`` plans; the package loads (linopy, HiGHS) only when first used
    if name == "plan":
        import importlib

        return importlib.import_module("oresight.plan")
    raise AttributeError(f"module 'oresight' has no attribute {name!r}")


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
