"""Compare oresight's GeoPolRisk with the method's reference implementation, geopolrisk-py, side by side.

    python3 -m venv /tmp/gpr && /tmp/gpr/bin/pip install geopolrisk-py==2.0.1
    python benchmarks/geopolrisk_compare.py --peer /tmp/gpr/bin/python [--peer /tmp/gpr200/bin/python] \\
        [--year 2022] [--importers US JP] > table.md

The peer runs in its own virtual environment (its public ``gprs_calc`` for every raw material it defines, with
HOME in a temporary folder because it writes its output under ~/Documents); oresight's scores come from
``oresight.assess(..., methods=["geopolrisk"])``, the numbers ``oresight assess --method geopolrisk`` prints.
Materials are matched by the peer's raw-material name through taxonomy/geopolrisk_materials.csv. Prints a
markdown table per peer version and the summary the acceptance criteria ask for (share within 15%, median ratio,
coverage).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

import oresight
from oresight.raw_materials import raw_materials

PEER_CODES = {"US": 842, "JP": 392}
PEER_SCRIPT = """
import sys
from geopolrisk.assessment.main import gprs_calc
from geopolrisk.assessment.utils import default_rmlist
from importlib.metadata import version
out = gprs_calc([int(sys.argv[1])], [int(c) for c in sys.argv[2].split(",")], default_rmlist())
out["version"] = version("geopolrisk-py")
out.to_csv(sys.stdout, index=False)
"""


def run_peer(python: str, year: int, importers: list[str]) -> pd.DataFrame:
    codes = ",".join(str(PEER_CODES[i]) for i in importers)
    with tempfile.TemporaryDirectory() as home:
        done = subprocess.run(
            [python, "-c", PEER_SCRIPT, str(year), codes],
            capture_output=True,
            text=True,
            env={"HOME": home, "PATH": "/usr/bin:/bin"},
            check=True,
        )
    text = done.stdout[done.stdout.index("DBID") :]
    peer = pd.read_csv(io.StringIO(text))
    names = {"USA": "US", "Japan": "JP"}
    return peer.assign(importer=peer["Country [Economic Entity]"].map(names))


def ours(year: int, importers: list[str]) -> pd.DataFrame:
    world = oresight.load(store=False)
    frames = []
    for importer in importers:
        table = oresight.assess(world, importer=importer, year=year, methods=["geopolrisk"])
        frames.append(table.assign(importer=importer)[["importer", "commodity", "stage", "geopolrisk"]])
    return pd.concat(frames, ignore_index=True)


def compare(peer: pd.DataFrame, mine: pd.DataFrame) -> pd.DataFrame:
    materials = pd.DataFrame(
        [(m.name, m.commodity, m.stage) for m in raw_materials().values()],
        columns=["raw_material", "commodity", "stage"],
    )
    peer = peer.rename(columns={"Raw Material": "raw_material", "GeoPolRisk Score": "peer"})
    peer = peer[peer["peer"] > 0]
    table = peer[["importer", "raw_material", "peer", "version"]].merge(materials, on="raw_material", how="left")
    table = table.merge(mine, on=["importer", "commodity", "stage"], how="left")
    return table.assign(ratio=table["geopolrisk"] / table["peer"])


def summary(table: pd.DataFrame) -> str:
    lines = []
    for importer, rows in table.groupby("importer"):
        ratio = rows["ratio"].dropna()
        lines.append(
            f"{importer}: {len(rows)} materials the peer scores, {len(ratio)} covered ({len(ratio) / len(rows):.0%}); "
            f"within 15%: {((ratio - 1).abs() <= 0.15).mean():.0%}; median ratio {ratio.median():.3f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", action="append", required=True, help="python of a venv with geopolrisk-py")
    parser.add_argument("--year", type=int, default=2022)
    parser.add_argument("--importers", nargs="+", default=["US", "JP"])
    args = parser.parse_args()
    mine = ours(args.year, args.importers)
    for python in args.peer:
        table = compare(run_peer(python, args.year, args.importers), mine)
        version = table["version"].iat[0]
        print(f"\n### geopolrisk-py {version}, {args.year}\n")
        print("| importer | raw material | oresight | geopolrisk-py | ratio |")
        print("|---|---|---:|---:|---:|")
        for row in table.sort_values(["importer", "raw_material"]).itertuples():
            mine_text = "not covered" if np.isnan(row.geopolrisk) else f"{row.geopolrisk:.4f}"
            ratio = "" if np.isnan(row.ratio) else f"{row.ratio:.3f}"
            print(f"| {row.importer} | {row.raw_material} | {mine_text} | {row.peer:.4f} | {ratio} |")
        print("\n" + summary(table))
        print(summary(table), file=sys.stderr)


if __name__ == "__main__":
    main()
