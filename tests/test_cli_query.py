"""`mltui query / experiments / runs show / diff`: exact output, exports, exit statuses."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

sys.path.insert(0, str(Path(__file__).parent / "store"))
from test_query_helpers import build_store  # noqa: E402


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("cli") / "mlstore"
    return root, build_store(root)


def run_cli(root: Path, *args: str) -> tuple[int, str, str]:
    """The real entry point on the store at ``root``: (status, stdout, stderr)."""
    with CliRunner().isolation() as (out, err, _):
        try:
            main(["--store", str(root), *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        return code, out.getvalue().decode(), err.getvalue().decode()


@pytest.fixture
def mltui(built: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Run the real entry point on the built store (local time = UTC); (status, stdout, stderr)."""
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()

    yield lambda *args: run_cli(built[0], *args)
    monkeypatch.delenv("TZ")
    time.tzset()


def test_query_prints_a_plain_table_when_piped(mltui) -> None:  # noqa: ANN001
    """The table format is plain aligned text in a pipe, newest run first."""
    code, out, err = mltui("query", "accuracy > 0.9", "--columns", "run_name,accuracy,lr,status")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "run_name  accuracy  lr     status",
        "cifar-1   0.99      0.001  FINISHED",
        "inf-run   0.95      auto   KILLED",
        "adam-1    0.92      0.01   FINISHED",
    ]


def test_query_default_columns(mltui, built) -> None:  # noqa: ANN001
    """Without --columns: run, id, status, start, duration, then what varies."""
    _, ids = built
    code, out, _ = mltui("query", "experiment = 'mnist' AND accuracy >= 0.92", "--sort", "run_name")
    assert code == 0
    assert out.splitlines() == [
        "run_name  id        status    start_time        duration  accuracy  loss  layers  lr    optimizer  team",
        f"adam-1    {ids['adam-1'][:8]}  FINISHED  2026-09-21 14:13  1h00m     0.92      0.2   3       0.01  adam       vision",
        f"inf-run   {ids['inf-run'][:8]}  KILLED    2026-09-21 17:13  1h00m     0.95      inf           auto  SGD",
    ]


def test_query_sort_limit_and_experiment(mltui) -> None:  # noqa: ANN001
    """--sort KEY:desc, --limit and -x narrow and order the runs."""
    code, out, _ = mltui("query", "--sort", "accuracy:desc", "--limit", "2", "-x", "mnist", "--columns", "run_name")
    assert (code, out) == (0, "run_name\ninf-run\nadam-1\n")


def test_query_json_and_csv(mltui) -> None:  # noqa: ANN001
    """--format json prints strict JSON of DESIGN.md's shape; csv has a header row."""
    code, out, _ = mltui("query", "run_name = 'nan-run'", "--format", "json")
    data = json.loads(out, parse_constant=lambda c: pytest.fail(f"bare {c}"))
    assert code == 0 and data[0]["metrics"] == {"accuracy": "NaN", "loss": "NaN"}
    code, out, _ = mltui("query", "run_name = 'adam-1'", "--format", "csv", "--columns", "run_name,accuracy")
    assert (code, out) == (0, "run_name,metrics.accuracy\nadam-1,0.92\n")


def test_query_writes_files_by_suffix(mltui, tmp_path: Path) -> None:  # noqa: ANN001
    """-o report.html writes a self-contained page and says so on stderr."""
    target = tmp_path / "report.html"
    code, out, err = mltui("query", "accuracy > 0.9", "-o", str(target))
    assert (code, out, err) == (0, "", f"wrote 3 runs to {target}\n")
    assert target.read_text().startswith("<!DOCTYPE html>")
    code, _, err = mltui("query", "-o", str(tmp_path / "x.txt"))
    assert code == 2 and "cannot tell the format" in err


def test_expect_gates_a_pipeline(mltui) -> None:  # noqa: ANN001
    """--expect N / N+ exits 1 with one line when the count is not as expected."""
    assert mltui("query", "accuracy > 0.9", "--expect", "3", "--columns", "run_name")[0] == 0
    assert mltui("query", "accuracy > 0.9", "--expect", "2+", "--columns", "run_name")[0] == 0
    code, _, err = mltui("query", "accuracy > 0.999", "--expect", "1+")
    assert (code, err) == (1, "no runs match\nexpected 1+ runs, 0 runs matched\n")
    code, _, err = mltui("query", "accuracy > 0.9", "--expect", "2", "--format", "json")
    assert (code, err) == (1, "expected 2 runs, 3 runs matched\n")
    assert mltui("query", "--expect", "many")[0] == 2


def test_explain_prints_sql_and_bound_values(mltui) -> None:  # noqa: ANN001
    """--explain shows the compiled SQL with placeholders and the values bound to them."""
    code, out, _ = mltui("query", "accuracy > 0.9", "--explain")
    assert code == 0
    assert out.splitlines()[3] == (
        "  AND EXISTS (SELECT 1 FROM metric_summaries m WHERE m.run_id = r.run_id AND m.key = ? "
        "AND coalesce((NOT isnan(m.last_value) AND m.last_value > ?), false))"
    )
    assert out.splitlines()[-1] == "-- bound values: ['active'], None, None, 'accuracy', 0.9, None"


def test_bad_queries_exit_2_with_one_clear_message(mltui) -> None:  # noqa: ANN001
    """Syntax errors draw a caret; unknown names suggest; no traceback."""
    assert mltui("query", "accuracy >") == (
        2, "",
        "Error: syntax error: unexpected end of the query; expected one of: a number, a 'string', "
        "a duration (2h), true, false\n  accuracy >\n            ^\n",
    )
    assert mltui("query", "acuracy > 0.9") == (
        2, "", "Error: unknown name 'acuracy' (did you mean accuracy?)\n  acuracy > 0.9\n  ^\n"
    )
    code, _, err = mltui("query", "-x", "mnsit")
    assert (code, err) == (1, "Error: no experiment named or numbered 'mnsit' (did you mean mnist?)\n")


