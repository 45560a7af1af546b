"""``store.register_model``: MLflow's fluent way to register a model, on the current store."""

from __future__ import annotations

import sys
from typing import Any

from store.registry_entities import ModelVersion


def register_model(model_uri: str, name: str, tags: dict[str, Any] | None = None) -> ModelVersion:
    """Register ``model_uri`` (``runs:/<run_id>/model``, ``models:/...`` or a folder) as a new
    version of ``name``, creating the model when new; prints MLflow's two lines to stderr."""
    from store.fluent import client

    mv, created = client().register_model_version(model_uri, name, tags)
    if created:
        print(f"Successfully registered model '{mv.name}'.", file=sys.stderr)
    else:
        print(
            f"Registered model '{mv.name}' already exists. Creating a new version of this model...",
            file=sys.stderr,
        )
    print(f"Created version '{mv.version}' of model '{mv.name}'.", file=sys.stderr)
    return mv
