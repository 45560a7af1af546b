"""MLflow's fluent API: module-level functions acting on the active run.

``import store as mlflow`` is meant to be the only change a training script needs. Where MLflow's
statuses lie, these tell the truth: an exception inside ``with start_run()`` (or one that ends the
script outside any ``with``) gives FAILED, Ctrl-C and SIGTERM give KILLED, and a process that
vanishes shows as CRASHED (see ``liveness``).
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from time import time_ns as _time_ns
from pathlib import Path
from types import TracebackType
from typing import Any

from store import system_tags
from store.client import Client, RunState
from store.entities import Experiment, Run, RunInfo, RunStatus, ViewType
from store.errors import MltuiError, NotFound, ValidationError
from store.validation import _valid_keys
from store.writer import MAX_BUFFERED_POINTS

_tracking_uri: str | None = None
_client: Client | None = None
_experiment_id: str | None = None
_active: list[ActiveRun] = []
_last_run_id: str | None = None
_uncaught: list[BaseException] = []
_signals_installed = False


class ActiveRun(Run):
    """The run ``start_run`` returns; ``with`` ends it with a status that says how it ended."""

    def __init__(self, run: Run, state: RunState) -> None:
        super().__init__(run.info, run.data)
        object.__setattr__(self, "_owner_pid", os.getpid())
        object.__setattr__(self, "_state", state)
        object.__setattr__(self, "_buffer", state.buffer)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        elif issubclass(exc_type, SystemExit):
            code = exc.code if isinstance(exc, SystemExit) else None
            status = RunStatus.FINISHED if code in (None, 0) else RunStatus.FAILED
        else:
            status = RunStatus.FAILED
        if any(r.info.run_id == self.info.run_id for r in _active):
            end_run(status.value, _run_id=self.info.run_id)


# ---------------------------------------------------------------- store location


def set_tracking_uri(uri: str | Path) -> None:
    """Use the store at ``uri`` (a folder path or ``file://`` URI) from now on."""
    global _tracking_uri, _client, _experiment_id
    _tracking_uri = str(uri)
    _client = Client(_tracking_uri)
    _experiment_id = None


def get_tracking_uri() -> str:
    return str(client().root)


def client() -> Client:
    """The Client of the current store (``set_tracking_uri``, else $MLTUI_STORE, else ./mlstore)."""
    global _client
    if _client is None:
        _client = Client(_tracking_uri)
    return _client


# ---------------------------------------------------------------- experiments


def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """Make an experiment active, creating it when the name is new."""
    global _experiment_id
    if (experiment_name is None) == (experiment_id is None):
        raise ValidationError("set_experiment takes exactly one of experiment_name or experiment_id")
    c = client()
    if experiment_id is not None:
        exp = c.get_experiment(str(experiment_id))
        if exp.lifecycle_stage == "deleted":
            raise ValidationError(f"experiment {exp.name!r} is deleted")
    else:
        exp = c.get_experiment(c.get_or_create_experiment(experiment_name))  # type: ignore[arg-type]
    _experiment_id = exp.experiment_id
    return exp


def create_experiment(name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None) -> str:
    return client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    return client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return client().get_experiment_by_name(name)


def search_experiments(view_type: ViewType = ViewType.ACTIVE_ONLY, max_results: int | None = None, order_by: list[str] | None = None) -> list[Experiment]:
    return client().search_experiments(view_type, max_results, order_by)


def delete_experiment(experiment_id: str) -> None:
    client().delete_experiment(experiment_id)


def _current_experiment_id() -> str:
    if _experiment_id is not None:
        return _experiment_id
    env_name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if env_name:
        return client().get_or_create_experiment(env_name)
    env_id = os.environ.get("MLFLOW_EXPERIMENT_ID")
    if env_id:
        return client().get_experiment(env_id).experiment_id
    return client().default_experiment_id()


# ---------------------------------------------------------------- runs


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start (or with ``run_id``, resume) a run and make it active; use it with ``with``."""
    del log_system_metrics  # accepted for MLflow compatibility; system metrics are not sampled
    global _last_run_id
    c = client()
    if _active and not nested:
        raise MltuiError(
            f"run {_active[-1].info.run_id} is already active; end it with end_run() or start "
            "the new run with nested=True"
        )
    run_id = run_id or os.environ.get("MLFLOW_RUN_ID") or None
    if run_id:
        run = c.resume_run(run_id)
        state = c._state(run.info.run_id)
        info = RunInfo(**{**run.info.__dict__, "status": RunStatus.RUNNING.value, "end_time": None})
        run = Run(info, run.data)
    else:
        all_tags = dict(system_tags.run_tags())
        all_tags.update(tags or {})
        parent = parent_run_id or (_active[-1].info.run_id if nested and _active else None)
        if parent:
            all_tags["mlflow.parentRunId"] = parent
        if description is not None:
            all_tags["mlflow.note.content"] = description
        exp_id = str(experiment_id) if experiment_id is not None else _current_experiment_id()
        run = c.create_run(exp_id, tags=all_tags, run_name=run_name)
        state = c._runs[run.info.run_id]
    active = ActiveRun(run, state)
    _active.append(active)
    _last_run_id = run.info.run_id
    _install_exit_handlers()
    return active


def end_run(status: str = "FINISHED", _run_id: str | None = None) -> None:
    """End the active run (the innermost one), writing everything it logged."""
    if not _active:
        return
    index = len(_active) - 1
    if _run_id is not None:
        index = next(i for i, r in enumerate(_active) if r.info.run_id == _run_id)
    run = _active.pop(index)
    client().set_terminated(run.info.run_id, status)


def active_run() -> ActiveRun | None:
    return _active[-1] if _active else None


def last_active_run() -> Run | None:
    if _active:
        return get_run(_active[-1].info.run_id)
    return get_run(_last_run_id) if _last_run_id else None


def get_run(run_id: str) -> Run:
    return client().get_run(run_id)


def delete_run(run_id: str) -> None:
    client().delete_run(run_id)


def _state() -> RunState:
    """The active run's writing state, starting a run as MLflow does when none is active."""
    if not _active:
        start_run()
    return _active[-1]._state  # type: ignore[attr-defined, no-any-return]


# ---------------------------------------------------------------- logging


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    client()._log_param(_state(), key, value)
    return value


def log_params(params: dict[str, Any], synchronous: bool | None = None, run_id: str | None = None) -> None:
    c = client()
    state = c._state(run_id) if run_id else _state()
    for key, value in params.items():
        c._log_param(state, key, value)


def log_metric(
    key: str,
    value: Any,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
) -> None:
    """Append one point; about a microsecond, written to disk by the background flush.

    The common call (a float at an int step, a key seen before, the active run) takes the short
    path below; everything else goes through the full validation of ``Client._log_metric``.
    """
    if run_id is None and _active:
        buffer = _active[-1]._buffer
        if (
            key in _valid_keys
            and type(value) is float
            and type(step) is int
            and -0x8000000000000000 <= step <= 0x7FFFFFFFFFFFFFFF
            and timestamp is None
        ):
            points = buffer.points
            points.append((key, value, step, _time_ns() // 1_000_000))
            if len(points) >= MAX_BUFFERED_POINTS:
                buffer.writer.wake()
            return
    else:
        buffer = (client()._state(run_id) if run_id else _state()).buffer
    Client._log_metric(buffer, key, value, step, timestamp)


def log_metrics(
    metrics: dict[str, Any],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
) -> None:
    buffer = (client()._state(run_id) if run_id else _state()).buffer
    for key, value in metrics.items():
        Client._log_metric(buffer, key, value, step, timestamp)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    client().set_tag(_state().run_id, key, value)


def set_tags(tags: dict[str, Any], synchronous: bool | None = None) -> None:
    run_id = _state().run_id
    c = client()
    for key, value in tags.items():
        c.set_tag(run_id, key, value)


def delete_tag(key: str) -> None:
    client().delete_tag(_state().run_id, key)


def log_artifact(local_path: str | Path, artifact_path: str | None = None, run_id: str | None = None) -> None:
    client().log_artifact(run_id or _state().run_id, local_path, artifact_path)


def log_artifacts(local_dir: str | Path, artifact_path: str | None = None, run_id: str | None = None) -> None:
    client().log_artifacts(run_id or _state().run_id, local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    client().log_text(run_id or _state().run_id, text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    client().log_dict(run_id or _state().run_id, dictionary, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    base = client().artifact_root(_state().run_id)
    return str(base / artifact_path) if artifact_path else str(base)


def flush() -> None:
    """Write everything logged so far now, rather than at the next background flush."""
    client().flush()


# ---------------------------------------------------------------- search


def search_runs(
    experiment_ids: list[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType = ViewType.ACTIVE_ONLY,
    max_results: int | None = 100_000,
    order_by: list[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: list[str] | None = None,
) -> Any:
    """Runs as a pandas DataFrame (MLflow's columns), or ``output_format="list"`` / ``"arrow"``."""
    c = client()
    if experiment_names:
        ids = []
        for name in experiment_names:
            exp = c.get_experiment_by_name(name)
            if exp is None:
                raise NotFound(f"no experiment named {name!r}")
            ids.append(exp.experiment_id)
        experiment_ids = (experiment_ids or []) + ids
    elif not experiment_ids and not search_all_experiments:
        experiment_ids = [_current_experiment_id()] if _experiment_id or _active else None
    runs = c.search_runs(experiment_ids, filter_string, run_view_type, max_results, order_by)
    if output_format == "list":
        return runs
    if output_format not in ("pandas", "arrow"):
        raise ValidationError(
            f"invalid output_format {output_format!r}: expected 'pandas', 'list' or 'arrow'"
        )
    from store.frames import runs_table

    table = runs_table(runs)
    if output_format == "arrow":
        return table
    try:
        import pandas  # noqa: F401
    except ImportError:
        raise MltuiError(
            "search_runs(output_format='pandas') needs pandas (pip install pandas); "
            "or pass output_format='list' or 'arrow'"
        ) from None
    return table.to_pandas()


# ---------------------------------------------------------------- ending honestly


def _end_all(status: RunStatus) -> None:
    """End every active run this process started (a forked child leaves its parent's alone)."""
    pid = os.getpid()
    while _active:
        run = _active[-1]
        if run._owner_pid != pid:  # type: ignore[attr-defined]
            _active.pop()
            continue
        try:
            end_run(status.value)
        except Exception:  # the process is ending: record what we can of every run
            _active.pop() if _active else None


def _at_exit() -> None:
    _end_all(RunStatus.FAILED if _uncaught else RunStatus.FINISHED)


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    _uncaught.append(exc)
    if _active:
        _end_all(RunStatus.KILLED if issubclass(exc_type, KeyboardInterrupt) else RunStatus.FAILED)
    _previous_excepthook(exc_type, exc, tb)


_previous_excepthook = sys.excepthook


def _on_sigterm(signum: int, frame: object) -> None:
    _end_all(RunStatus.KILLED)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_exit_handlers() -> None:
    """Once: end runs at exit, mark uncaught exceptions FAILED, and SIGTERM KILLED.

    The SIGTERM handler is only installed where nobody else installed one (a framework's own
    handler is left alone), and only from the main thread, where Python allows it.
    """
    global _signals_installed
    if _signals_installed:
        return
    _signals_installed = True
    atexit.register(_at_exit)
    if sys.excepthook is _previous_excepthook:
        sys.excepthook = _excepthook
    if threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _on_sigterm)


