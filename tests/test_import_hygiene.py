"""The store stays headless: importing it never pulls in the UI or CLI libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_store_imports_no_ui_libraries() -> None:
    """A training script that imports store pays for no textual, click or rich import."""
    code = (
        "import json, sys, store; store.Client; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'click', 'rich', 'tui', 'cli', 'plotext'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def test_store_sources_import_no_ui_libraries() -> None:
    """No module under store/ even mentions an import of the UI or CLI layers."""
    offenders = []
    for path in (ROOT / "store").rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.strip().split()
            if len(words) >= 2 and words[0] in ("import", "from"):
                top = words[1].split(".")[0]
                if top in ("textual", "click", "rich", "tui", "cli"):
                    offenders.append(f"{path.name}: {line.strip()}")
    assert offenders == []


def test_query_command_loads_no_arrow_pandas_or_rich(tmp_path: Path) -> None:
    """`mltui query` in a pipe starts lean: pyarrow (and the pandas and numpy it drags in) and
    rich cost a cold command more than the query itself, and it needs none of them."""
    import store

    client = store.Client(tmp_path / "mlstore")
    run = client.create_run(run_name="lean").info.run_id
    client.log_metric(run, "accuracy", 0.95)
    client.set_terminated(run)
    client.flush()
    code = (
        "import json, sys; from cli import main\n"
        f"try:\n    main(['--store', {str(tmp_path / 'mlstore')!r}, 'query', 'accuracy > 0.9', '--format', 'csv'])\n"
        "except SystemExit:\n    pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pyarrow', 'pandas', 'numpy', 'rich', 'textual'))), file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "lean" in out.stdout
    assert json.loads(out.stderr.strip().splitlines()[-1]) == []
