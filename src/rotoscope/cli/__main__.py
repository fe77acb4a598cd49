"""``python -m rotoscope.cli``: the same as the ``rotoscope`` command."""

from . import main

main()
