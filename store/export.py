"""Runs tables and diffs as CSV, JSON, Markdown or HTML, for reports, chats and pipelines.

Spelling decided here (and documented in docs/query.md):

- JSON is strict (``jq`` and ``json.loads(..., parse_constant=...)`` both accept it): NaN and
  ±inf, which JSON cannot spell, are the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``
  (protobuf's JSON mapping); a missing value is absent (runs) or ``null`` (diffs); times are ISO
  8601 with the UTC offset. A runs table is DESIGN.md section 6's array of
  ``{run_id, run_name, experiment, status, start_time, end_time, params{}, metrics{}, tags{}}``.
- CSV has one column per metric, param and tag; NaN and ±inf are ``NaN``, ``inf``, ``-inf``
  (what pandas and spreadsheets read back); missing is empty.
- Markdown is a GitHub table (``|`` escaped); numbers with 6 significant digits.
- HTML is one self-contained file (inline CSS, no scripts, every value escaped) where values that
  differ between runs are highlighted.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store.errors import MltuiError, ValidationError, did_you_mean
from store.timefmt import iso_time, iso_times, short_duration, short_time

if TYPE_CHECKING:  # the diff's module only where a diff is exported
    from store.diff import RunDiff
    from store.search import Columns

FORMATS = ("csv", "json", "markdown", "html")
SUFFIXES = {".csv": "csv", ".json": "json", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
PREFIXES = ("metrics.", "params.", "tags.")
TIME_COLUMNS = ("start_time", "end_time")


def format_for(path: str | Path, explicit: str | None = None) -> str:
    """The export format: ``explicit`` if given, else from the file's suffix."""
    if explicit:
        if explicit not in FORMATS:
            raise ValidationError(f"unknown format {explicit!r}: expected one of {', '.join(FORMATS)}")
        return explicit
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationError(
            f"cannot tell the format of {str(path)!r} from its suffix: use one of "
            f"{', '.join(SUFFIXES)} or pass --format"
        )
    return SUFFIXES[suffix]


# ---------------------------------------------------------------- values


def json_number(value: float) -> float | str:
    """A float JSON can carry: NaN and ±inf become the strings "NaN", "Infinity", "-Infinity"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _json_value(value: object, column: str = "") -> object:
    if isinstance(value, float):
        return json_number(value)
    if column in TIME_COLUMNS and isinstance(value, int):
        return iso_time(value)
    return value


def _csv_fields(values: list[Any]) -> list[str]:
    """Values as CSV fields: empty for missing, floats as Python reads them back (NaN spelled
    NaN). One expression, no call per value: a table of 10,000 runs has 100,000s of values."""
    return ["" if v is None else ("NaN" if v != v else repr(v)) if type(v) is float else str(v) for v in values]


def _csv_column(values: list[Any], column: str) -> list[str]:
    """One column's CSV fields (converted a column at a time: thousands of runs)."""
    if column in TIME_COLUMNS:
        return [t or "" for t in iso_times(values)]
    return _csv_fields(values)


