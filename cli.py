"""The ``mltui`` command: a thin click layer over ``store`` (data) and ``tui`` (the dashboard).

Commands parse arguments, call one store function, and print with rich. Every ``MltuiError`` is
turned into one line on stderr and an exit status in one place (``main``): 2 for bad usage or a
bad query, 1 for a failure at run time; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import atexit
import gc
import sys
import warnings
from pathlib import Path

import click

from store.errors import MltuiError


class Context:
    """What every command needs: the store location (``--store`` / ``MLTUI_STORE`` / ./mlstore)."""

    def __init__(self, store: str | None, debug: bool) -> None:
        self.store = store
        self.debug = debug

    def client(self, existing: bool = False):  # noqa: ANN201  (store.Client; imported lazily for a fast start)
        """The store's client; ``existing``: for a command that only reads (see ``existing_store``)."""
        from store.client import Client
        from store.state_cache import one_shot

        one_shot()
        return Client(self.existing_store() if existing else self.store)

    def snapshot(self):  # noqa: ANN201  (store.reader.Snapshot)
        """A read of the store for a command that only reads (no pyarrow, no writer loaded), once:
        a second look at the same files (``-x`` names, then the runs) must not load them all."""
        from store.reader import Snapshot
        from store.state_cache import one_shot

        root = self.existing_store()
        one_shot()
        return Snapshot(root)

    def existing_store(self) -> Path:
        """The store folder, which must hold a store: a mistyped --store is named, not read as an
        empty store (no runs, unknown names)."""
        from store.errors import NotFound
        from store.layout import check_store

        root = self.store_path.absolute()
        if not check_store(root):
            raise NotFound(f"no mltui store at {root}: pass --store PATH or set MLTUI_STORE")
        return root

    @property
    def store_path(self) -> Path:
        from store.layout import resolve_root

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


# ---------------------------------------------------------------- query & compare (issue 3)

_FORMATS = ("table", "csv", "json", "markdown", "html")


def _output_options(command):  # noqa: ANN001, ANN201  (a click decorator)
    """``--format`` and ``-o FILE`` (the format then follows the file's suffix)."""
    command = click.option(
        "-o", "--output", "output", type=click.Path(dir_okay=False), default=None,
        help="Write to FILE; the format follows its suffix (.csv .json .md .html).",
    )(command)
    return click.option(
        "--format", "fmt", type=click.Choice(_FORMATS), default=None,
        help="Output format (default: table, or the one the -o suffix names).",
    )(command)


def _export_format(fmt: str | None, output: str | None) -> str:
    from store.export import format_for

    if output is None:
        return fmt or "table"
    if fmt == "table":
        raise click.UsageError("--format table cannot be written to a file: use csv, json, markdown or html")
    return format_for(output, fmt)


def _emit(text: str, output: str | None, what: str) -> None:
    from store.export import write

    if output is None:
        click.echo(text, nl=False)
    else:
        write(text, output)
        click.echo(f"wrote {what} to {output}", err=True)


def _console():  # noqa: ANN202  (rich.console.Console; imported lazily for a fast start)
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=1_000_000, no_color=True, color_system=None)
    return console


def _show(console, renderable) -> None:  # noqa: ANN001
    """Print through rich; in a pipe, as plain lines without the padding rich adds."""
    if console.is_terminal:
        console.print(renderable)
        return
    with console.capture() as captured:
        console.print(renderable)
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def _plain_table(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart, no trailing blanks."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in [header, *rows]
    )


def _rich_table(console, header: list[str] | None, rows: list[list[str]], styles: list[str] | None = None):  # noqa: ANN001, ANN202
    from rich import box
    from rich.table import Table

    table = Table(
        box=box.SIMPLE_HEAD if console.is_terminal else None,
        pad_edge=False, show_edge=False, show_header=header is not None,
    )
    for name in header or [""] * (len(rows[0]) if rows else 0):
        table.add_column(name, no_wrap=True, overflow="ellipsis" if console.is_terminal else "fold")
    for i, row in enumerate(rows):
        table.add_row(*row, style=styles[i] if styles and styles[i] else None)
    return table


