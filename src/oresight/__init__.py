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
]