def display(value: object, column: str = "") -> str:
    """A value as a person reads it in a table: 6 significant digits, short times, durations."""
    if value is None:
        return ""
    if column == "duration" and isinstance(value, int):
        return short_duration(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return f"{value:.6g}"
    if column in TIME_COLUMNS and isinstance(value, int):
        return short_time(value)
    return str(value)


# ---------------------------------------------------------------- runs tables


def varying_columns(table: Columns) -> list[str]:
    """Metric, param and tag columns whose values are not all the same among the rows."""
    from store.diff import same_value

    out = []
    for name, values in table.items():
        if name.startswith(PREFIXES):
            first = values[0] if values else None
            if any(not same_value(v, first) for v in values):
                out.append(name)
    return out


BASE_COLUMNS = ("run_name", "run_id", "status", "start_time", "duration")
SHORT_ID = 8


def resolve_columns(table: Columns, names: list[str]) -> list[str]:
    """``--columns``: each a column name, or a bare key found in exactly one of metrics/params/tags."""
    out = []
    for name in names:
        if name in table:
            out.append(name)
            continue
        found = [p + name for p in PREFIXES if p + name in table]
        if len(found) != 1:
            if found:
                raise ValidationError(f"column {name!r} is ambiguous: write {' or '.join(found)}")
            raise ValidationError(f"no column {name!r} among the matched runs{did_you_mean(name, table)}")
        out.append(found[0])
    return out


def column_label(name: str, names: list[str]) -> str:
    """A header for a terminal: the bare key, unless two sections share it."""
    for prefix in PREFIXES:
        if name.startswith(prefix):
            key = name[len(prefix):]
            if sum(p + key in names for p in PREFIXES) == 1:
                return key
    return "id" if name == "run_id" else name


def cell(value: object, column: str) -> str:
    """A value for a terminal table (run ids shortened: a unique prefix names a run)."""
    if column == "run_id" and isinstance(value, str):
        return value[:SHORT_ID]
    return display(value, column)


def default_columns(table: Columns, width: int | None) -> list[str]:
    """The columns a terminal shows: run, status, start and duration, then what varies between
    the runs (metrics, then params, then tags), then the rest of the metrics and params, as many
    as fit in ``width`` characters (all of them when ``width`` is None).
    """
    names = list(table)
    varying = varying_columns(table)
    constant = [n for n in names if n.startswith(("metrics.", "params.")) and n not in varying]
    multi_experiment = len(set(table["experiment"])) > 1
    wanted = [*BASE_COLUMNS[:3], *(["experiment"] if multi_experiment else []), *BASE_COLUMNS[3:]]
    wanted += varying + constant
    if width is None:
        return wanted
    chosen, used = [], 0
    for name in wanted:
        size = max([len(column_label(name, names))] + [len(cell(v, name)) for v in table[name]]) + 3
        if used + size > width and chosen:
            continue
        chosen.append(name)
        used += size
    return chosen


def run_json(run: Any, duration: int | None, summaries: list[Any], artifacts: list[Any]) -> dict[str, Any]:
    """One run for ``mltui runs show --format json``: the runs-table object of DESIGN.md
    section 6, plus ``duration`` (ms, as ``liveness.run_duration`` gives it: a running or
    crashed run's too), every metric's summary and the artifact files."""
    info = run.info
    end = info.end_time
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "start_time": iso_time(info.start_time),
        "end_time": iso_time(end),
        "duration": duration,
        "user_id": info.user_id,
        "host": info.host,
        "artifact_uri": info.artifact_uri,
        "params": dict(sorted(run.data.params.items())),
        "metrics": {s.key: json_number(s.last) for s in summaries},
        "metric_summaries": {
            s.key: {
                "last": json_number(s.last),
                "last_step": s.last_step,
                "min": json_number(s.min),
                "max": json_number(s.max),
                "count": s.count,
            }
            for s in summaries
        },
        "tags": dict(sorted(run.data.tags.items())),
        "artifacts": [{"path": a.path, "is_dir": a.is_dir, "file_size": a.file_size} for a in artifacts],
    }


def table_json(table: Columns) -> list[dict[str, Any]]:
    """DESIGN.md section 6's JSON objects, one per run."""
    out = []
    names = list(table)
    for values in zip(*table.values()):
        row = dict(zip(names, values))
        item: dict[str, Any] = {
            k: _json_value(row.get(k), k)
            for k in ("run_id", "run_name", "experiment", "status", "start_time", "end_time")
        }
        for section in ("params", "metrics", "tags"):
            prefix = section + "."
            item[section] = {
                k[len(prefix):]: _json_value(v)
                for k, v in row.items()
                if k.startswith(prefix) and v is not None
            }
        out.append(item)
    return out


def _table_rows(table: Columns, columns: list[str] | None) -> tuple[list[str], list[list[Any]]]:
    names = columns or list(table)
    return names, [list(r) for r in zip(*(table[n] for n in names))] if names else []


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


_CSV_SPECIAL = re.compile('[,"\r\n]')


