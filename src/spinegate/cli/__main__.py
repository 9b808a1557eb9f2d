"""`python -m spinegate.cli ...`: the same as the `spinegate` command."""

from . import main

main()