@cli.command("query")
@click.argument("expr", required=False, default="")
@click.option("-x", "--experiment", "experiments", multiple=True, metavar="NAME", help="Only this experiment (name or id; repeatable).")
@click.option("--sort", "sorts", multiple=True, metavar="KEY[:desc]", help="Sort by KEY (repeatable), e.g. accuracy:desc or max(loss).")
@click.option("--limit", type=click.IntRange(min=0), default=None, metavar="N", help="At most N runs.")
@click.option("--columns", default=None, metavar="A,B", help="Columns to show, e.g. run_name,accuracy,params.lr.")
@_output_options
@click.option("--expect", default=None, metavar="N[+]", help="Exit 1 unless exactly N (or with N+, at least N) runs match.")
@click.option("--explain", is_flag=True, help="Print the compiled SQL and its bound values; run nothing.")
@pass_ctx
def query_command(
    ctx: Context, expr: str, experiments: tuple[str, ...], sorts: tuple[str, ...], limit: int | None,
    columns: str | None, fmt: str | None, output: str | None, expect: str | None, explain: bool,
) -> None:
    """Runs matching EXPR (all active runs without one), newest first.

    \b
    Examples:
      mltui query "accuracy > 0.9"
      mltui query "params.optimizer = 'adam' AND max(val_acc) >= 0.8" --sort val_acc:desc
      mltui query "status IN ('FAILED', 'CRASHED') OR duration > 2h" -x mnist
      mltui query "accuracy > 0.9" -o report.html
      mltui query "accuracy > 0.95" --expect 1+      (exit 1 when no run passes)
    """
    from store import export
    from store.search import experiment_ids_for, runs_columns, search_sql

    wanted = _expected_count(expect)
    out_format = _export_format(fmt, output)
    with ctx.snapshot() as snap:
        ids = experiment_ids_for(snap, experiments) if experiments else None
        if explain:
            sql, params = search_sql(snap, expr, ids, order_by=list(sorts), max_results=limit)
            click.echo(sql)
            click.echo("-- bound values: " + ", ".join(repr(p) for p in params))
            return
        table = runs_columns(snap, expr, ids, order_by=list(sorts), max_results=limit)
    matched = len(table["run_id"])
    chosen = export.resolve_columns(table, [c.strip() for c in columns.split(",") if c.strip()]) if columns else None
    if out_format == "table":
        _print_runs(table, chosen)
    else:
        _emit(export.render_table(table, out_format, chosen), output, f"{matched} runs")
    if wanted is not None:
        count, at_least = wanted
        if matched < count or (not at_least and matched != count):
            runs = "run" if matched == 1 else "runs"
            click.echo(f"expected {count}{'+' if at_least else ''} runs, {matched} {runs} matched", err=True)
            sys.exit(1)


def _expected_count(expect: str | None) -> tuple[int, bool] | None:
    if expect is None:
        return None
    text = expect.strip()
    at_least = text.endswith("+")
    digits = text[:-1] if at_least else text
    if not digits.isdigit():
        raise click.BadParameter(f"{expect!r}: expected a count such as 3 or 1+", param_hint="--expect")
    return int(digits), at_least


def _print_runs(table: dict[str, list], chosen: list[str] | None) -> None:
    """On a terminal a rich table fitted to its width; in a pipe plain aligned text with every
    column (thousands of rows, where laying them out with rich takes seconds, and rich's import
    alone a tenth of the command's time)."""
    from store import export

    count = len(table["run_id"])
    if count == 0:
        click.echo("no runs match", err=True)
        return
    console = _console() if sys.stdout.isatty() else None
    names = chosen or export.default_columns(table, console.width if console else None)
    rows = [[export.cell(v, n) for v, n in zip(values, names)] for values in zip(*(table[n] for n in names))]
    header = [export.column_label(n, list(table)) for n in names]
    if console is None:
        click.echo(_plain_table(header, rows))
        return
    _show(console, _rich_table(console, header, rows))
    hidden = len(export.default_columns(table, None)) - len(names)
    if hidden > 0 and chosen is None:
        console.print(f"[dim]{count} runs, {hidden} columns hidden (--columns, --format csv)[/dim]")


