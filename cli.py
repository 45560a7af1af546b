"""The ``mltui`` command: a thin click layer over ``store`` (data) and ``tui`` (the dashboard).

Commands parse arguments, call one store function, and print with rich. Every ``MltuiError`` is
turned into one line on stderr and an exit status in one place (``main``): 2 for bad usage or a
bad query, 1 for a failure at run time; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from store.errors import MltuiError


class Context:
    """What every command needs: the store location (``--store`` / ``MLTUI_STORE`` / ./mlstore)."""

    def __init__(self, store: str | None, debug: bool) -> None:
        self.store = store
        self.debug = debug

    def client(self):  # noqa: ANN201  (store.Client; imported lazily for a fast start)
        from store.client import Client

        return Client(self.store)

    @property
    def store_path(self) -> Path:
        from store.client import resolve_root

        return resolve_root(self.store)


pass_ctx = click.make_pass_decorator(Context)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    envvar="MLTUI_STORE",
    default=None,
    metavar="PATH",
    help="The store folder (default: $MLTUI_STORE, else ./mlstore).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="mltui")
@click.pass_context
def cli(ctx: click.Context, store: str | None, debug: bool) -> None:
    """mltui: MLflow-style experiment tracking in the terminal.

    With no command, opens the dashboard on the store.
    """
    ctx.obj = Context(store, debug)
    if ctx.invoked_subcommand is None:
        ctx.invoke(tui_command)


@cli.command("tui")
@pass_ctx
def tui_command(ctx: Context) -> None:
    """Open the dashboard (the default command)."""
    from tui.app import run_app

    run_app(ctx.store_path)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the click group and map mltui's errors to exit statuses."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="mltui", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MltuiError as exc:
        if debug:
            raise
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
