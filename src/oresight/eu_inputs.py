"""The EU supply-risk method's inputs for any importer, built as the EU's 2023 assessment builds them (European
Commission 2017, *Methodology for establishing the EU list of critical raw materials — Guidelines*, EUR 28654;
the 2023 study applies it to 2016–2020 data):

* **five-year averages**: global supply shares and the importer's own output are summed over the five years
  ending with the year asked (each year's volumes, the series the stage's shares use), its imports by partner
  summed over the same years, the WGI averaged over them; a stage without volumes in those years keeps the
  shares of the year asked (published shares, the IEA's refining figures) and says so;
* **the sourcing mix is the importer's actual supply** (HHI_WGI,EU): its members' output and its imports by
  partner, each over their sum. Imports are in traded weight, the output on its own basis (a metal content, say),
  so imports are put on the output's basis with the factor the importer's import reliance implies:
  IR = (I − E)/(P + I − E) gives I = k · I_t with k = IR · P / ((1 − IR) (I_t − E_t)); where IR gives no factor
  (a net exporter, no output) imports count as they are. Without trade data the import part IR is split as global
  supply (an approximation the notes name); without the importer's output or IR the EU's "global supply only"
  case applies;
* **trade parameters t**: the EU's published t for global supply in HHI_WGI,GS; in HHI_WGI,EU its t for EU
  sourcing, else the country's t for global supply (its export restrictions apply to any buyer), else 0.8 for
  the importer's own members (the EU's value for its member states) and 1 for everyone else;
* **the supply basis** the EU used per material and stage ("GS+EU", "GS only", "EU only"), for the importer
  "EU", from the assessment's results table.

>>> import xarray as xr
>>> def by_country(values):
...     return xr.DataArray(values, dims="country", coords={"country": ["DEU", "FRA", "CHN", "TUR"]})
>>> own, imports = by_country([30.0, 10.0, 0.0, 0.0]), by_country([0.0, 0.0, 120.0, 40.0])
>>> mix, how = calc_sourcing_mix(own, imports, imports * 0, 0.0, xr.DataArray(0.5), by_country([0.0] * 4))
>>> mix.values.round(3).tolist(), str(how.values)  # IR 0.5, 40 t of own output: 40 t of imports on its basis
([0.375, 0.125, 0.375, 0.125], '')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from oresight.exposure import wgi_mean
from oresight.metrics import calc_wgi_eu_scaled
from oresight.world.shares import calc_volume_shares_by_year
from oresight.world.supply import series_preference

if TYPE_CHECKING:
    from oresight.taxonomy import Importer
    from oresight.world import World

__all__ = [
    "EU_WINDOW_YEARS",
    "EUInputs",
    "calc_sourcing_mix",
    "compare_with_published",
    "eu_inputs",
    "material_parameters",
    "window_of",
]

#: the EU method averages the last five years with data (the 2023 assessment: 2016-2020)
EU_WINDOW_YEARS = 5
#: the EU's trade parameter for its member states (and trade-agreement partners) in the EU-sourcing term
MEMBER_T = 0.8
_TONNES = {"t": 1.0, "kg": 0.001, "kt": 1000.0}
PAIR = ["commodity", "stage"]


@dataclass
class EUInputs:
    """The EU method's inputs over (commodity, stage, country), with the years they average and notes."""

    first: int
    last: int
    global_supply: xr.Dataset  # share, low, high
    sourcing: xr.Dataset  # the sourcing mix for the reliance's value, low and high (NaN where not attested)
    wgi_scaled: xr.DataArray  # over country, averaged over the years
    t_global: xr.DataArray
    t_sourcing: xr.DataArray
    supply_basis: xr.DataArray  # over (commodity, stage): "GS+EU", "GS only" or "EU only"
    notes: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def window_of(world: World, year: int | None) -> tuple[int, int]:
    """The five years the EU method averages: those ending with ``year`` (the latest WGI year when None)."""
    last = year if year is not None else int(world.select(measure="wgi_pv")["year"].max())
    return last - EU_WINDOW_YEARS + 1, last


