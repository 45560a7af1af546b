"""``mltui doctor``'s checks of the model registry (for ``store.doctor.CHECKS``).

A damaged event file is left out by readers (with a warning), which can change what the registry
says; the doctor names it and ``--fix`` moves it to ``<store>/quarantine/`` like any other table's.
A version whose run is no longer in the store, or whose model folder is gone, can no longer be
loaded or served: the doctor names it, and leaves it (the registry's history is never rewritten).
``Finding`` is imported when the check runs, so ``store.doctor`` can import this module at its top.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from store import compaction, uris
from store.errors import NotFound
from store.registry_store import event_files, load_state, read_events

if TYPE_CHECKING:
    from store.doctor import Finding


def check_registry_files(root: Path) -> list[Finding]:
    """Every registry event file reads whole with the event columns."""
    from store.doctor import Finding

    findings = []
    for path in event_files(root):
        if read_events(path) is not None:
            continue
        reason = "unreadable registry event file; the registry is read without it"

        def fix(path: Path = path) -> str:
            dest = compaction.quarantine(root, path, reason)
            return f"moved to {dest.relative_to(root)}"

        findings.append(Finding("damaged", path, reason, fix))
    return findings


def check_registry_versions(root: Path) -> list[Finding]:
    """Every model version's run is in the store and its source (the model folder) exists."""
    from store.client import Client
    from store.doctor import Finding

    versions = [v for by_number in load_state(root).versions.values() for v in by_number.values()]
    if not versions:
        return []
    client = Client(root)
    known = {run.info.run_id for run in client.get_runs(sorted({v.run_id for v in versions if v.run_id}))}
    findings = []
    for v in sorted(versions, key=lambda v: (v.name, v.version)):
        label = f"model {v.name!r} version {v.version}"
        if v.run_id and v.run_id not in known:
            findings.append(Finding("registry", None, f"{label} comes from run {v.run_id}, which is not in the store"))
            continue
        try:
            uris.resolve(client, v.source)
        except NotFound as exc:
            findings.append(Finding("registry", None, f"{label} cannot be loaded: {exc}"))
    return findings