def _csv(header: list[str], columns: list[list[str]]) -> str:
    r"""RFC 4180 with Unix line ends, from columns of fields: a field is quoted when it holds a
    comma, a quote or a line break, as ``csv.writer`` quotes (but a lone "\r" too, which Python
    3.11's writer leaves bare, breaking the file), as is an empty field alone on its row (else a
    blank line, which readers skip). A column is checked at once and joined without a call per
    field: 10,000 runs of a dozen columns in 5 ms instead of 26."""
    alone = len(header) == 1

    def quoted(fields: list[str]) -> list[str]:
        empty = alone and "" in fields
        if not empty and not _CSV_SPECIAL.search("".join(fields)):
            return fields
        return ['"' + f.replace('"', '""') + '"' if _CSV_SPECIAL.search(f) or (alone and not f) else f for f in fields]

    lines = [",".join(quoted(header)), *map(",".join, zip(*map(quoted, columns)))]
    return "\n".join(lines) + "\n"


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.2em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th.differs, td.differs { background: #fff3c4; }
tr.differs td.key { font-weight: bold; }
td.section { color: #777; }
p.note { color: #555; font-size: 0.85em; }
"""


def _html_page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}</body>\n</html>\n"
    )


def _td(text: str, classes: list[str]) -> str:
    attr = f' class="{" ".join(classes)}"' if classes else ""
    return f"<td{attr}>{html.escape(text)}</td>"


def render_table(table: Columns, fmt: str, columns: list[str] | None = None, title: str = "mltui runs") -> str:
    """A runs table (``search.runs_table``) in one of FORMATS; ``columns`` limits csv/markdown/html."""
    if fmt == "json":
        return json.dumps(table_json(table), indent=2, allow_nan=False) + "\n"
    if fmt == "csv":
        header = columns or list(table)
        return _csv(header, [_csv_column(table[h], h) for h in header])
    header, rows = _table_rows(table, columns)
    if fmt == "markdown":
        return _markdown(header, [[display(v, h) for v, h in zip(r, header)] for r in rows])
    if fmt == "html":
        varying = set(varying_columns(table))
        head = "".join(
            f'<th class="differs">{html.escape(h)}</th>' if h in varying else f"<th>{html.escape(h)}</th>"
            for h in header
        )
        body = "".join(
            "<tr>"
            + "".join(
                _td(display(v, h), (["num"] if isinstance(v, (int, float)) else []) + (["differs"] if h in varying else []))
                for v, h in zip(r, header)
            )
            + "</tr>\n"
            for r in rows
        )
        note = f'<p class="note">{len(rows)} runs; highlighted columns differ between runs.</p>\n'
        return _html_page(title, f"{note}<table>\n<tr>{head}</tr>\n{body}</table>\n")
    raise ValidationError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


# ---------------------------------------------------------------- diffs


def run_label(diff: RunDiff, i: int) -> str:
    run = diff.runs[i]
    label = run.run_name or run.run_id[:8]
    return f"{label} (baseline)" if i == diff.baseline else label


def diff_json(diff: RunDiff) -> dict[str, Any]:
    """``{runs: [...], baseline, rows: [{section, key, values, differs, deltas, percents}]}``."""
    return {
        "runs": [{"run_id": r.run_id, "run_name": r.run_name, "experiment": r.experiment} for r in diff.runs],
        "baseline": diff.runs[diff.baseline].run_id,
        "rows": [
            {
                "section": row.section,
                "key": row.key,
                "values": [_json_value(v) for v in row.values],
                "differs": row.differs,
                "deltas": [_json_value(v) for v in row.deltas],
                "percents": [_json_value(v) for v in row.percents],
            }
            for row in diff.rows
        ],
    }


def delta_text(row: Any, i: int) -> str:
    """``+0.012 (+1.3%)`` for a metric's value against the baseline ('' when not applicable, and
    for a value equal to the baseline's: "+0 (+0.0%)" beside every equal row is noise)."""
    if not row.deltas or row.deltas[i] is None or row.deltas[i] == 0:
        return ""
    text = f"{row.deltas[i]:+.4g}"
    if row.percents[i] is not None:
        text += f" ({row.percents[i]:+.1f}%)"
    return text


def _diff_cells(diff: RunDiff, row: Any, fmt_value: Callable[[object], str]) -> list[str]:
    cells = []
    for i, value in enumerate(row.values):
        text = fmt_value(value)
        delta = delta_text(row, i)
        cells.append(f"{text} {delta}".strip() if delta else text)
    return cells


def render_diff(diff: RunDiff, fmt: str) -> str:
    """A diff (``store.diff.diff_runs``) in one of FORMATS."""
    from store.diff import same_value

    if fmt == "json":
        return json.dumps(diff_json(diff), indent=2, allow_nan=False) + "\n"
    labels = [run_label(diff, i) for i in range(len(diff.runs))]
    if fmt == "csv":
        header = ["section", "key", *[r.run_id for r in diff.runs], "differs"]
        rows = [[row.section, row.key, *_csv_fields(row.values), str(row.differs).lower()] for row in diff.rows]
        return _csv(header, [list(c) for c in zip(*rows)] if rows else [[] for _ in header])
    if fmt == "markdown":
        header = ["section", "key", *labels]
        rows = [
            [row.section, f"**{row.key}**" if row.differs else row.key, *_diff_cells(diff, row, display)]
            for row in diff.rows
        ]
        return _markdown(header, rows)
    if fmt == "html":
        head = "<th>section</th><th>key</th>" + "".join(
            f'<th title="{html.escape(r.run_id)}">{html.escape(label)}</th>' for r, label in zip(diff.runs, labels)
        )
        body = []
        for row in diff.rows:
            base = row.values[diff.baseline]
            cells = [_td(row.section, ["section"]), _td(row.key, ["key"])]
            for i, text in enumerate(_diff_cells(diff, row, display)):
                classes = ["num"] if isinstance(row.values[i], float) else []
                if row.differs and not same_value(row.values[i], base):
                    classes.append("differs")
                cells.append(_td(text, classes))
            row_class = ' class="differs"' if row.differs else ""
            body.append(f"<tr{row_class}>{''.join(cells)}</tr>\n")
        note = (
            f'<p class="note">{len(diff.runs)} runs, baseline {html.escape(labels[diff.baseline])}; '
            f"{diff.differing} differing rows highlighted; metric deltas are against the baseline.</p>\n"
        )
        return _html_page("mltui diff", f"{note}<table>\n<tr>{head}</tr>\n{''.join(body)}</table>\n")
    raise ValidationError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


def write(text: str, path: str | Path) -> None:
    """Write an export whole (a temporary file renamed into place: no half-written report)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise MltuiError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
