"""``mltui doctor``: find what is wrong with a store, and repair what can be repaired safely.

Each check is a function ``(root) -> list[Finding]``; ``CHECKS`` lists them in the order they
run. A finding that carries a ``fix`` can be repaired without losing data (a damaged file is
moved to ``<store>/quarantine/``, never deleted; only temp files and merged inputs whose rows a
readable merged file holds are deleted). To add a check (the model registry's, say), write such
a function and append it to ``CHECKS``.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


from store import compaction, run_index_file
from store.errors import MltuiError, StoreFormatError
from store.registry_doctor import check_registry_files, check_registry_versions
from store.layout import (
    GLOBAL_TABLES,
    MARKER,
    PARTITION_PREFIX,
    RUN_TABLES,
    check_store,
    parquet_files,
    partitions,
    table_dir,
)

STALE_TEMP_SECONDS = 60.0


@dataclass(frozen=True)
class Finding:
    """One problem: what kind, where, what is wrong, and how ``--fix`` repairs it (if it can)."""

    kind: str
    path: Path | None
    message: str
    fix: Callable[[], str] | None = None

    @property
    def fixable(self) -> bool:
        return self.fix is not None


Check = Callable[[Path], list[Finding]]


def check_marker(root: Path) -> list[Finding]:
    """The format marker exists and names a version this mltui reads."""
    try:
        check_store(root)
    except StoreFormatError as exc:
        return [Finding("format", root / MARKER, str(exc))]
    return []


def _table_files(root: Path) -> list[tuple[str, str | None, Path]]:
    return [
        (table, part, f)
        for table in GLOBAL_TABLES + RUN_TABLES
        for part in partitions(root, table)
        for f in parquet_files(table_dir(root, table, part))
    ]


def check_parquet_files(root: Path) -> list[Finding]:
    """Every Parquet file of every table reads whole, with the columns its table needs."""
    findings = []
    for table, _, path in _table_files(root):
        try:
            reason = compaction.damage_reason(path, table)
        except OSError as exc:
            raise MltuiError(f"cannot read {path}: {exc}") from exc
        if reason is not None:
            _skip_when_reading(path, reason)
            findings.append(
                Finding(
                    "damaged",
                    path,
                    f"unreadable Parquet file ({reason}); readers skip it",
                    _quarantine_fix(root, path, reason),
                )
            )
    return findings


def _skip_when_reading(path: Path, reason: str) -> None:
    """Tell this process's readers to leave the file out (the later checks read the store)."""
    from store.reader import mark_damaged

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mark_damaged(path, reason)


def _quarantine_fix(root: Path, path: Path, reason: str) -> Callable[[], str]:
    def fix() -> str:
        dest = compaction.quarantine(root, path, reason)
        return f"moved to {dest.relative_to(root)}"

    return fix


def check_temp_files(root: Path) -> list[Finding]:
    """Temporary dot-files (``.*.tmp``) older than a minute: a writer died mid-write."""
    limit = time.time() - STALE_TEMP_SECONDS
    findings = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != compaction.QUARANTINE]
        for name in filenames:
            if not (name.startswith(".") and name.endswith(".tmp")):
                continue
            path = Path(dirpath) / name
            try:
                if path.stat().st_mtime > limit:
                    continue
            except FileNotFoundError:
                continue
            findings.append(
                Finding(
                    "temp",
                    path,
                    "temporary file left by a writer that died mid-write (never visible to readers)",
                    _remove_fix(path),
                )
            )
    return findings


def _remove_fix(path: Path) -> Callable[[], str]:
    def fix() -> str:
        path.unlink(missing_ok=True)
        return "removed"

    return fix


