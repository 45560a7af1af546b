"""MLflow's validation rules for keys and values, applied once per distinct key.

The rules match MLflow (``mlflow/utils/validation.py``) so a script that logs into MLflow logs here
too, with two deliberate differences: values are never silently truncated (they are kept whole up
to ``MAX_VALUE_LENGTH`` and rejected beyond it), and NaN/±inf metric values survive exactly.
"""

from __future__ import annotations

import math
import posixpath
import re
from numbers import Real

from store.errors import ValidationError

KEY_PATTERN = re.compile(r"^[/\w.\- :]*$")
MAX_KEY_LENGTH = 250
MAX_VALUE_LENGTH = 1_000_000
MAX_EXPERIMENT_NAME_LENGTH = 500
RUN_ID_PATTERN = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
EXPERIMENT_ID_PATTERN = re.compile(r"^[a-zA-Z0-9][\w\-]{0,63}$")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_valid_keys: set[str] = set()


def validate_key(key: object, kind: str = "key") -> str:
    """Check a param, metric or tag name; remembered so the hot path pays once per key."""
    if type(key) is str and key in _valid_keys:
        return key
    if not isinstance(key, str):
        raise ValidationError(f"{kind} name must be a string, got {type(key).__name__}: {key!r}")
    if not key:
        raise ValidationError(f"{kind} name must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            f"{kind} name {key[:40]!r}... is {len(key)} characters long; "
            f"the limit is {MAX_KEY_LENGTH}"
        )
    if not KEY_PATTERN.match(key):
        raise ValidationError(
            f"invalid {kind} name {key!r}: names may only contain alphanumerics, underscores (_), "
            "dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)"
        )
    normal = posixpath.normpath(key)
    if normal != key or normal == "." or normal.startswith("..") or normal.startswith("/"):
        raise ValidationError(
            f"invalid {kind} name {key!r}: names are used as relative paths and must not "
            f"start with '/' or '..', end with '/' or contain '//' (it would resolve to {normal!r})"
        )
    _valid_keys.add(key)
    return key


def validate_value(key: str, value: object, kind: str) -> str:
    """Stringify a param or tag value as MLflow does and enforce the length limit."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_VALUE_LENGTH:
        raise ValidationError(
            f"{kind} {key!r}: value is {len(text):,} characters long; the limit is "
            f"{MAX_VALUE_LENGTH:,} (mltui never truncates values silently)"
        )
    return text


def metric_value(key: str, value: object) -> float:
    """Coerce a metric value to float like MLflow (ints, bools, numpy scalars, numeric strings)."""
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    else:
        try:
            return float(value)  # numpy 0-d arrays, torch scalars, Decimal
        except (TypeError, ValueError):
            pass
    raise ValidationError(
        f"metric {key!r}: value must be a number, got {type(value).__name__}: {value!r}"
    )


def metric_step(key: str, step: object) -> int:
    """Steps are int64, as in MLflow; a float step with no fraction is accepted."""
    if isinstance(step, bool):
        step = int(step)
    if isinstance(step, float) and step.is_integer():
        step = int(step)
    try:
        ok = int(step) == step  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValidationError(f"metric {key!r}: step must be an integer, got {step!r}")
    step = int(step)  # type: ignore[call-overload]
    if not INT64_MIN <= step <= INT64_MAX:
        raise ValidationError(f"metric {key!r}: step {step} does not fit in a 64-bit integer")
    return step


def metric_timestamp(key: str, timestamp: object) -> int:
    """Timestamps are non-negative milliseconds since the epoch, as in MLflow."""
    if isinstance(timestamp, float) and math.isfinite(timestamp):
        timestamp = int(timestamp)
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise ValidationError(
            f"metric {key!r}: timestamp must be an integer number of milliseconds, "
            f"got {timestamp!r}"
        )
    if not 0 <= timestamp <= INT64_MAX:
        raise ValidationError(f"metric {key!r}: timestamp must be a nonnegative 64-bit integer")
    return timestamp


def validate_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"experiment name must be a non-empty string, got {name!r}")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise ValidationError(
            f"experiment name is {len(name)} characters long; the limit is "
            f"{MAX_EXPERIMENT_NAME_LENGTH}"
        )
    return name


def validate_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
        raise ValidationError(
            f"invalid run id {run_id!r}: expected letters, digits, '_' or '-' (at most 256)"
        )
    return run_id


def validate_experiment_id(experiment_id: object) -> str:
    text = str(experiment_id)
    if not EXPERIMENT_ID_PATTERN.match(text):
        raise ValidationError(
            f"invalid experiment id {experiment_id!r}: expected letters, digits, '_' or '-'"
        )
    return text
