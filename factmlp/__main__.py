"""``python -m factmlp`` runs the command line."""

from factmlp.cli import main

if __name__ == "__main__":  # pragma: no cover
    main(prog_name="factmlp")