def check_merged_inputs(root: Path) -> list[Finding]:
    """Inputs of a readable merged file still on disk: a compaction died before deleting them."""
    findings = []
    for table in GLOBAL_TABLES + RUN_TABLES:
        for part in partitions(root, table):
            directory = table_dir(root, table, part)
            files = parquet_files(directory)
            names = {f.name for f in files}
            left: list[str] = []
            for f in files:
                if not f.name.endswith(compaction.MERGED_SUFFIX):
                    continue
                try:
                    if compaction.damage_reason(f, table) is None:
                        left += sorted(compaction.replaced_by(f) & names)
                except FileNotFoundError:
                    continue
            if left:
                findings.append(
                    Finding(
                        "merged-input",
                        directory,
                        f"{len(left)} file(s) already merged into another are still here "
                        "(readers ignore them)",
                        _finish_merge_fix(root, table, part),
                    )
                )
    return findings


def _finish_merge_fix(root: Path, table: str, part: str | None) -> Callable[[], str]:
    def fix() -> str:
        with compaction.partition_lock(root, table, part):
            removed = compaction.finish_interrupted(table_dir(root, table, part))
        return f"removed {len(removed)} merged input(s)"

    return fix


def check_orphan_runs(root: Path) -> list[Finding]:
    """Runs whose experiment has no record: they are invisible under any experiment."""
    from store.reader import Snapshot

    with Snapshot(root) as snap:
        rows = snap.rows(
            "SELECT experiment_id, count(*) AS n FROM runs "
            "WHERE experiment_id NOT IN (SELECT experiment_id FROM experiments) "
            "GROUP BY experiment_id ORDER BY experiment_id"
        )
    return [
        Finding(
            "orphan-runs",
            table_dir(root, "runs", r["experiment_id"]),
            f"{r['n']} run(s) of experiment {r['experiment_id']!r}, which does not exist "
            "(its experiment record is missing or in a quarantined file)",
        )
        for r in rows
    ]


def check_orphan_records(root: Path) -> list[Finding]:
    """Params, tags or metrics of runs that have no run record (their runs file was damaged and
    quarantined, or deleted): no search, table or export lists those runs."""
    from store.reader import Snapshot

    with Snapshot(root) as snap:
        rows = snap.rows(
            "SELECT experiment_id, count(DISTINCT run_id) AS n FROM ("
            "SELECT experiment_id, run_id FROM raw_params UNION ALL "
            "SELECT experiment_id, run_id FROM raw_tags UNION ALL "
            "SELECT experiment_id, run_id FROM raw_metric_summaries) "
            "WHERE run_id NOT IN (SELECT run_id FROM raw_runs) GROUP BY ALL ORDER BY 1"
        )
    return [
        Finding(
            "orphan-records",
            table_dir(root, "runs", r["experiment_id"]),
            f"params, tags or metrics of {_count(r['n'], 'run', 'runs')} of experiment "
            f"{r['experiment_id']!r} that have no run record (a damaged or deleted runs file): "
            "those runs are listed nowhere; restore the file (see quarantine/) to bring them back",
        )
        for r in rows
    ]


def check_summaries(root: Path) -> list[Finding]:
    """Each run's metric summaries count the points its history holds.

    A writer killed between writing a flush's points and their summary leaves the runs table
    (summaries) behind the plots (histories); ``--fix`` recomputes that experiment's summaries
    once no run is alive. A history holding fewer points than its summary lost them with a
    damaged file: nothing can bring them back but the file, and the summary, all that is left of
    them, is kept.
    """
    from store.reader import Snapshot

    with Snapshot(root) as snap:
        rows = snap.rows(
            "SELECT coalesce(h.experiment_id, s.experiment_id) AS experiment_id, "
            "count(*) FILTER (WHERE coalesce(h.n, 0) > coalesce(s.count, 0)) AS behind, "
            "count(*) FILTER (WHERE coalesce(h.n, 0) < coalesce(s.count, 0)) AS lost FROM "
            "(SELECT experiment_id, run_id, key, count(*) AS n FROM raw_metrics GROUP BY ALL) h "
            "FULL JOIN metric_summaries s USING (run_id, key) "
            "WHERE h.n IS DISTINCT FROM s.count GROUP BY ALL ORDER BY 1"
        )
    findings = []
    for r in rows:
        part = r["experiment_id"]
        if r["behind"]:
            findings.append(Finding(
                "summaries",
                table_dir(root, "metric_summaries", part),
                f"{_count(r['behind'], 'metric summary', 'metric summaries')} of experiment {part!r} "
                "behind the histories (a writer died mid-flush, or a damaged summaries file)",
                _rebuild_fix(root, part),
            ))
        if r["lost"]:
            findings.append(Finding(
                "histories",
                table_dir(root, "metrics", part),
                f"{_count(r['lost'], 'metric history', 'metric histories')} of experiment {part!r} "
                "hold fewer points than their summaries count (a damaged or deleted file took them): "
                "plots miss those points, the runs table keeps their last, min and max; restore the "
                "file (see quarantine/) to bring them back",
            ))
    return findings


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _rebuild_fix(root: Path, part: str) -> Callable[[], str]:
    def fix() -> str:
        if not compaction.rebuild_summaries(root, part):
            raise MltuiError("runs are still logging into this store; run doctor --fix once they end")
        return "summaries recomputed from the histories"

    return fix


