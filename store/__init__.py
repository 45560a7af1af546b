"""mltui's store and its Python tracking API, with MLflow's fluent names.

Porting a training script is changing one import::

    import store as mlflow

    mlflow.set_experiment("random_forest_tuning")
    with mlflow.start_run():
        mlflow.log_param("n_estimators", 100)
        mlflow.log_metric("accuracy", 0.93, step=10)

This package never imports textual, click or rich: it is the headless core the CLI and the
dashboard are built on.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives. Imported on first use (PEP 562), so that `import store.errors`
# (the CLI's first import) does not pay for the whole tracking stack, while
# `mlflow.log_metric` costs a plain attribute lookup after its first use.
_EXPORTS: dict[str, tuple[str, str]] = {
    "ActiveRun": ("store.fluent", "ActiveRun"),
    "AmbiguousName": ("store.errors", "AmbiguousName"),
    "Client": ("store.client", "Client"),
    "Experiment": ("store.entities", "Experiment"),
    "FileInfo": ("store.artifacts", "FileInfo"),
    "LifecycleStage": ("store.entities", "LifecycleStage"),
    "Metric": ("store.entities", "Metric"),
    "MetricSummary": ("store.entities", "MetricSummary"),
    "MlflowClient": ("store.client", "Client"),
    "MltuiError": ("store.errors", "MltuiError"),
    "ModelVersion": ("store.registry_entities", "ModelVersion"),
    "NotFound": ("store.errors", "NotFound"),
    "Param": ("store.entities", "Param"),
    "RegisteredModel": ("store.registry_entities", "RegisteredModel"),
    "RegistryEvent": ("store.registry_entities", "RegistryEvent"),
    "QueryError": ("store.errors", "QueryError"),
    "Run": ("store.entities", "Run"),
    "RunData": ("store.entities", "RunData"),
    "RunInfo": ("store.entities", "RunInfo"),
    "RunStatus": ("store.entities", "RunStatus"),
    "RunTag": ("store.entities", "RunTag"),
    "Stage": ("store.registry_entities", "Stage"),
    "StoreFormatError": ("store.errors", "StoreFormatError"),
    "ValidationError": ("store.errors", "ValidationError"),
    "ViewType": ("store.entities", "ViewType"),
    "active_run": ("store.fluent", "active_run"),
    "create_experiment": ("store.fluent", "create_experiment"),
    "delete_experiment": ("store.fluent", "delete_experiment"),
    "delete_run": ("store.fluent", "delete_run"),
    "delete_tag": ("store.fluent", "delete_tag"),
    "end_run": ("store.fluent", "end_run"),
    "flush": ("store.fluent", "flush"),
    "get_artifact_uri": ("store.fluent", "get_artifact_uri"),
    "get_experiment": ("store.fluent", "get_experiment"),
    "get_experiment_by_name": ("store.fluent", "get_experiment_by_name"),
    "get_run": ("store.fluent", "get_run"),
    "get_tracking_uri": ("store.fluent", "get_tracking_uri"),
    "last_active_run": ("store.fluent", "last_active_run"),
    "log_artifact": ("store.fluent", "log_artifact"),
    "log_artifacts": ("store.fluent", "log_artifacts"),
    "log_dict": ("store.fluent", "log_dict"),
    "log_metric": ("store.fluent", "log_metric"),
    "log_metrics": ("store.fluent", "log_metrics"),
    "log_param": ("store.fluent", "log_param"),
    "log_params": ("store.fluent", "log_params"),
    "log_text": ("store.fluent", "log_text"),
    "register_model": ("store.registry_fluent", "register_model"),
    "search_experiments": ("store.fluent", "search_experiments"),
    "search_runs": ("store.fluent", "search_runs"),
    "set_experiment": ("store.fluent", "set_experiment"),
    "set_tag": ("store.fluent", "set_tag"),
    "set_tags": ("store.fluent", "set_tags"),
    "set_tracking_uri": ("store.fluent", "set_tracking_uri"),
    "start_run": ("store.fluent", "start_run"),
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from store.fluent import ActiveRun, active_run, create_experiment, delete_experiment, delete_run, delete_tag, end_run, flush, get_artifact_uri, get_experiment, get_experiment_by_name, get_run, get_tracking_uri, last_active_run, log_artifact, log_artifacts, log_dict, log_metric, log_metrics, log_param, log_params, log_text, search_experiments, search_runs, set_experiment, set_tag, set_tags, set_tracking_uri, start_run
    from store.errors import AmbiguousName, MltuiError, NotFound, QueryError, StoreFormatError, ValidationError
    from store.client import Client
    from store.entities import Experiment, LifecycleStage, Metric, MetricSummary, Param, Run, RunData, RunInfo, RunStatus, RunTag, ViewType
    from store.artifacts import FileInfo
    from store.registry_entities import ModelVersion, RegisteredModel, RegistryEvent, Stage
    from store.registry_fluent import register_model
    from store.client import Client as MlflowClient


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'store' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
