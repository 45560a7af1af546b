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

from store.artifacts import FileInfo
from store.client import Client
from store.entities import (
    Experiment,
    LifecycleStage,
    Metric,
    MetricSummary,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from store.errors import (
    AmbiguousName,
    MltuiError,
    NotFound,
    QueryError,
    StoreFormatError,
    ValidationError,
)
from store.registry_entities import ModelVersion, RegisteredModel, RegistryEvent, Stage
from store.registry_fluent import register_model
from store.fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    delete_experiment,
    delete_run,
    delete_tag,
    end_run,
    flush,
    get_artifact_uri,
    get_experiment,
    get_experiment_by_name,
    get_run,
    get_tracking_uri,
    last_active_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_text,
    search_experiments,
    search_runs,
    set_experiment,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)

MlflowClient = Client

__all__ = [
    "ActiveRun",
    "AmbiguousName",
    "Client",
    "Experiment",
    "FileInfo",
    "LifecycleStage",
    "Metric",
    "MetricSummary",
    "MlflowClient",
    "MltuiError",
    "ModelVersion",
    "NotFound",
    "Param",
    "RegisteredModel",
    "RegistryEvent",
    "QueryError",
    "Run",
    "RunData",
    "RunInfo",
    "RunStatus",
    "RunTag",
    "Stage",
    "StoreFormatError",
    "ValidationError",
    "ViewType",
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
    "flush",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
