"""Build the small store committed in sample_data/mlstore, so a newcomer has something to open.

    python sample_data/make_sample.py            # rebuilds sample_data/mlstore from scratch

Four experiments with the shapes people meet in practice: a learning-rate sweep whose trials are
nested under a parent run, a comparison of model families, a run that failed, one that was
killed, and one whose process vanished (shown as CRASHED); and a registered model with versions
in Production, Staging and Archived, an alias and its history. Curves are seeded noise around
realistic loss/accuracy shapes, timestamps spread over a few days, so sorting, plotting and diffs
all have something to show.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from store import Client, Metric, Param, liveness  # noqa: E402
from store.compaction import compact  # noqa: E402

START = 1_794_000_000_000  # 2026-11-06, in ms
STEP_MS = 1_500


def curves(rng: random.Random, steps: int, lr: float, capacity: float) -> dict[str, list[float]]:
    """Loss falls and accuracy rises at a speed set by lr, towards a floor set by capacity."""
    speed = min(lr * 40, 3.0)
    out: dict[str, list[float]] = {"train/loss": [], "val/loss": [], "val/accuracy": [], "lr": []}
    for s in range(steps):
        t = s / steps
        base = 2.3 * math.exp(-speed * 6 * t) + (1 - capacity) * 0.6 + 0.05
        overfit = max(0.0, t - 0.6) * (0.4 if lr > 0.05 else 0.1)
        out["train/loss"].append(base * (1 + rng.gauss(0, 0.04)))
        out["val/loss"].append((base + overfit) * (1 + rng.gauss(0, 0.06)))
        acc = capacity * (1 - math.exp(-speed * 5 * t)) - overfit / 3
        out["val/accuracy"].append(min(0.999, max(0.0, acc + rng.gauss(0, 0.01))))
        out["lr"].append(lr * 0.5 * (1 + math.cos(math.pi * t)))
    return out


class Builder:
    def __init__(self, root: Path) -> None:
        self.client = Client(root)
        self.rng = random.Random(7)
        self.clock = START

    def run(
        self,
        experiment_id: str,
        name: str,
        params: dict[str, object],
        steps: int,
        lr: float,
        capacity: float,
        status: str = "FINISHED",
        tags: dict[str, str] | None = None,
        stop_at: int | None = None,
    ) -> str:
        c = self.client
        run_id = "%032x" % self.rng.getrandbits(128)
        start = self.clock
        all_tags = {
            "mlflow.user": "ana",
            "mlflow.source.name": "train.py",
            "mlflow.source.type": "LOCAL",
            "mlflow.source.git.commit": "%040x" % self.rng.getrandbits(160),
            **(tags or {}),
        }
        c.create_run(experiment_id, start_time=start, tags=all_tags, run_name=name, run_id=run_id)
        series = curves(self.rng, steps, lr, capacity)
        last = stop_at if stop_at is not None else steps
        metrics = [
            Metric(key, values[s], start + s * STEP_MS, s)
            for key, values in series.items()
            for s in range(last)
        ]
        c.log_batch(run_id, metrics=metrics, params=[Param(k, str(v)) for k, v in params.items()])
        self.clock += last * STEP_MS + 600_000
        if status == "RUNNING":  # a process that vanished: never ended, no liveness file
            c.flush()
            liveness.release(c.root, run_id)
            c._runs.pop(run_id, None)
        else:
            c.set_terminated(run_id, status, end_time=start + last * STEP_MS)
        return run_id


def register_models(c: Client, run_ids: list[str]) -> None:
    """Three versions of one model, moved through the stages, with an alias and a history."""
    for run_id in run_ids:
        c.log_dict(run_id, {"architecture": "resnet18", "classes": 10}, "model/config.json")
    c.create_registered_model("cifar-resnet18", description="ResNet-18 on CIFAR-10", tags={"team": "vision"})
    for run_id in run_ids:
        c.create_model_version("cifar-resnet18", f"runs:/{run_id}/model", run_id=run_id)
    c.transition_model_version_stage("cifar-resnet18", 1, "Production")
    c.transition_model_version_stage("cifar-resnet18", 2, "Production", archive_existing_versions=True)
    c.transition_model_version_stage("cifar-resnet18", 3, "Staging")
    c.set_registered_model_alias("cifar-resnet18", "champion", 2)
    c.set_model_version_tag("cifar-resnet18", 2, "validated", "yes")


def build(root: Path) -> None:
    if root.exists():
        shutil.rmtree(root)
    b = Builder(root)
    c = b.client

    sweep = c.create_experiment("lr_sweep", tags={"team": "vision", "dataset": "cifar10"})
    parent = b.run(sweep, "sweep-resnet18", {"model": "resnet18", "search": "grid"}, 10, 0.01, 0.5)
    trials = {}
    for lr in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3):
        trials[lr] = b.run(
            sweep,
            f"resnet18-lr{lr:g}",
            {"model": "resnet18", "lr": lr, "batch_size": 128, "epochs": 30, "optimizer": "sgd"},
            300,
            lr,
            0.93 if lr < 0.3 else 0.8,
            tags={"mlflow.parentRunId": parent},
        )

    models = c.create_experiment("model_comparison", tags={"team": "vision"})
    for model, capacity in (("resnet18", 0.93), ("resnet50", 0.95), ("vit-tiny", 0.9), ("mobilenet_v3", 0.91)):
        for batch in (64, 256):
            b.run(
                models,
                f"{model}-bs{batch}",
                {"model": model, "lr": 0.01, "batch_size": batch, "epochs": 30, "optimizer": "adamw"},
                250,
                0.01 if batch == 64 else 0.006,
                capacity,
                tags={"mlflow.note.content": f"{model} baseline, batch {batch}"},
            )

    tabular = c.create_experiment("random_forest_tuning", tags={"team": "tabular"})
    for n, depth in ((100, 4), (100, 8), (300, 8), (300, 16), (1000, 16)):
        b.run(
            tabular,
            f"rf-{n}x{depth}",
            {"n_estimators": n, "max_depth": depth, "criterion": "gini"},
            40,
            0.05,
            0.85 + depth / 200,
        )

    ops = c.create_experiment("failures", tags={"team": "platform"})
    b.run(ops, "oom-at-epoch-3", {"model": "resnet152", "batch_size": 1024}, 300, 0.01, 0.9, "FAILED", stop_at=57)
    b.run(ops, "preempted", {"model": "resnet50", "batch_size": 256}, 300, 0.01, 0.95, "KILLED", stop_at=140)
    b.run(ops, "node-lost", {"model": "resnet50", "batch_size": 128}, 300, 0.01, 0.95, "RUNNING", stop_at=90)

    register_models(c, [trials[0.01], trials[0.03], trials[0.1]])
    c.flush()
    compact(root)
    shutil.rmtree(root / "locks", ignore_errors=True)


if __name__ == "__main__":
    os.environ["LOGNAME"] = os.environ["USER"] = "ana"  # the sample's one user, not whoever builds it
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "mlstore"
    build(target)
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    print(f"wrote {target} ({size / 1024:.0f} KiB)")
