"""Building runs, reading the screen and waiting for workers in pilot tests."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from textual.worker import WorkerCancelled

from store import Client, Metric, Param, RunTag


def make_run(
    client: Client,
    experiment_id: str,
    name: str,
    params: dict[str, object],
    losses: list[float],
    accuracy: float,
    status: str = "FINISHED",
    tags: dict[str, str] | None = None,
) -> str:
    run = client.create_run(experiment_id, run_name=name, tags=tags)
    run_id = run.info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("loss", v, 1_700_000_000_000 + i * 1000, i) for i, v in enumerate(losses)]
        + [Metric("accuracy", accuracy, 1_700_000_000_000, len(losses))],
        params=[Param(k, str(v)) for k, v in params.items()],
        tags=[RunTag(k, v) for k, v in (tags or {}).items()],
    )
    if status != "RUNNING":
        client.set_terminated(run_id, status)
    return run_id


def screen_text(app) -> str:  # noqa: ANN001  (a running textual App)
    """The non-blank rows of characters on the screen, read from Textual's own SVG screenshot."""
    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for match in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        x, y = float(match.group(1)), float(match.group(2))
        rows.setdefault(y, []).append((x, html.unescape(match.group(3)).replace("\xa0", " ").replace("\n", "")))
    lines = []
    for y in sorted(rows):
        line = ""
        for x, text in sorted(rows[y]):
            line = line.ljust(round(x / 12.2)) + text
        if line.strip():
            lines.append(line)
    return "\n".join(lines)


def flat(text: str) -> str:
    """Screen text as one line of words: box lines gone, wrapped sentences joined."""
    return " ".join(re.sub("[│╭╮╰╯─▊▎▔▁]", " ", text).split())


def cursor_to(app, name: str) -> None:  # noqa: ANN001
    """Put the runs table's cursor on the run called ``name``."""
    from tui.runs_table import RunsTable

    if not app.screen.query_one(RunsTable).move_to_run(name):
        raise AssertionError(f"no run {name} in the table")


async def settle(pilot, seconds: float = 0.05) -> None:  # noqa: ANN001
    """Let workers finish and the screen catch up with their results."""
    for _ in range(3):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:  # an exclusive worker replaced by a newer one: wait for that
            continue
        await pilot.pause(seconds)
    for _ in range(2):  # DataTable measures new rows when idle: give it those frames
        await pilot.pause(seconds)


async def until(pilot, shown: Callable[[], bool], seconds: float = 30.0) -> None:  # noqa: ANN001
    """Return as soon as ``shown()`` holds: a loaded CI machine may take seconds to get there.
    The caller asserts it afterwards."""
    for _ in range(int(seconds / 0.1)):
        if shown():
            return
        await pilot.pause(0.1)
