"""Data truth: each plausibility rule catches a mutated publisher file, errata apply only while their rule fails,
and the audited publisher errors are fixed in the bundled data (issue 9)."""

import csv
import io
import json
import math
import re
from importlib import resources

import pytest

from oresight.errors import InputError
from oresight.io import read
from oresight.plausibility import find_problems, load_rules, review_import


def reviewed(path, fmt, world):
    return review_import(read(path, fmt), world.all_facts)


def flags(facts, **where) -> set[str]:
    rows = facts
    for column, wanted in where.items():
        rows = rows[rows[column] == wanted]
    assert len(rows), where
    return {flag for value in rows["flag"] for flag in value.split(";") if flag}


@pytest.fixture
def wide_text(fixtures):
    return (fixtures / "usgs/mcs_world_wide.csv").read_bytes().decode("utf-8-sig")


def write(tmp_path, text, name="MCS2025_World_Data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_unchanged_fixture_is_flagged_only_where_its_invented_number_differs(tmp_path, wide_text, world):
    facts = reviewed(write(tmp_path, wide_text), "usgs-mcs-world", world).facts
    flagged = facts[facts.flag != ""]
    found = set(zip(flagged.commodity, flagged.country, flagged.year, flagged.measure, flagged.flag, strict=True))
    # the fixture's "other countries" (6,000 t) against the release's 1,000 t; its cobalt and molybdenum tables
    # list one country and no rest of world, which a world total above them does not contradict
    assert found == {("rare-earths", "ROW", 2024, "production", "edition-change")}


# -- each rule catches a mutation of a real file's layout ----------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "where", "rule"),
    [
        (">80000000", "80", {"commodity": "rare-earths", "measure": "reserves"}, "reserves-cover-output"),
        (
            ",250000,260000,",
            ",250000,160000,",
            {"commodity": "rare-earths", "country": "WLD", "year": 2024},
            "world-total-matches-countries",
        ),
        (",250000,260000,", ",250000,2600000,", {"country": "CHN", "year": 2024}, "edition-change"),
        (",250000,260000,", ",250,260000,", {"country": "CHN", "year": 2023}, "year-change"),
        (",170000,210000,", ",170000,210,", {"commodity": "cobalt", "country": "COD", "year": 2024}, "unit-magnitude"),
    ],
)
def test_each_rule_catches_a_mutated_file(tmp_path, wide_text, world, old, new, where, rule):
    assert old in wide_text
    facts = reviewed(write(tmp_path, wide_text.replace(old, new, 1)), "usgs-mcs-world", world).facts
    facts = facts[facts.commodity == where.pop("commodity", "rare-earths")]
    assert rule in flags(facts, measure=where.pop("measure", "production"), **where)


