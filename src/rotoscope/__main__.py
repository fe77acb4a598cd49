"""``python -m rotoscope …`` runs the ``rotoscope`` command."""

from rotoscope.cli import main

if __name__ == "__main__":
    main()
