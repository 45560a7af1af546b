"""Reading an MLflow SQLAlchemy store kept in SQLite (``mlflow.db``), with Python's sqlite3.

Columns are read by name, and tables that older MLflow releases lack (workspaces, aliases) are
optional, so databases from MLflow 1.x to 3.x read alike. NaN points are stored as value 0 with
``is_nan = 1``; MLflow's SQL store clamps ±inf to ±1.8e308 before writing, and those values are
imported as they are stored (what MLflow's own client reports for them).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from store.errors import ValidationError
from store.importers.records import (
    POINTS_SCHEMA,
    Skipped,
    SourceExperiment,
    SourceModel,
    SourceRun,
    SourceVersion,
    status_name,
)

BATCH = 500_000


class MlflowDatabase:
    """One MLflow SQLite database, opened read-only."""

    kind = "MLflow SQLite database"

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            tables = {r[0] for r in self.con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise ValidationError(f"{path} is not a readable SQLite database ({exc})") from None
        if not {"experiments", "runs", "metrics", "params", "tags"} <= tables:
            raise ValidationError(
                f"{path} is a SQLite database but not an MLflow tracking store "
                "(no experiments/runs/metrics tables)"
            )
        self.tables = tables
        self.skipped: list[Skipped] = []

    def _columns(self, table: str) -> set[str]:
        return {r[1] for r in self.con.execute(f'PRAGMA table_info("{table}")')}

    def _rows(self, sql: str) -> list[sqlite3.Row]:
        self.con.row_factory = sqlite3.Row
        try:
            return self.con.execute(sql).fetchall()
        except sqlite3.DatabaseError as exc:
            raise ValidationError(f"{self.path}: cannot read the database ({exc})") from None
        finally:
            self.con.row_factory = None

    def experiments(self) -> list[SourceExperiment]:
        tags: dict[str, dict[str, str]] = {}
        if "experiment_tags" in self.tables:
            for r in self._rows("SELECT experiment_id, key, value FROM experiment_tags"):
                tags.setdefault(str(r["experiment_id"]), {})[r["key"]] = r["value"] or ""
        return [
            SourceExperiment(
                experiment_id=str(r["experiment_id"]),
                name=r["name"],
                artifact_location=r["artifact_location"],
                lifecycle_stage=r["lifecycle_stage"] or "active",
                creation_time=r["creation_time"] if "creation_time" in r.keys() else None,
                tags=tags.get(str(r["experiment_id"]), {}),
            )
            for r in self._rows("SELECT * FROM experiments ORDER BY experiment_id")
        ]

    def runs(self) -> list[SourceRun]:
        params: dict[str, dict[str, str]] = {}
        for r in self._rows("SELECT run_uuid, key, value FROM params"):
            params.setdefault(r["run_uuid"], {})[r["key"]] = r["value"] or ""
        tags: dict[str, dict[str, str]] = {}
        for r in self._rows("SELECT run_uuid, key, value FROM tags"):
            tags.setdefault(r["run_uuid"], {})[r["key"]] = r["value"] or ""
        has_name = "name" in self._columns("runs")
        out = []
        for r in self._rows("SELECT * FROM runs ORDER BY start_time, run_uuid"):
            run_tags = tags.get(r["run_uuid"], {})
            name = (r["name"] if has_name else None) or run_tags.get("mlflow.runName", "")
            out.append(
                SourceRun(
                    run_id=r["run_uuid"],
                    experiment_id=str(r["experiment_id"]),
                    run_name=name,
                    status=status_name(r["status"]),
                    start_time=r["start_time"],
                    end_time=r["end_time"],
                    lifecycle_stage=r["lifecycle_stage"] or "active",
                    user_id=r["user_id"] or "",
                    artifact_uri=r["artifact_uri"],
                    params=params.get(r["run_uuid"], {}),
                    tags=run_tags,
                )
            )
        return out

    def point_counts(self) -> dict[tuple[str, str], int]:
        rows = self.con.execute("SELECT run_uuid, key, count(*) FROM metrics GROUP BY run_uuid, key")
        return {(r[0], r[1]): r[2] for r in rows}

    def points(self, run_ids: set[str] | None = None) -> Iterator[pa.Table]:
        """Every metric point (of ``run_ids`` if given), in Arrow batches.

        Rows come ordered by (run, key) with numbers only; the run and key columns are rebuilt
        from the group counts as dictionary arrays, so no Python string is made per point (this
        is most of the import's speed).
        """
        nan_col = "is_nan" if "is_nan" in self._columns("metrics") else "0"
        groups = self.con.execute(
            "SELECT run_uuid, key, count(*) FROM metrics GROUP BY run_uuid, key ORDER BY run_uuid, key"
        ).fetchall()
        if run_ids is not None:
            wanted = [g for g in groups if g[0] in run_ids]
            if len(wanted) < len(groups):
                for run_id in sorted({g[0] for g in wanted}):
                    yield from self._scan(
                        [g for g in wanted if g[0] == run_id],
                        f"SELECT step, timestamp, value, {nan_col} FROM metrics WHERE run_uuid = ? ORDER BY key",
                        (run_id,),
                    )
                return
        yield from self._scan(
            groups, f"SELECT step, timestamp, value, {nan_col} FROM metrics ORDER BY run_uuid, key", ()
        )

    def _scan(self, groups: list[tuple[str, str, int]], sql: str, args: tuple) -> Iterator[pa.Table]:
        runs = sorted({g[0] for g in groups})
        keys = sorted({g[1] for g in groups})
        run_index = {r: i for i, r in enumerate(runs)}
        key_index = {k: i for i, k in enumerate(keys)}
        run_dict = pa.array(runs, pa.string())
        key_dict = pa.array(keys, pa.string())
        cur = self.con.execute(sql, args)
        pending = iter(groups)
        group: tuple[str, str, int] | None = None
        left = 0
        while True:
            rows = cur.fetchmany(BATCH)
            if not rows:
                return
            run_idx: list[int] = []
            key_idx: list[int] = []
            need = len(rows)
            while need:
                if left == 0:
                    group = next(pending)
                    left = group[2]
                take = min(left, need)
                assert group is not None
                run_idx += [run_index[group[0]]] * take
                key_idx += [key_index[group[1]]] * take
                left -= take
                need -= take
            step, ts, value, is_nan = zip(*rows)
            values = pc.if_else(
                pc.cast(pa.array(is_nan, pa.int64()), pa.bool_()),
                float("nan"),
                pa.array(value, pa.float64()),
            )
            yield pa.table(
                [
                    pa.DictionaryArray.from_arrays(pa.array(run_idx, pa.int32()), run_dict).cast(pa.string()),
                    pa.DictionaryArray.from_arrays(pa.array(key_idx, pa.int32()), key_dict).cast(pa.string()),
                    pa.array(step, pa.int64()),
                    pa.array(ts, pa.int64()),
                    values,
                ],
                schema=POINTS_SCHEMA,
            )

    def models(self) -> list[SourceModel]:
        if "registered_models" not in self.tables:
            return []
        models = {
            r["name"]: SourceModel(r["name"], r["creation_time"], r["last_updated_time"], r["description"] or "")
            for r in self._rows("SELECT * FROM registered_models ORDER BY creation_time, name")
        }
        if "registered_model_tags" in self.tables:
            for r in self._rows("SELECT name, key, value FROM registered_model_tags"):
                if r["name"] in models:
                    models[r["name"]].tags[r["key"]] = r["value"] or ""
        if "registered_model_aliases" in self.tables:
            for r in self._rows("SELECT name, alias, version FROM registered_model_aliases"):
                if r["name"] in models:
                    models[r["name"]].aliases[r["alias"]] = int(r["version"])
        version_tags: dict[tuple[str, int], dict[str, str]] = {}
        if "model_version_tags" in self.tables:
            for r in self._rows("SELECT name, version, key, value FROM model_version_tags"):
                version_tags.setdefault((r["name"], int(r["version"])), {})[r["key"]] = r["value"] or ""
        if "model_versions" in self.tables:
            for r in self._rows("SELECT * FROM model_versions ORDER BY name, version"):
                if r["name"] not in models:
                    continue
                if r["current_stage"] == "Deleted_Internal":
                    self.skipped.append(Skipped(f"model {r['name']} version {r['version']}", "deleted in MLflow"))
                    continue
                models[r["name"]].versions.append(
                    SourceVersion(
                        version=int(r["version"]),
                        creation_time=r["creation_time"],
                        last_updated_time=r["last_updated_time"],
                        description=r["description"] or "",
                        user_id=r["user_id"] or "",
                        current_stage=r["current_stage"] or "None",
                        source=r["source"] or "",
                        run_id=r["run_id"] or None,
                        tags=version_tags.get((r["name"], int(r["version"])), {}),
                    )
                )
        return list(models.values())

    def close(self) -> None:
        self.con.close()
