#!/usr/bin/env bash
# Make benchmarks/.venv-mlflow: a venv holding the real MLflow 3.x and this project,
# so that one interpreter measures both tools in the same run.
# pip warns that MLflow 3.17 pins pyarrow<26 while mltui needs pyarrow>=26; MLflow's tracking
# client on SQLite, all the benchmarks use of it, works with pyarrow 26.
# mltui goes in as a regular install, not an editable one: an editable install adds an import
# hook that every Python start in the venv pays for (~15 ms), which no user's install has. The
# scripts themselves import the source tree (they put it first on sys.path).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
venv="$here/.venv-mlflow"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "mlflow>=3,<4"
"$venv/bin/python" -m pip install --quiet "$root"
"$venv/bin/python" -c "import mlflow, store; print('mlflow', mlflow.__version__, 'and mltui ready in', '$venv')"
