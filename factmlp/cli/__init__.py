"""The ``factmlp`` command line.

Each command lives in its own module of this package and is imported only
when used (so ``factmlp --help`` stays fast and torch-free).  Conventions,
shared by every command:

* ``--help`` on every command; ``--json`` for machine-readable output on stdout;
* exit 0 on success, 1 on a negative answer (facts not stored, a claim
  failing), 2 on bad input, with one line on stderr naming the problem.
"""

from __future__ import annotations

import importlib
import importlib.util

import click

__all__ = ["main", "COMMANDS"]

# command name -> (module, attribute); a command whose module is absent is not offered.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("factmlp.cli.demo", "command"),
    "make-factset": ("factmlp.cli.make_factset", "command"),
    "rho": ("factmlp.cli.rho", "command"),
    "check-weights": ("factmlp.cli.check_weights", "command"),
    "construct": ("factmlp.cli.construct", "command"),
    "theory": ("factmlp.cli.theory", "command"),
    "verify": ("factmlp.cli.verify", "command"),
    "capacity": ("factmlp.cli.capacity", "command"),
    "plot": ("factmlp.cli.plot", "command"),
    "export": ("factmlp.cli.export", "command"),
    "transformer-demo": ("factmlp.cli.transformer_demo", "command"),
}


def _available(name: str) -> bool:
    module = COMMANDS[name][0]
    return importlib.util.find_spec(module) is not None


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n in COMMANDS if _available(n))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS or not _available(name):
            return None
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="factmlp")
def main() -> None:
    """factmlp: check fact-storing MLPs against their theory.

    Exit codes: 0 success, 1 negative answer, 2 bad input.
    """