@cli.command("experiments")
@click.option("--all", "show_all", is_flag=True, help="Include deleted experiments.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", help="Output format.")
@pass_ctx
def experiments_command(ctx: Context, show_all: bool, fmt: str) -> None:
    """Experiments with their number of runs, most recently active first."""
    import json

    from store.search import experiments_rows
    from store.timefmt import iso_time, short_time
    from store.view_type import ViewType

    with ctx.snapshot() as snap:
        rows = experiments_rows(snap, ViewType.ALL if show_all else ViewType.ACTIVE_ONLY)
    if fmt == "json":
        for row in rows:
            row["last_start_time"] = iso_time(row["last_start_time"])
        click.echo(json.dumps(rows, indent=2))
        return
    console = _console()
    header = ["id", "name", "runs", "running", "last run"] + (["stage"] if show_all else [])
    body = [
        [r["experiment_id"], r["name"], str(r["runs"]), str(r["running"]), short_time(r["last_start_time"])]
        + ([r["lifecycle_stage"]] if show_all else [])
        for r in rows
    ]
    _show(console, _rich_table(console, header, body))


@cli.group("runs")
def runs_group() -> None:
    """Look at single runs."""


@runs_group.command("show")
@click.argument("run")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", help="Output format.")
@pass_ctx
def runs_show(ctx: Context, run: str, fmt: str) -> None:
    """Everything about one RUN (an id, a unique id prefix or a unique run name): status,
    duration, params, metrics (last, min, max, steps), tags and artifacts."""
    import json

    from store import export
    from store.liveness import run_duration
    from store.timefmt import short_duration, short_time

    client = ctx.client(existing=True)
    found = client.get_run(client.resolve_run(run))
    summaries = client.get_metric_summaries(found.info.run_id)
    artifacts = client.list_artifacts(found.info.run_id)
    data = export.run_json(found, run_duration(client.root, found.info), summaries, artifacts)
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, allow_nan=False))
        return
    console = _console()
    info = found.info
    facts = [
        ("run", f"{info.run_name}  {info.run_id}"),
        ("experiment", f"{client.get_experiment(info.experiment_id).name} ({info.experiment_id})"),
        ("status", info.status),
        ("started", short_time(info.start_time)),
        ("ended", short_time(info.end_time)),
        ("duration", short_duration(data["duration"])),
        ("user", f"{info.user_id}@{info.host}" if info.host else info.user_id),
        ("artifacts", info.artifact_uri),
    ]
    _show(console, _rich_table(console, None, [list(f) for f in facts]))
    sections = [
        ("params", ["key", "value"], [[k, v] for k, v in data["params"].items()]),
        ("metrics", ["key", "last", "min", "max", "steps", "last step"], [
            [s.key, export.display(s.last), export.display(s.min), export.display(s.max), str(s.count), str(s.last_step)]
            for s in summaries
        ]),
        ("tags", ["key", "value"], [[k, v] for k, v in data["tags"].items()]),
        ("artifacts", ["path", "size"], [
            [a.path + ("/" if a.is_dir else ""), "" if a.file_size is None else str(a.file_size)] for a in artifacts
        ]),
    ]
    for title, header, rows in sections:
        _show(console, f"[bold]{title}[/bold]" if console.is_terminal else title)
        _show(console, _rich_table(console, header, rows) if rows else "  (none)")


@cli.command("diff")
@click.argument("runs", nargs=-1, required=True)
@click.option("--all", "show_all", is_flag=True, help="Also show the rows where every run agrees.")
@click.option("--baseline", default=None, metavar="RUN", help="Deltas against this run (default: the first).")
@_output_options
@pass_ctx
def diff_command(ctx: Context, runs: tuple[str, ...], show_all: bool, baseline: str | None, fmt: str | None, output: str | None) -> None:
    """Params, metrics and tags of RUN RUN [RUN ...] side by side; only what differs, unless --all.

    Metric cells show the delta to the baseline run. Each RUN is an id, a unique id prefix or a
    unique run name.
    """
    from store import export
    from store.diff import diff_runs

    if len(runs) < 2:
        raise click.UsageError("diff needs at least two runs")
    out_format = _export_format(fmt, output)
    client = ctx.client(existing=True)
    ids = [client.resolve_run(r) for r in runs]
    base = client.resolve_run(baseline) if baseline else None
    result = diff_runs(client, ids, base, show_all)
    if out_format != "table":
        _emit(export.render_diff(result, out_format), output, f"the diff of {len(ids)} runs")
        return
    console = _console()
    if not result.rows:
        click.echo(f"the {len(ids)} runs have the same params, metrics and tags", err=True)
        return
    labels = [export.run_label(result, i) for i in range(len(result.runs))]
    rows, styles = [], []
    for row in result.rows:
        cells = [export.display(v) for v in row.values]
        deltas = [export.delta_text(row, i) for i in range(len(row.values))]
        rows.append([row.section, row.key, *[f"{c} {d}".strip() for c, d in zip(cells, deltas)]])
        styles.append("bold yellow" if row.differs and console.is_terminal else "")
    _show(console, _rich_table(console, ["", "key", *labels], rows, styles))


