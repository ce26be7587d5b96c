"""``python -m worker.cli``: the same as the ``atencion`` console script."""

from worker.cli import main

main()
