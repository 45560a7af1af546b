"""``mltui doctor``'s check of the model registry's event files (for ``store.doctor.CHECKS``).

A damaged event file is left out by readers (with a warning), which can change what the registry
says; the doctor names it and ``--fix`` moves it to ``<store>/quarantine/`` like any other table's.
``Finding`` is imported when the check runs, so ``store.doctor`` can import this module at its top.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from store import compaction
from store.registry_store import event_files, read_events

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
