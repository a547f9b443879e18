"""`python -m trackway ...` runs the `trackway` command line (see `trackway._cli`)."""

from ._cli import main

main()
