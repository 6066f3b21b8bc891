"""`python -m sfpms` is the `sfpms` command."""

from sfpms.cli import main

main()