# ---------------------------------------------------------------- model registry (issue 5)


def _registry_format(command):  # noqa: ANN001, ANN201  (a click decorator)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="table for people, json (MLflow's field names) for scripts.",
    )(command)


def _registry_echo(fmt: str, data: object, table: tuple[tuple[str, ...], list[tuple[str, ...]]] | None = None, text: str = "") -> None:
    """Print JSON, a rich table, or a message: the one place registry output is drawn."""
    import json

    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
        return
    if table is not None and table[1]:
        from rich.console import Console
        from rich.table import Table

        columns, rows = table
        grid = Table(box=None, header_style="bold", pad_edge=False)
        for i, column in enumerate(columns):
            last = i == len(columns) - 1
            grid.add_column(column, no_wrap=not last, overflow="fold" if last else "ellipsis")
        for row in rows:
            grid.add_row(*row)
        Console(highlight=False).print(grid)
    if text:
        click.echo(text)


@cli.group("models")
def models_group() -> None:
    """The model registry: registered models, versions, stages, aliases and their history.

    \b
    mltui models register runs:/<run_id>/model iris
    mltui models stage iris 2 production --archive-existing
    mltui models alias iris champion 2
    mltui models history iris
    """


@models_group.command("list")
@_registry_format
@pass_ctx
def models_list(ctx: Context, fmt: str) -> None:
    """Registered models with their Production and Staging versions and aliases."""
    from store.registry_view import MODEL_COLUMNS, model_row

    models = ctx.client().search_registered_models(max_results=100_000)
    _registry_echo(
        fmt,
        [m.to_dict() for m in models],
        (MODEL_COLUMNS, [model_row(m) for m in models]),
        "" if models else "No registered models.",
    )


@models_group.command("versions")
@click.argument("name")
@_registry_format
@pass_ctx
def models_versions(ctx: Context, name: str, fmt: str) -> None:
    """The versions of model NAME, newest first."""
    from store.registry_view import VERSION_COLUMNS, version_row

    client = ctx.client()
    client.get_registered_model(name)
    versions = client.search_model_versions(f"name = '{name}'")
    _registry_echo(
        fmt,
        [v.to_dict() for v in versions],
        (VERSION_COLUMNS, [version_row(v) for v in versions]),
        "" if versions else f"Model '{name}' has no versions.",
    )


@models_group.command("register")
@click.argument("source")
@click.argument("name")
@_registry_format
@pass_ctx
def models_register(ctx: Context, source: str, name: str, fmt: str) -> None:
    """Register SOURCE (runs:/RUN/PATH, models:/..., or a folder) as a new version of NAME."""
    mv, created = ctx.client().register_model_version(source, name)
    first = f"Successfully registered model '{name}'.\n" if created else ""
    _registry_echo(fmt, mv.to_dict(), text=f"{first}Created version '{mv.version}' of model '{name}'.")


@models_group.command("stage")
@click.argument("name")
@click.argument("version")
@click.argument("stage")
@click.option(
    "--archive-existing",
    is_flag=True,
    help="Archive the other versions already in STAGE (Staging or Production only).",
)
@_registry_format
@pass_ctx
def models_stage(
    ctx: Context, name: str, version: str, stage: str, archive_existing: bool, fmt: str
) -> None:
    """Move VERSION of NAME to STAGE (None, Staging, Production, Archived; any case)."""
    from store.registry_entities import Stage
    from store.registry_view import transition_message

    stage = Stage.parse(stage).value  # a bad stage is a usage error, before any lookup
    client = ctx.client()
    before = client.get_model_version(name, version)
    archived = client.versions_to_archive(name, version, stage) if archive_existing else []
    mv = client.transition_model_version_stage(name, version, stage, archive_existing)
    _registry_echo(fmt, mv.to_dict(), text=transition_message(mv, before.current_stage, archived))


