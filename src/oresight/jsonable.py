"""Values as JSON can carry them: every output oresight writes as JSON (the CLI's ``--format json``, the web API,
saved run summaries) goes through :func:`json_safe`, so it never holds a bare ``NaN`` or ``Infinity`` (which
JSON does not have): a number that is not there is ``null``.

>>> json_safe({"p50": float("nan"), "rows": [1.5, float("inf")], "n": np.int64(3)})
{'p50': None, 'rows': [1.5, None], 'n': 3}
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["json_safe", "plain_value"]


def plain_value(value):
    """One value as a plain Python value: numpy scalars become numbers, NaN, ±inf, NA and NaT become None,
    timestamps ISO text."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def json_safe(data):
    """``data`` (dicts, lists, tuples, frames, numbers …) with every value JSON cannot carry replaced, at any
    depth; a DataFrame becomes a list of records."""
    if isinstance(data, dict):
        return {str(k) if not isinstance(k, str) else k: json_safe(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [json_safe(v) for v in data]
    if isinstance(data, pd.DataFrame):
        return [json_safe(row) for row in data.to_dict(orient="records")]
    if isinstance(data, np.ndarray):
        return [json_safe(v) for v in data.tolist()]
    return plain_value(data)
