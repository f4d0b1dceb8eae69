"""Scenario files that ship with oresight, one per real event (see docs/scenarios.md)."""