@models_group.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False)
@click.option("--delete", "delete", is_flag=True, help="Remove ALIAS instead of setting it.")
@_registry_format
@pass_ctx
def models_alias(
    ctx: Context, name: str, alias: str, version: str | None, delete: bool, fmt: str
) -> None:
    """Point ALIAS of NAME at VERSION (moving it if set), or remove it with --delete."""
    client = ctx.client()
    if delete == (version is not None):
        raise click.UsageError("give VERSION to set an alias, or --delete without VERSION")
    if delete:
        old = client.get_model_version_by_alias(name, alias)
        client.delete_registered_model_alias(name, alias)
        mv = client.get_model_version(name, old.version)
        text = f"Alias @{alias} removed from version {old.version} of model '{name}'."
    else:
        model = client.get_registered_model(name)
        client.set_registered_model_alias(name, alias, version)
        mv = client.get_model_version_by_alias(name, alias)
        previous = model.aliases.get(alias)
        moved = f" (moved from version {previous})" if previous not in (None, mv.version) else ""
        text = f"Alias @{alias} of model '{name}' now points to version {mv.version}{moved}."
    _registry_echo(fmt, mv.to_dict(), text=text)


@models_group.command("describe")
@click.argument("name")
@click.argument("version", required=False)
@click.option("--set", "description", metavar="TEXT", help="Replace the description first.")
@_registry_format
@pass_ctx
def models_describe(
    ctx: Context, name: str, version: str | None, description: str | None, fmt: str
) -> None:
    """Show model NAME (or one VERSION): description, tags, aliases, stages; --set changes the
    description."""
    from store.registry_view import describe_lines

    client = ctx.client()
    if version is None:
        record = (
            client.update_registered_model(name, description)
            if description is not None
            else client.get_registered_model(name)
        )
    else:
        record = (
            client.update_model_version(name, version, description)
            if description is not None
            else client.get_model_version(name, version)
        )
    _registry_echo(fmt, record.to_dict(), text="\n".join(describe_lines(record)))


@models_group.command("history")
@click.argument("name")
@_registry_format
@pass_ctx
def models_history(ctx: Context, name: str, fmt: str) -> None:
    """Every registry event of model NAME, oldest first, with time and user."""
    from store.registry_view import HISTORY_COLUMNS, history_row

    events = ctx.client().history(name)
    _registry_echo(
        fmt, [e.to_dict() for e in events], (HISTORY_COLUMNS, [history_row(e) for e in events])
    )


# ---------------------------------------------------------------- maintenance (issue 7)


@cli.command("compact")
@pass_ctx
def compact_command(ctx: Context) -> None:
    """Merge the store's small Parquet files into a few large ones.

    Safe while training scripts log and dashboards read; a second compaction waits for the
    first. Damaged files met on the way are moved to <store>/quarantine/.
    """
    from rich.console import Console
    from rich.progress import Progress

    from store.compaction import compact

    root = ctx.existing_store()
    console = Console(stderr=True)
    if console.is_terminal:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("compacting", total=None)
            result = compact(root, progress=lambda done, total: bar.update(task, completed=done, total=total))
    else:
        result = compact(root)
    click.echo(
        f"files: {result.files_before} -> {result.files_after}; "
        f"bytes: {result.bytes_before:,} -> {result.bytes_after:,}"
    )
    for path in result.quarantined:
        click.echo(f"quarantined damaged file: {path.relative_to(root)}", err=True)


