"""Observed indicators of the library's real events, one file per scenario (see docs/backtests.md)."""
