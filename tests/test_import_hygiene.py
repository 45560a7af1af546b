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


def _query(store_path: Path, *args: str) -> tuple[str, list[str]]:
    """A fresh `mltui query` process's output, and which of the heavy libraries it loaded."""
    return _command(store_path, "query", *args)


def _command(store_path: Path, *args: str) -> tuple[str, list[str]]:
    """A fresh `mltui` process's output, and which of the heavy libraries it loaded."""
    code = (
        "import json, sys; from cli import main\n"
        f"try:\n    main(['--store', {str(store_path)!r}, *{list(args)!r}])\n"
        "except SystemExit:\n    pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pyarrow', 'pandas', 'numpy', 'rich', 'textual', 'duckdb'})), file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout, json.loads(out.stderr.strip().splitlines()[-1])


def test_query_command_loads_no_arrow_pandas_or_rich(tmp_path: Path) -> None:
    """`mltui query` in a pipe starts lean: pyarrow (and the pandas and numpy it drags in) and
    rich cost a cold command more than the query itself, and it needs none of them."""
    import store

    client = store.Client(tmp_path / "mlstore")
    run = client.create_run(run_name="lean").info.run_id
    client.log_metric(run, "accuracy", 0.95)
    client.set_terminated(run)
    client.flush()
    out, loaded = _query(tmp_path / "mlstore", "accuracy > 0.9", "--format", "csv")
    assert "lean" in out
    assert loaded == ["duckdb"]


def test_query_on_a_compacted_store_loads_no_duckdb(tmp_path: Path) -> None:
    """After `mltui compact`, `mltui query` (experiment names included) answers from the runs it
    saved without importing DuckDB (60-95 ms of a cold command), and prints what DuckDB prints
    once they are gone."""
    import store
    from store import run_index_file
    from store.compaction import compact

    root = tmp_path / "mlstore"
    client = store.Client(root)
    elsewhere = client.create_run(run_name="elsewhere").info.run_id  # the default experiment: not in -x
    client.log_metric(elsewhere, "accuracy", 0.99)
    client.set_terminated(elsewhere)
    vision = client.create_experiment("vision")
    for i in range(6):
        run = client.create_run(vision, run_name=f"run-{i}").info.run_id
        client.log_param(run, "lr", str(0.1 * i))
        client.set_tag(run, "team", "vision" if i % 2 else "nlp")
        client.log_metric(run, "accuracy", 0.8 + i / 50)
        client.set_terminated(run, "FINISHED" if i != 3 else "FAILED")
    client.flush()
    compact(root)
    args = ("accuracy > 0.83 AND status != 'FAILED'", "-x", "vision", "--sort", "lr:desc", "--format", "json")
    saved, loaded = _query(root, *args)
    assert loaded == []
    assert [r["run_name"] for r in json.loads(saved)] == ["run-5", "run-4", "run-2"]
    run_index_file.path_of(root).unlink()
    read, loaded = _query(root, *args)
    assert loaded == ["duckdb"]
    assert read == saved
    assert not run_index_file.path_of(root).exists()  # a one-shot command reads the runs once, saves none


def test_histories_in_several_merged_files_are_listed_without_a_parquet_reader(tmp_path: Path) -> None:
    """Histories too large to merge again stay in several merged files, whose footers a listing
    reads to leave out what they replace. After `mltui compact`, the names it saved say they
    were seen together: `mltui query` reads no footer and loads neither DuckDB nor pyarrow. A
    merged file appearing beside them (a compaction killed before deleting its inputs) gets
    the footers read again, and the inputs it holds are left out: no point is read twice."""
    import shutil

    import store
    from store import compaction, run_index
    from store.layout import table_dir
    from store.listing import visible_files
    from store.reader import Snapshot

    root = tmp_path / "mlstore"
    client = store.Client(root)
    run = client.create_run(run_name="long").info.run_id
    for step in range(4):  # four flushes: four files of points
        client.log_metric(run, "accuracy", 0.9 + step / 100, step=step)
        client.flush()
    client.set_terminated(run)
    client.flush()
    directory = table_dir(root, "metrics", "0")
    first, second = [visible_files(directory)[i : i + 2] for i in (0, 2)]
    merged = []
    for inputs in (first, second):
        merged.append(compaction.merged_name(directory))
        assert compaction.merge_files(root, "metrics", "0", inputs, merged[-1])
    run_index.save_index(root)  # what `mltui compact` ends with, the two merged files left as they are
    out, loaded = _query(root, "accuracy > 0.9", "--format", "csv")
    assert loaded == [] and "long" in out
    aside = tmp_path / "aside"
    aside.mkdir()
    for f in merged:
        shutil.copy2(f, aside / f.name)
    assert compaction.merge_files(root, "metrics", "0", merged, compaction.merged_name(directory))
    for f in merged:  # the killed compaction's inputs, still there beside its output
        shutil.copy2(aside / f.name, f)
    with Snapshot(root) as snap:
        assert [f.name for f in snap.files["metrics"]] not in ([m.name for m in merged], [])
        assert len(snap.files["metrics"]) == 1
    assert [m.step for m in client.get_metric_history(run, "accuracy")] == [0, 1, 2, 3]


def test_commands_that_only_read_runs_load_no_arrow(tmp_path: Path) -> None:
    """`mltui experiments`, `runs show` and `diff` only read: importing pyarrow (and the pandas
    and numpy it drags in) would be ~0.2 s of each."""
    import store

    client = store.Client(tmp_path / "mlstore")
    runs = []
    for name in ("alpha", "beta"):  # never a run id's prefix (a hex "a" may be: ambiguous)
        run = client.create_run(run_name=name).info.run_id
        client.log_param(run, "lr", name)
        client.log_metric(run, "accuracy", 0.9)
        client.set_terminated(run)
        runs.append(run)
    client.flush()
    for args in (["experiments"], ["runs", "show", "alpha", "--format", "json"], ["diff", *runs, "--format", "json"]):
        out, loaded = _command(tmp_path / "mlstore", *args)
        assert "pyarrow" not in loaded and out, args
    shown, _ = _command(tmp_path / "mlstore", "runs", "show", "alpha", "--format", "json")
    assert json.loads(shown)["params"] == {"lr": "alpha"}
