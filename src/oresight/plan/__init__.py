"""Planning: which projects and complementary stockpiles close the supply gaps of a country or an alliance, at
what cost (a two-stage stochastic program on linopy and HiGHS, validated out of sample by the simulator)."""

from __future__ import annotations

from oresight.plan.projects import load_projects

__all__ = ["load_projects"]