#: how a sourcing mix was made (``calc_sourcing_mix``), as the notes say it
MIX_NOTES = {
    "value": "imports without weights: the import part split by value",
    "global": "no trade data: the import part split as global supply",
    "no reliance": "import reliance not attested",
    "no output": "the importer's output is not attested",
}


def calc_sourcing_mix(own, imports, import_values, exports, reliance, global_shares, dim: str = "country"):
    """The sourcing mix over ``dim`` (shares summing to 1) and how it was made, vectorised over the other dims.

    ``own``: the importer's output by member on the output's basis (0 for non-members; all NaN where not
    attested); ``imports``/``import_values``: traded tonnes/USD by partner (0 where none); ``exports``: traded
    tonnes; ``reliance``: import reliance; ``global_shares``: global supply (0 where none). With imports in tonnes
    the mix is the actual supply, own output + k · imports with k from the reliance (see the module docstring);
    else own output (1 − IR) and an import part IR split by value, else as global supply. NaN where neither the
    output nor the reliance allows a mix; ``how`` is "" or a key of :data:`MIX_NOTES`.
    """
    produced = own.sum(dim, min_count=1)
    i_t, v_t, g_t = imports.sum(dim), import_values.sum(dim), global_shares.sum(dim)
    has_tonnes, has_values = i_t > 0, v_t > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        k = xr.where(
            (reliance > 0) & (reliance < 1) & (produced > 0) & (i_t > exports),
            reliance * produced / ((1 - reliance) * (i_t - exports)),
            1.0,
        )
        actual = (own.fillna(0.0) + k * imports) / (produced.fillna(0.0) + k * i_t)
        part = xr.where(has_values, import_values / v_t, global_shares / g_t)
        own_share = own.fillna(0.0) / produced
        blended = xr.where(produced > 0, (1 - reliance) * own_share + reliance * part, part)
    known_output = produced.notnull() | (reliance >= 1)
    usable = reliance.notnull() & known_output & (has_tonnes | has_values | (g_t > 0))
    mix = xr.where(has_tonnes, actual, blended).where(usable)
    how = xr.where(
        reliance.isnull(),
        "no reliance",
        xr.where(
            ~known_output,
            "no output",
            xr.where(has_tonnes | (reliance == 0), "", xr.where(has_values, "value", "global")),
        ),
    )
    return mix, how


def eu_inputs(world: World, importer: Importer, year: int | None, supply: xr.Dataset, reliance: xr.Dataset) -> EUInputs:
    """The EU method's inputs for an importer (see the module docstring); ``supply`` (the shares of the year
    asked) fills stages without volumes in the five years, ``reliance`` (value, low, high) weights the mix."""
    from oresight.world.dependence import period_trade

    first, last = window_of(world, year)
    notes: dict[tuple[str, str], list[str]] = {}
    volumes = _window_volumes(world, first, last)
    global_supply = _global_supply(volumes, supply, first, last, notes)
    imports, exports, trade_notes = period_trade(world, importer, first, last)
    for pair, texts in trade_notes.items():
        notes.setdefault(pair, []).extend(texts)
    members = list(importer.members)
    countries = sorted(
        set(global_supply.country.values) | set(imports["partner"]) | set(members) | set(supply.country.values)
    )
    global_supply = global_supply.reindex(country=countries)
    own, covered = _own_output(world, volumes, members, last, notes)
    arrays = _sourcing_arrays(global_supply, own, covered, imports, exports)
    sourcing, hows = {}, None
    for variant in ("value", "low", "high"):
        sourcing[variant], how = calc_sourcing_mix(*arrays[:4], reliance[variant], arrays[4])
        hows = how if hows is None else hows
    with_supply = global_supply["share"].notnull().any("country").to_series()
    for (commodity, stage), code in hows.to_series().items():
        if code and with_supply[(commodity, stage)]:
            notes.setdefault((commodity, stage), []).append(f"EU method: {MIX_NOTES[code]}")
    sourcing = xr.Dataset(sourcing)
    wgi = xr.concat([wgi_mean(world, y) for y in range(first, last + 1)], dim="year", join="outer").mean("year")
    t_global, t_sourcing = _trade_parameters(world, global_supply, members)
    return EUInputs(
        first,
        last,
        global_supply,
        sourcing,
        calc_wgi_eu_scaled(wgi).reindex(country=countries),
        t_global,
        t_sourcing,
        _supply_basis(world, importer, global_supply),
        notes,
    )


