"""``python -m oresight`` runs the command line."""

from oresight.cli import main

main()
