"""Exceptions with messages a user can act on.

Library code raises these; the CLI turns them into a one-paragraph error and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class OresightError(Exception):
    """Base class of every error oresight raises on purpose."""


class InputError(OresightError):
    """A file or value a user supplied is malformed.

    >>> str(InputError("bad number", path="x.csv", line=3, field="Value", expected="a number"))
    "x.csv, line 3, field 'Value': bad number (expected a number)"
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.expected = expected
        self.reason = message
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field!r}")
        text = self.reason
        if self.expected:
            text += f" (expected {self.expected})"
        return f"{', '.join(where)}: {text}" if where else text


class UnknownNameError(OresightError, KeyError):
    """A commodity, stage, country, method or scenario name that oresight does not know.

    >>> str(UnknownNameError("commodity", "cobalts", ["cobalt"]))
    "unknown commodity 'cobalts'; did you mean: cobalt?"
    """

    def __init__(self, kind: str, name: str, suggestions: Sequence[str] = ()) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = list(suggestions)
        super().__init__(kind, name)

    def __str__(self) -> str:
        text = f"unknown {self.kind} {self.name!r}"
        if self.suggestions:
            text += f"; did you mean: {', '.join(self.suggestions)}?"
        return text


class DataNotAttestedError(OresightError, LookupError):
    """No source gives a value for what was asked; oresight never fills such a gap with zero."""
