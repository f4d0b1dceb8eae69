"""Published supply-risk methods, one module each, built from the metrics.

Each module has a pure ``calc_*`` function over labelled arrays (vectorised over commodity and stage when given
more dimensions), a ``VERSION`` string and a description of its inputs; :mod:`oresight.assess` assembles the
inputs from the World and explains every score.
"""

from . import eu_jrc, geopolrisk, usgs_supply_risk

METHODS = {"geopolrisk": geopolrisk, "eu": eu_jrc, "usgs": usgs_supply_risk}

__all__ = ["METHODS", "eu_jrc", "geopolrisk", "usgs_supply_risk"]