def _window_volumes(world: World, first: int, last: int) -> pd.DataFrame:
    """Each year's volumes by country in the window (as the stage's shares use them), in tonnes where the unit is
    a mass, with the year's world total; kept on the World."""
    cache = world.__dict__.setdefault("_eu_window_volumes", {})
    if (first, last) not in cache:
        preference = series_preference(world)
        facts = world.facts[(world.facts["year"] >= first) & (world.facts["year"] <= last)]
        long = calc_volume_shares_by_year(facts, list(range(first, last + 1)), preference, exact=True)
        long = long.drop(columns="as_of")
        factor = long["unit"].map(_TONNES).fillna(1.0)
        cache[(first, last)] = long.assign(
            tonnes=long["share"] * long["world_total"] * factor,
            low_t=long["low"] * long["world_total"] * factor,
            high_t=long["high"] * long["world_total"] * factor,
            total_t=long["world_total"] * factor,
        )
    return cache[(first, last)]


def _own_output(world: World, volumes: pd.DataFrame, members, last: int, notes: dict) -> tuple[pd.Series, set]:
    """The members' output by member per (commodity, stage) summed over the window, or as of its last year where
    the window has no volumes; and the pairs whose source gives a world total (a member it does not list makes
    none of what is listed)."""
    from oresight.world.supply import volume_shares

    covered = set(zip(volumes["commodity"], volumes["stage"], strict=True))
    as_of = volume_shares(world, last)
    as_of = as_of[~as_of.set_index(PAIR).index.isin(list(covered))]
    as_of = as_of.assign(tonnes=as_of["share"] * as_of["world_total"] * as_of["unit"].map(_TONNES).fillna(1.0))
    for (commodity, stage), year in as_of.groupby(PAIR)["year"].first().items():
        notes.setdefault((commodity, stage), []).append(f"EU method: the importer's output of {int(year)}")
    rows = pd.concat([f for f in (volumes, as_of) if len(f)], ignore_index=True) if len(volumes) else as_of
    own = rows[rows["country"].isin(members)].groupby([*PAIR, "country"])["tonnes"].sum()
    return own, covered | set(zip(as_of["commodity"], as_of["stage"], strict=True))


def _global_supply(volumes: pd.DataFrame, supply: xr.Dataset, first: int, last: int, notes: dict) -> xr.Dataset:
    """Shares of the window's summed output; the shares of the year asked where the window has no volumes."""
    sums = volumes.groupby([*PAIR, "country"])[["tonnes", "low_t", "high_t"]].sum()
    totals = volumes.drop_duplicates([*PAIR, "year"]).groupby(PAIR)["total_t"].sum()
    years = volumes.groupby(PAIR)["year"].agg(lambda y: sorted(set(int(v) for v in y)))
    shares = sums.join(totals, on=PAIR)
    long = pd.DataFrame(
        {
            "share": shares["tonnes"] / shares["total_t"],
            "low": shares["low_t"] / shares["total_t"],
            "high": shares["high_t"] / shares["total_t"],
        }
    )
    window = long.to_xarray() if len(long) else None
    countries = sorted(set(supply.country.values) | (set(window.country.values) if window is not None else set()))
    out = supply[["share", "low", "high"]].reindex(country=countries)
    if window is None:
        return out
    window = window.reindex(commodity=out.commodity, stage=out.stage, country=out.country)
    covered = window["share"].notnull().any("country")
    for (commodity, stage), present in years.items():
        if len(present) < last - first + 1:
            notes.setdefault((commodity, stage), []).append(
                f"EU method: production of {', '.join(map(str, present))} (of {first}-{last})"
            )
    stands_in = (~covered & out["share"].notnull().any("country")).to_series()
    for commodity, stage in stands_in[stands_in].index:
        notes.setdefault((commodity, stage), []).append(
            f"EU method: no production by country in {first}-{last}; the shares of the year asked stand in"
        )
    return xr.where(covered, window, out)


