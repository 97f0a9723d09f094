"""The ``factmlp`` command line.

Each command lives in its own module of this package and is imported only
when used (so ``factmlp --help`` stays fast and torch-free).  Conventions,
shared by every command:

* ``--help`` on every command; ``--json`` for machine-readable output on stdout;
* exit 0 on success, 1 on a negative answer (facts not stored, a claim
  failing), 2 on bad input or a failure, with one line on stderr naming the
  problem (``factmlp: error: ...``) and no traceback; ``factmlp --debug``
  (or ``FACTMLP_DEBUG=1``) re-raises instead, to show the traceback.

The exception -> message map is :func:`factmlp.cli._common.error_message`;
:meth:`_LazyGroup.main` applies it to everything a command raises, including
click's own usage errors.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shlex
import sys

import click

__all__ = ["main", "COMMANDS"]

# command name -> (module, attribute); a command whose module is absent is not offered.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("factmlp.cli.demo", "command"),
    "make-factset": ("factmlp.cli.make_factset", "command"),
    "rho": ("factmlp.cli.rho", "command"),
    "check-weights": ("factmlp.cli.check_weights", "command"),
    "construct": ("factmlp.cli.construct", "command"),
    "minimize": ("factmlp.cli.minimize", "command"),
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


# click >= 8.2 raises this for a bare ``factmlp``; older click prints the help itself
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n in COMMANDS if _available(n))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS or not _available(name):
            return None
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run the CLI; in standalone mode map every exception to exit 2 with one stderr line."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        from ._common import EXIT_BAD_INPUT, EXIT_OK, error_message, one_line

        argv = shlex.split(args) if isinstance(args, str) else list(sys.argv[1:] if args is None else args)
        leading = []
        for a in argv:
            if not a.startswith("-"):
                break
            leading.append(a)
        debug = "--debug" in leading or os.environ.get("FACTMLP_DEBUG", "").strip() not in ("", "0")
        try:
            super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except SystemExit:
            raise
        except _NO_ARGS_IS_HELP as exc:  # bare ``factmlp`` (click >= 8.2): the help, like --help
            click.echo(exc.ctx.get_help())
            sys.exit(EXIT_OK)
        except (Exception, KeyboardInterrupt, click.Abort) as exc:  # noqa: BLE001 - the CLI's single error map
            if debug:
                raise
            click.echo(f"factmlp: error: {one_line(error_message(exc))}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        sys.exit(EXIT_OK)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="factmlp")
@click.option("--debug", is_flag=True, help="Show the traceback of an error instead of one line (or FACTMLP_DEBUG=1).")
def main(debug: bool) -> None:
    """factmlp: check fact-storing MLPs against their theory.

    Exit codes: 0 success, 1 negative answer, 2 bad input or failure (one
    line on stderr; --debug shows the traceback).
    """