@cli.command("doctor")
@click.option(
    "--fix", is_flag=True, help="Repair what can be repaired without losing data (quarantine, cleanup)."
)
@pass_ctx
def doctor_command(ctx: Context, fix: bool) -> None:
    """Check the store: format marker, every Parquet file, stale temp files, leftovers of killed
    compactions, metric summaries against histories, runs without experiments or run records,
    registry files, and model versions whose run or model folder is gone.

    Exits 1 when something is wrong (after --fix: when something could not be repaired).
    --fix never deletes data: damaged files are moved to <store>/quarantine/.
    """
    from store.doctor import diagnose

    root = ctx.store_path
    report = diagnose(root, fix=fix)
    repairs = {id(f): f"fixed: {how}" for f, how in report.fixed}
    repairs.update({id(f): f"not fixed: {why}" for f, why in report.not_fixed})
    for f in report.findings:
        where = f.path.relative_to(root) if f.path and f.path.is_relative_to(root) else f.path
        line = f"{f.kind}: {where}: {f.message}" if where else f"{f.kind}: {f.message}"
        if id(f) in repairs:
            line += f" [{repairs[id(f)]}]"
        elif f.fixable:
            line += " [--fix repairs this]"
        click.echo(line)
    if report.healthy:
        click.echo(f"store {root}: healthy" + (f" ({len(report.fixed)} repaired)" if fix and report.fixed else ""))
        return
    click.echo(f"store {root}: {len(report.remaining)} problem(s)", err=True)
    sys.exit(1)


# ---------------------------------------------------------------- import from MLflow (issue 6)


@cli.group("import")
def import_group() -> None:
    """Bring runs over from another tracker."""


@import_group.command("mlflow")
@click.argument("source")
@click.option(
    "--copy-artifacts",
    is_flag=True,
    help="Copy each run's local artifact folder into the store (default: reference it).",
)
@pass_ctx
def import_mlflow_command(ctx: Context, source: str, copy_artifacts: bool) -> None:
    """Import an MLflow store: an mlflow.db file, a sqlite:///... URI or an mlruns/ folder.

    Experiments, runs, params, every metric point, tags and the model registry keep their ids
    and names. Importing again adds only what is new, so it can be repeated while you migrate.

    \b
    Examples:
      mltui import mlflow mlflow.db
      mltui import mlflow sqlite:////home/ana/mlflow.db
      mltui --store team-store import mlflow ./mlruns --copy-artifacts
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from store.importers import import_mlflow

    console = Console(stderr=True)
    if console.is_terminal:
        columns = (
            TextColumn("{task.description:>6}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            tasks: dict[str, object] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=total, rate="")
                task = tasks[phase]
                elapsed = bar.tasks[task].elapsed or 0  # type: ignore[index]
                rate = f"{done / elapsed:,.0f}/s" if elapsed > 0 else ""
                bar.update(task, completed=done, total=total, rate=rate)  # type: ignore[arg-type]

            summary = import_mlflow(source, ctx.store_path, copy_artifacts, progress)
    else:
        summary = import_mlflow(source, ctx.store_path, copy_artifacts)
    rate = summary.points / summary.seconds if summary.seconds else 0
    click.echo(
        f"imported from {summary.kind} {summary.source} in {summary.seconds:.1f} s: "
        f"{summary.experiments} experiments, {summary.runs} new runs ({summary.runs_updated} updated), "
        f"{summary.points:,} metric points ({rate:,.0f}/s), {summary.params} params, {summary.tags} tags, "
        f"{summary.models} models, {summary.versions} model versions"
        + (f", {summary.artifacts_copied} artifact folders copied" if copy_artifacts else "")
    )
    for item in summary.skipped:
        click.echo(f"skipped {item.what}: {item.why}", err=True)


def _store_after_command(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(Context).store = value


def _accept_store_everywhere(group: click.Group) -> None:
    """``--store`` also after the command (``mltui query X --store S``), as people type it."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _accept_store_everywhere(command)
        else:
            command.params.append(
                click.Option(
                    ["--store"], metavar="PATH", expose_value=False, callback=_store_after_command,
                    help="The store folder (same as before the command).",
                )
            )


_accept_store_everywhere(cli)


def _skip_final_collection() -> None:
    """At exit, after every other exit handler: freeze the objects left, so the interpreter's
    final collection passes over none of them (~15 ms of a 0.1 s command). Not once DuckDB is
    loaded: its binding reports as leaked any of its objects that collection would have freed."""
    if "duckdb" not in sys.modules:
        gc.freeze()


def _warning_line(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, line: str | None = None
) -> str:
    """A warning (a damaged file skipped) as the one line a person at a terminal needs, without
    Python's source file and line."""
    return f"{message}\n"


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the click group and map mltui's errors to exit statuses."""
    atexit.register(_skip_final_collection)  # registered first: the last to run
    warnings.formatwarning = _warning_line
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