def _sourcing_arrays(global_supply: xr.Dataset, own: pd.Series, covered: set, imports, exports) -> tuple:
    """own output, import tonnes, import values over (commodity, stage, country), export tonnes over (commodity,
    stage) and global shares, aligned with ``global_supply``; own output is NaN for pairs no source covers."""
    shape = global_supply["share"]

    def cube(series: pd.Series) -> xr.DataArray:
        if series.empty:
            return xr.zeros_like(shape)
        return series.to_xarray().reindex_like(shape).fillna(0.0)

    index = pd.MultiIndex.from_product([shape.commodity.values, shape.stage.values], names=PAIR)
    is_covered = xr.DataArray(
        np.array([pair in covered for pair in index]).reshape(shape.sizes["commodity"], shape.sizes["stage"]),
        dims=PAIR,
        coords={"commodity": shape.commodity, "stage": shape.stage},
    )
    traded = imports.set_index([*PAIR, "partner"]).rename_axis(index=[*PAIR, "country"])
    exported = exports["tonnes"].to_xarray().reindex_like(is_covered).fillna(0.0) if len(exports) else 0.0
    return (
        cube(own).where(is_covered),
        cube(traded["tonnes"].dropna()),
        cube(traded["usd"].dropna()),
        exported,
        global_supply["share"].fillna(0.0),
    )


def _trade_parameters(world: World, global_supply: xr.Dataset, members: list[str]) -> tuple:
    """t for global supply and t for the sourcing term over (commodity, stage, country)."""
    rows = world.select(measure="eu_trade_parameter")
    scope = np.where(rows["basis"].str.endswith("EU sourcing"), "sourcing", "global")
    published = rows.assign(scope=scope).set_index(["scope", *PAIR, "country"])["value"]
    published = published[~published.index.duplicated()]
    shape = global_supply["share"]
    arrays = {}
    for name in ("global", "sourcing"):
        given = published.loc[name] if name in published.index.get_level_values(0) else published.iloc[:0]
        empty = xr.full_like(shape, np.nan, dtype=float)
        arrays[name] = given.to_xarray().reindex_like(shape).astype(float) if len(given) else empty
    t_global = arrays["global"].fillna(1.0)
    is_member = xr.DataArray(
        [c in members for c in global_supply.country.values], dims="country", coords={"country": shape.country}
    )
    t_sourcing = arrays["sourcing"].fillna(arrays["global"]).fillna(xr.where(is_member, MEMBER_T, 1.0))
    return t_global, t_sourcing


def _supply_basis(world: World, importer: Importer, global_supply: xr.Dataset) -> xr.DataArray:
    """The supply basis per (commodity, stage): the EU's own choice for the importer "EU" (the first of the
    commodity's EU material names where several map to one commodity), "GS+EU" otherwise."""
    basis = xr.DataArray(
        np.full((global_supply.sizes["commodity"], global_supply.sizes["stage"]), "GS+EU", dtype=object),
        dims=("commodity", "stage"),
        coords={"commodity": global_supply.commodity, "stage": global_supply.stage},
    )
    if importer.label != "EU":
        return basis
    rows = world.select(measure="eu_supply_risk", country="EUU")
    rows = rows[rows["note"].str.contains("supply basis: ")]
    for (commodity, stage), group in rows.groupby(PAIR):
        if commodity not in basis.commodity.values or stage not in basis.stage.values:
            continue
        names = [n.lower() for n in world.tax.commodities[commodity].eu]
        ranked = sorted(
            group.itertuples(),
            key=lambda r: next((k for k, n in enumerate(names) if r.basis.lower().startswith(n)), 99),
        )
        basis.loc[{"commodity": commodity, "stage": stage}] = ranked[0].note.split("supply basis: ")[1].split(";")[0]
    return basis