def check_run_index(root: Path) -> list[Finding]:
    """The runs saved for a first search (``index/runs.bin``, derived data) can be read;
    searches ignore them when they cannot, so removing them loses nothing."""
    path = run_index_file.path_of(root)
    reason = run_index_file.problem(root)
    findings = []
    if reason is not None:
        findings.append(
            Finding("index", path, f"the runs saved for a first search {reason}; searches ignore them", _remove_fix(path))
        )
    try:
        others = [p for p in path.parent.iterdir() if p.name != path.name and not p.name.startswith(".")]
    except FileNotFoundError:
        others = []
    findings += [  # an older mltui's saved runs (``runs.json``): never read now
        Finding("index", other, "a file this mltui does not write or read; searches ignore it", _remove_fix(other))
        for other in sorted(others)
        if other.is_file()
    ]
    return findings


def check_stray_partitions(root: Path) -> list[Finding]:
    """Folders in a table that are not ``experiment_id=<id>`` partitions (readers ignore them)."""
    findings = []
    for table in RUN_TABLES:
        try:
            entries = list(os.scandir(root / table))
        except FileNotFoundError:
            continue
        for e in entries:
            if e.name.startswith(".") or e.name.startswith(PARTITION_PREFIX):
                continue
            findings.append(Finding("stray", Path(e.path), "not a partition of the store; ignored"))
    return findings


CHECKS: list[Check] = [
    check_marker,
    check_parquet_files,
    check_temp_files,
    check_merged_inputs,
    check_orphan_runs,
    check_orphan_records,
    check_summaries,
    check_run_index,
    check_stray_partitions,
    check_registry_files,
    check_registry_versions,
]


@dataclass(frozen=True)
class Report:
    """What ``doctor`` found, and (with ``fix``) what it repaired."""

    findings: tuple[Finding, ...]
    fixed: tuple[tuple[Finding, str], ...] = ()
    not_fixed: tuple[tuple[Finding, str], ...] = ()

    @property
    def remaining(self) -> tuple[Finding, ...]:
        done = {id(f) for f, _ in self.fixed}
        return tuple(f for f in self.findings if id(f) not in done)

    @property
    def healthy(self) -> bool:
        return not self.remaining


def diagnose(root: Path, fix: bool = False) -> Report:
    """Run every check (stopping after a bad marker: nothing else can be trusted then)."""
    if not root.exists():
        raise MltuiError(f"no store at {root}")
    findings: list[Finding] = []
    for check in CHECKS:
        found = check(root)
        findings += found
        if check is check_marker and found:
            break
    fixed: list[tuple[Finding, str]] = []
    not_fixed: list[tuple[Finding, str]] = []
    if fix:
        for f in findings:
            if f.fix is not None:
                try:
                    fixed.append((f, f.fix()))
                except MltuiError as exc:
                    not_fixed.append((f, str(exc)))
    return Report(tuple(findings), tuple(fixed), tuple(not_fixed))