def _with_capacity_as_reserves(text: str, commodity: str) -> str:
    """The file with the capacity of 2024 set to the reserves for every row of ``commodity``."""
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        if row["COMMODITY"].strip() == commodity and row["RESERVES_2024"].strip():
            row["CAP_EST_ 2024"] = row["RESERVES_2024"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_reserves_that_are_capacities_are_flagged(tmp_path, wide_text, world):
    facts = reviewed(write(tmp_path, _with_capacity_as_reserves(wide_text, "Rare earths")), "usgs-mcs-world", world)
    assert "reserves-not-capacity" in flags(facts.facts, commodity="rare-earths", measure="reserves", country="CHN")


def test_magnesium_metal_reserves_that_are_capacities_are_dropped_by_their_erratum(tmp_path, world):
    header = "SOURCE,COMMODITY,COUNTRY,TYPE,UNIT_MEAS,PROD_2023,PROD_EST_ 2024,PROD_NOTES,CAP_2023,CAP_EST_ 2024,"
    header += "CAP_NOTES,RESERVES_2024,RESERVE_NOTES\n"
    rows = [
        ("China", 805, 950, 1800),
        ("Israel", 17, 20, 34),
        ("Russia", 18, 15, 81),
        ("World total (rounded)", 900, 1000, 2104),
    ]
    body = "".join(
        f"MCS2025,Magnesium metal,{c},Magnesium smelter production,thousand metric tons,{a},{b},,,{r},,{r},\n"
        for c, a, b, r in rows
    )
    result = reviewed(write(tmp_path, header + body), "usgs-mcs-world", world)
    facts = result.facts
    assert facts[(facts.commodity == "magnesium") & (facts.measure == "reserves")].empty
    assert len(facts[(facts.commodity == "magnesium") & (facts.measure == "capacity")]) == 4
    assert sum("dropped by erratum 6" in s.reason for s in result.skipped) == 4


# -- errata apply while their rule fails, and only then -----------------------------------------------------------
def _vanadium_2026(tmp_path, reserves: str):
    header = "MCS chapter,Section,Commodity,Country,Statistics,Statistics_detail,Unit,Year,Value,Notes,Is critical\n"
    common = "VANADIUM,World Mine Production and Reserves,Vanadium"
    text = header + (
        f'{common},China,Production,Mine production,metric tons,2025,"82,000",Estimated.,Yes\n'
        f'{common},World total,Production,Mine production: rounded,metric tons,2025,"110,000",Estimated.,Yes\n'
        f'{common},China,Reserves,Reserves,metric tons,2025,"{reserves}",,Yes\n'
        f'{common},World total,Reserves,Reserves: rounded,metric tons,2025,"{reserves}",,Yes\n'
    )
    return write(tmp_path, text, "MCS2026_Commodities_Data.csv")


def test_an_erratum_corrects_while_its_rule_fails(tmp_path, world):
    facts = reviewed(_vanadium_2026(tmp_path, "21,000"), "usgs-mcs", world).facts
    world_reserves = facts[(facts.measure == "reserves") & (facts.country == "WLD")].iloc[0]
    assert world_reserves.value == 21_000_000 and world_reserves.flag == "corrected"
    assert "erratum 1 of usgs_errata.csv (reserves-cover-output)" in world_reserves.note


def test_a_corrected_release_passes_untouched(tmp_path, world):
    facts = reviewed(_vanadium_2026(tmp_path, "21,000,000"), "usgs-mcs", world).facts
    world_reserves = facts[(facts.measure == "reserves") & (facts.country == "WLD")].iloc[0]
    assert world_reserves.value == 21_000_000 and world_reserves.flag == "" and "erratum" not in world_reserves.note


def test_a_unit_declared_in_some_reserve_notes_holds_for_the_whole_series(fixtures):
    facts = read(fixtures / "usgs/mcs_world_wide.csv").facts
    molybdenum = facts[(facts.commodity == "molybdenum") & (facts.measure == "reserves")].set_index("country")
    assert molybdenum.loc["WLD", "value"] == 15_000_000 and molybdenum.loc["CHN", "value"] == 5_900_000
    assert "thousand metric tons" in molybdenum.loc["CHN", "note"]
    assert facts[(facts.commodity == "molybdenum") & (facts.measure == "production")]["value"].max() == 260_000


def test_withheld_years_in_a_note_become_withheld_facts(fixtures):
    facts = read(fixtures / "usgs/mcs_world_wide.csv").facts
    lithium = facts[(facts.commodity == "lithium") & (facts.measure == "production")]
    assert sorted(lithium["year"]) == [2023, 2024] and set(lithium["status"]) == {"withheld"}
    assert lithium["value"].isna().all()


def test_the_lead_files_shifted_headers_are_read_as_what_they_hold(fixtures):
    facts = read(fixtures / "usgs/mcs2025-lead_salient.csv", "usgs-salient").facts
    by = facts[facts.year == 2023].set_index(["measure", "basis"])["value"]
    assert by[("production", "refinery-secondary")] == 1_010_000  # was read as 0 t
    assert by[("production", "refinery-primary")] == 0
    assert by[("imports", "metal")] == 519_000 and by[("exports", "metal")] == 23_000
    assert by[("consumption", "apparent")] == 1_500_000


def test_a_column_given_twice_without_an_erratum_is_an_error(tmp_path, fixtures):
    text = (fixtures / "usgs/mcs2025-demo_salient.csv").read_bytes().decode("utf-8-sig")
    path = tmp_path / "mcs2025-demo_salient.csv"
    path.write_text(text.replace("Imports_Compounds_t", "USprod_Mine_t"), encoding="utf-8")
    with pytest.raises(InputError, match="field 'USprod_Mine_t': column name given twice"):
        read(path, "usgs-salient")


def test_comtrade_estimates_are_estimated(fixtures):
    facts = read(fixtures / "comtrade/chn_2846_flat.csv").facts
    weight = facts[(facts.measure == "import_quantity") & (facts.partner == "MMR")].iloc[0]
    assert weight.status == "estimated" and "estimated by UN Comtrade" in weight.note
    assert set(facts[facts.measure == "import_value"]["status"]) == {"reported"}


# -- the bundled data ----------------------------------------------------------------------------------------------
def test_no_bundled_commodity_has_world_reserves_below_one_year_of_output(world):
    f = world.all_facts
    base = f["measure"].str.replace("_gross_weight", "", regex=False)
    world_rows = f[(f.country == "WLD") & f["value"].notna()]
    reserves = world_rows[base[world_rows.index] == "reserves"]
    output = world_rows[(base[world_rows.index] == "production") & (world_rows.stage == "mining")]
    checked = 0
    for r in reserves.itertuples():
        same = output[(output.source == r.source) & (output.commodity == r.commodity) & (output.basis == r.basis)]
        same = same[same.year <= r.year]
        if same.empty:
            continue
        produced = same.sort_values("year")["value"].iat[-1]
        assert r.value >= produced, (r.source, r.commodity, r.basis, r.value, produced)
        checked += 1
    assert checked >= 60  # every world reserve of the USGS releases that has a world output of its basis


def test_the_bundled_data_break_no_rule_unflagged(world):
    facts = world.all_facts.drop(columns=["load_order"])
    found = find_problems(facts)
    for finding in found.itertuples():
        assert finding.rule in facts["flag"].iat[finding.position].split(";"), finding
    assert set(found["rule"]) <= {r.rule for r in load_rules()} - {"reserves-cover-output", "reserves-not-capacity"}


def test_world_totals_disagree_with_their_countries_only_where_documented(world):
    f = world.all_facts
    flagged = f[f["flag"].str.contains("world-total-matches-countries")]
    assert set(zip(flagged.source, flagged.commodity, flagged.measure, strict=True)) == {
        ("iea-cmde-2025", "nickel", "production"),  # IEA refining: countries 3.60 Mt, total 3.48 Mt
        ("usgs-mcs-2025-world", "iron-ore", "reserves"),
        ("usgs-mcs-2025-world", "kaolin", "production"),  # a typing error, erratum 5 says so
        ("usgs-mcs-2025-world", "titanium-dioxide", "capacity"),
        ("usgs-mcs-2025-world", "zirconium", "reserves"),
    }
    kaolin = flagged[flagged.commodity == "kaolin"].iloc[0]
    assert kaolin.value == 4_400_000 and "erratum 5" in kaolin.note


def one_value(world, edition=None, **where):
    rows = world.all_facts
    for column, wanted in where.items():
        rows = rows[rows[column] == wanted]
    if edition:
        rows = rows[rows["edition"] == edition]
    assert len(rows) == 1, rows
    return rows.iloc[0]


@pytest.mark.parametrize(
    ("where", "value"),
    [
        # MCS 2025 reserves 1,000x too small, now in the unit the file's notes declare
        ({"source": "usgs-mcs-2025-world", "commodity": "iron-ore", "measure": "reserves"}, 88e9),
        ({"source": "usgs-mcs-2025-world", "commodity": "molybdenum", "measure": "reserves"}, 15e6),
        ({"source": "usgs-mcs-2025-world", "commodity": "vanadium", "measure": "reserves"}, 18e6),
        ({"source": "usgs-mcs-2026-world", "commodity": "vanadium", "measure": "reserves"}, 21e6),
        # MCS 2025 industrial sand and gravel: thousand tonnes
        (
            {
                "source": "usgs-mcs-2025-world",
                "commodity": "sand-gravel-industrial",
                "year": 2024,
                "measure": "production",
            },
            440e6,
        ),
    ],
)
def test_audited_unit_errors_are_fixed(world, where, value):
    assert one_value(world, country="WLD", **where).value == pytest.approx(value)


def test_audited_layout_errors_are_fixed(world):
    f = world.all_facts
    # magnesium "reserves" that were smelter capacity: gone; the capacity stays
    assert f[(f.commodity == "magnesium") & (f.measure == "reserves") & (f.basis == "t magnesium metal")].empty
    assert not f[(f.commodity == "magnesium") & (f.measure == "capacity") & (f.year == 2024)].empty
    # the lead file's shifted headers: US secondary lead is 1.01 Mt in 2023, not 0 t
    lead = f[(f.source == "usgs-mcs-2025-salient") & (f.commodity == "lead") & (f.year == 2023)]
    assert lead.set_index("basis").loc["refinery-secondary", "value"] == 1_010_000
    # the 14 "W for 23-24" series are withheld facts for both years
    withheld = f[f.note.str.contains("W for 23-24") & (f.source == "usgs-mcs-2025-world")]
    assert len(withheld) == 28 and set(withheld["status"]) == {"withheld"}


def test_audited_status_and_missing_values_are_fixed(world):
    f = world.all_facts
    weights = f[(f.source.str.startswith("un-comtrade-chn")) & (f.measure == "import_quantity")]
    assert len(weights) == 618 and (weights["status"] == "estimated").sum() == 278
    crc = f[f.measure == "oecd_crc"].set_index("country")["value"]
    assert "MCO" not in crc and "TUV" not in crc and len(crc) == 174  # 27 unclassified: missing, never 0
    assert crc["DEU"] == 0 and math.isfinite(crc["CHN"])


def test_the_manifest_lists_the_errata_the_build_applied():
    manifest = json.loads(resources.files("oresight").joinpath("data/manifest.json").read_text(encoding="utf-8"))
    applied = {e["erratum"]: e["facts"] for e in manifest["plausibility"]["errata applied"]}
    assert applied == {1: 7, 2: 44, 3: 37, 4: 25, 5: 1, 6: 10}


def test_a_finding_reads_its_numbers_without_an_exponent(tmp_path, wide_text, world):
    """A unit slip of a thousandfold read "1.16e+03 times" (format ``.3g``): every detail goes through the one
    number formatter, as on every other surface."""
    from oresight.plausibility import find_problems_against

    mutated = wide_text.replace(",170000,210000,", ",170000,210000000,", 1)  # kg read as t
    facts = read(write(tmp_path, mutated), "usgs-mcs-world").facts
    details = find_problems_against(facts, world.all_facts)["detail"]
    slips = [d for d in details if "times" in d]
    assert slips and all(re.search(r"\d,\d{3} times", d) for d in slips)
    assert not [d for d in details if "e+0" in d or "e-0" in d]