def test_experiments_lists_run_counts(mltui) -> None:  # noqa: ANN001
    """mltui experiments: one line per experiment with its number of runs."""
    code, out, _ = mltui("experiments")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "id  name   runs  running  last run"
    assert [line.split()[1:3] for line in lines[1:]] == [["cifar", "1"], ["mnist", "5"]]


def test_runs_show(mltui, built) -> None:  # noqa: ANN001
    """runs show: facts, params, metric summaries, tags; by name or id prefix."""
    _, ids = built
    code, out, _ = mltui("runs", "show", "adam-1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"run         adam-1  {ids['adam-1']}"
    assert "duration    1h00m" in lines
    assert lines[lines.index("metrics") + 1 :][:3] == [
        "key       last  min  max   steps  last step",
        "accuracy  0.92  0.5  0.92  3      2",
        "loss      0.2   0.2  1     3      2",
    ]
    assert mltui("runs", "show", ids["adam-1"][:6])[1] == out
    code, out, _ = mltui("runs", "show", "nan-run", "--format", "json")
    assert json.loads(out)["metric_summaries"]["accuracy"] == {"last": "NaN", "last_step": 1, "min": 0.3, "max": 0.3, "count": 2}
    assert mltui("runs", "show", "nope") == (1, "", "Error: no run with id, id prefix or name 'nope'\n")


def test_runs_show_gives_a_crashed_run_the_duration_of_the_runs_table(store_path: Path) -> None:
    """A crashed run has no end: it ran until its last heartbeat, in runs show as in query."""
    from test_faults_helpers import crashed_run

    from store import Client

    run_id = crashed_run(store_path, Client(store_path).create_experiment("crashes"), 7_000)
    shown = json.loads(run_cli(store_path, "runs", "show", run_id, "--format", "json")[1])
    (listed,) = csv.DictReader(io.StringIO(run_cli(store_path, "query", "", "--format", "csv")[1]))
    assert shown["status"] == listed["status"] == "CRASHED"
    assert shown["end_time"] is None
    assert abs(shown["duration"] - 7_000) <= 1
    assert shown["duration"] == int(listed["duration"])
    assert "duration    7s" in run_cli(store_path, "runs", "show", run_id)[1].splitlines()


def test_diff_side_by_side(mltui) -> None:  # noqa: ANN001
    """diff: differing params, metrics (with deltas) and tags; --all adds equal rows."""
    code, out, _ = mltui("diff", "adam-1", "sgd-1")
    assert code == 0
    assert out.splitlines() == [
        "         key        adam-1 (baseline)  sgd-1",
        "params   layers     3                  2",
        "params   lr         0.01               0.1",
        "params   optimizer  adam               sgd",
        "metrics  accuracy   0.92               0.85 -0.07 (-7.6%)",
        "metrics  loss       0.2                0.4 +0.2 (+100.0%)",
    ]
    assert "tags     team" in mltui("diff", "adam-1", "sgd-1", "--all")[1]


def test_diff_exports_and_errors(mltui, tmp_path: Path) -> None:  # noqa: ANN001
    """diff -o file.md writes Markdown; a single run is a usage error."""
    target = tmp_path / "diff.md"
    code, _, err = mltui("diff", "adam-1", "sgd-1", "failed", "-o", str(target))
    assert (code, err) == (0, f"wrote the diff of 3 runs to {target}\n")
    assert target.read_text().startswith("| section | key | adam-1 (baseline) | sgd-1 | failed |")
    assert mltui("diff", "adam-1")[0] == 2


def test_ambiguous_run_name_lists_the_candidates(tmp_path: Path) -> None:
    """A run name two runs share is a usage error naming both, for runs show and diff alike."""
    import store

    root = tmp_path / "twins"
    client = store.Client(root)
    for _ in range(2):
        client.set_terminated(client.create_run(run_name="twin").info.run_id)
    client.flush()
    for args in (["runs", "show", "twin"], ["diff", "twin", "twin"]):
        with CliRunner().isolation() as (_, err, _):
            with pytest.raises(SystemExit) as info:
                main(["--store", str(root), *args])
            assert info.value.code == 2
            assert err.getvalue().decode().startswith("Error: 'twin' matches 2 runs: ")


def test_store_may_follow_the_command(built: tuple[Path, dict[str, str]]) -> None:
    """`mltui query X --store S` reads S, as `mltui --store S query X` does."""
    outputs = []
    for args in (["--store", str(built[0]), "query", "accuracy > 0.9"], ["query", "accuracy > 0.9", "--store", str(built[0])]):
        with CliRunner().isolation() as (out, err, _):
            main([*args, "--format", "csv"])
            outputs.append(out.getvalue().decode())
    assert outputs[0] == outputs[1] and outputs[0].count("\n") > 1


def test_reading_a_folder_that_holds_no_store_says_so(mltui, tmp_path: Path) -> None:  # noqa: ANN001
    """A mistyped --store is named, not read as an empty store (no runs, unknown names)."""
    missing = tmp_path / "mlstroe"
    for command in (["query", "accuracy > 0.9"], ["experiments"], ["runs", "show", "abc"], ["diff", "a", "b"]):
        code, out, err = mltui("--store", str(missing), *command)
        assert (code, out) == (1, "") and f"no mltui store at {missing}" in err
    assert not missing.exists()
