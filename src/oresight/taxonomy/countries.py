"""Country names to ISO 3166-1 alpha-3 codes.

Our own table (country_names.csv: German names, pseudo-codes for world totals and residuals) is consulted
first, then country_converter, which knows English names and the publishers' spellings ("Congo (Kinshasa)",
"Burma", "Korea, Republic of"). Two pseudo-codes are not countries: ``WLD`` for a world total and ``ROW``
for "other countries" / "rest of world".
"""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from functools import cached_property

WORLD = "WLD"
REST_OF_WORLD = "ROW"
EUROPEAN_UNION = "EUU"  # the World Bank's code for the EU as one reporter
AGGREGATES = frozenset({WORLD, REST_OF_WORLD})
_COMTRADE_CODES = {251: "FRA", 579: "NOR", 699: "IND", 757: "CHE", 842: "USA", 490: "TWN", 0: WORLD}


def _fold(name: str) -> str:
    text = unicodedata.normalize("NFC", str(name)).replace("\u00a0", " ").replace("’", "'")
    return re.sub(r"\s+", " ", text).strip().casefold()


class CountryResolver:
    """Resolve country names; results are cached, so resolving a column of names is cheap.

    ``codes`` (country_codes.csv) gives ISO codes and short names without loading country_converter, which is
    consulted only for names our tables do not hold.
    """

    def __init__(self, rows: list[dict[str, str]], codes: list[dict[str, str]]) -> None:
        self._table = {_fold(r["name"]): r["iso3"] for r in rows}
        self._names = {r["iso3"]: r["name"] for r in codes} | {EUROPEAN_UNION: "European Union"}
        self._iso2 = {r["iso2"]: r["iso3"] for r in codes}
        self._cache: dict[str, str | None] = {}

    @cached_property
    def _converter(self):
        import country_converter

        # country_converter logs every name it cannot match; a miss is reported by us instead.
        logging.getLogger("country_converter").setLevel(logging.ERROR)
        return country_converter.CountryConverter()

    @property
    def iso3_codes(self) -> frozenset[str]:
        return frozenset(self._names) | AGGREGATES

    @cached_property
    def _exact_names(self) -> dict[str, str]:
        data = self._converter.data
        names = {}
        for column in ("name_short", "name_official"):
            for name, iso3 in zip(data[column], data["ISO3"], strict=True):
                if isinstance(name, str) and isinstance(iso3, str):
                    names.setdefault(_fold(name), iso3)
        return {**names, **self._table}

    def exact(self, name: str) -> str | None:
        """ISO3 of a name only if it is exactly a known name (no pattern matching)."""
        return self._exact_names.get(_fold(name))

    def resolve(self, name: str | None) -> str | None:
        """ISO3 code of a name, or ``None`` when nothing matches.

        >>> from oresight.taxonomy import load_taxonomy
        >>> r = load_taxonomy().countries
        >>> [r.resolve(n) for n in ["Burma", "Vereinigte Staaten", "World total (rounded)", "CHN", "jp"]]
        ['MMR', 'USA', 'WLD', 'CHN', 'JPN']
        """
        if name is None:
            return None
        key = _fold(name)
        if key in self._cache:
            return self._cache[key]
        code = self._resolve_uncached(name, key)
        self._cache[key] = code
        return code

    def _resolve_uncached(self, name: str, key: str) -> str | None:
        if not key:
            return None
        if key in self._table:
            return self._table[key]
        upper = name.strip().upper()
        if len(upper) == 3 and (upper in self._names or upper in AGGREGATES):
            return upper
        if len(upper) == 2 and upper in self._iso2:
            return self._iso2[upper]
        found = self._converter.convert(name.strip(), to="ISO3", not_found=None)
        if isinstance(found, list):  # several matches: the name is ambiguous
            return None
        return found if isinstance(found, str) and found in self.iso3_codes else None

    def from_un_code(self, code: int | str) -> str | None:
        """ISO3 of a UN M49 / Comtrade numeric country code (Comtrade's own codes for France 251, Norway 579,
        India 699, Switzerland 757, the USA 842 and "Other Asia, nes" 490 = Taiwan included)."""
        number = int(float(code))
        if number in _COMTRADE_CODES:
            return _COMTRADE_CODES[number]
        found = self._converter.convert(str(number), src="UNcode", to="ISO3", not_found=None)
        return found if isinstance(found, str) and found in self._names else None

    def suggest(self, name: str) -> list[str]:
        names = list(self._table) + [n.casefold() for n in self._names.values()]
        return difflib.get_close_matches(_fold(name), names, n=5, cutoff=0.6)

    def name(self, code: str) -> str:
        """Short English name of an ISO3 code (or of a pseudo-code)."""
        if code == WORLD:
            return "World"
        if code == REST_OF_WORLD:
            return "Other countries"
        return self._names.get(code, code)
