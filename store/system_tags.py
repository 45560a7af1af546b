"""The tags a run records about where it came from: user, source file, git state.

MLflow records the commit but not whether the tree was dirty; a dirty tree is exactly when a
result cannot be reproduced from the commit, so mltui records ``mltui.git.dirty`` too.
"""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path


def user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "unknown")


def source_name() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path:
        return str(Path(path).resolve())
    return sys.argv[0] if sys.argv and sys.argv[0] else "<interactive>"


def _git(cwd: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(cwd), *args],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@lru_cache(maxsize=8)
def git_tags(source: str) -> dict[str, str]:
    """Commit, branch, remote and dirty state of the repository holding ``source``, if any."""
    path = Path(source)
    cwd = path.parent if path.suffix else Path.cwd()
    if not cwd.is_dir():
        cwd = Path.cwd()
    commit = _git(cwd, "rev-parse", "HEAD")
    if not commit:
        return {}
    tags = {"mlflow.source.git.commit": commit}
    branch = _git(cwd, "rev-parse", "--abbrev-ref", "HEAD")
    if branch and branch != "HEAD":
        tags["mlflow.source.git.branch"] = branch
    remote = _git(cwd, "config", "--get", "remote.origin.url")
    if remote:
        tags["mlflow.source.git.repoURL"] = remote
    status = _git(cwd, "status", "--porcelain", "--untracked-files=no")
    if status is not None:
        tags["mltui.git.dirty"] = "true" if status else "false"
    return tags


def run_tags() -> dict[str, str]:
    source = source_name()
    return {
        "mlflow.user": user(),
        "mlflow.source.name": source,
        "mlflow.source.type": "LOCAL",
        **git_tags(source),
    }