# -- the check against the EU's own results --------------------------------------------------------------------
def material_parameters(world: World) -> pd.DataFrame:
    """Per EU material at the stage the EU used: its published SR, IR at that stage, EOL-RIR, SI_SR, supply basis."""
    published = world.select(measure="eu_supply_risk", country="EUU")
    used = published[published["note"].str.contains("stage the EU used")].copy()
    used["material"] = used["basis"].str.removesuffix(" (EU 2023)")
    used["supply_basis"] = used["note"].str.extract(r"supply basis: ([^;]+)")[0].fillna("GS+EU")
    reliance = world.select(measure="net_import_reliance", country="EUU")
    ir = {(b, s): v / 100 for b, s, v in zip(reliance["basis"], reliance["stage"], reliance["value"], strict=True)}
    by_basis = {m: world.select(measure=m).set_index("basis")["value"].to_dict() for m in ("eol_rir", "si_sr")}
    used["ir"] = [ir.get((b, s), np.nan) for b, s in zip(used["basis"], used["stage"], strict=True)]
    used["eol_rir"] = used["basis"].map(by_basis["eol_rir"])
    used["si_sr"] = used["basis"].map(by_basis["si_sr"])
    return used.sort_values(["commodity", "stage", "material"])


def compare_with_published(world: World, year: int = 2020) -> pd.DataFrame:
    """oresight's EU supply risk of every material of the EU 2023 assessment at the stage the EU used, for the
    importer "EU" and the five years ending with ``year``, beside the published value: one row per material with
    the ratio, the supply basis the EU used and the one applied, both concentrations, IR, EOL-RIR, SI_SR, the
    production source and the method's notes. Each material gets its own published IR, EOL-RIR, SI_SR and supply
    basis (materials that share a commodity and stage, LREE and HREE, share its concentrations)."""
    from oresight.assess import assess
    from oresight.methods.eu_jrc import calc_eu_score

    table = assess(world, importer="EU", year=year, methods=["eu"]).set_index(PAIR)
    rows = []
    for m in material_parameters(world).itertuples():
        key = (m.commodity, m.stage)
        if key not in table.index or np.isnan(table.loc[key, "eu"]):
            rows.append({"material": m.material, "commodity": m.commodity, "stage": m.stage, "eu": m.value})
            continue
        ours = table.loc[key]
        sourcing = ours["eu_hhi_wgi_sourcing"]
        basis = m.supply_basis if not np.isnan(sourcing) else "GS only"
        eol, si = np.nan_to_num(m.eol_rir), 1.0 if np.isnan(m.si_sr) else m.si_sr
        score = float(calc_eu_score(ours["eu_hhi_wgi_gs"], sourcing, 1.0 if np.isnan(m.ir) else m.ir, eol, si, basis))
        rows.append(
            {
                "material": m.material,
                "commodity": m.commodity,
                "stage": m.stage,
                "eu": m.value,
                "ours": score,
                "ratio": score / m.value if m.value else np.nan,
                "eu_basis": m.supply_basis,
                "basis": basis,
                "ir": m.ir,
                "eol": m.eol_rir,
                "si": m.si_sr,
                "hhi_gs": ours["eu_hhi_wgi_gs"],
                "hhi_eu": sourcing,
                "source": ours["source"],
                "top": ours["top_country"],
                "notes": ours["eu_notes"],
            }
        )
    return pd.DataFrame(rows)
