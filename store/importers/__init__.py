"""Bringing MLflow's history over: SQLite databases and ``mlruns/`` folders, read directly.

MLflow itself is never imported. A source (``mlflow_db``, ``mlflow_dir``) yields neutral records
(``records``); ``loader`` compares them with what the store already holds and writes only what is
new or changed, so importing the same source twice adds nothing and importing it again later adds
just the new runs and points.
"""

from __future__ import annotations

from store.importers.loader import ImportSummary, import_mlflow

__all__ = ["ImportSummary", "import_mlflow"]
