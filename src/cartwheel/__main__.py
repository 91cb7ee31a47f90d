"""`python -m cartwheel` is the `cartwheel` command."""

from cartwheel.cli import main

main()
